/**
 * The posture engine: holds the latest result per (benchmark, id), re-evaluates what an exec or a
 * file change touches, and reports status transitions. All inputs are injected (process facts,
 * a root prefix for files, a /proc root), so the same engine serves the event loop, the one-shot
 * `lanner posture` scan and tests on a temp tree.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeItem, describeLookup, evaluateItem, lookupFlag, lookupItem, statusOf, type AuditSources } from './audit';
import { basenameOf, isComponentName, recogniseComponent } from './components';
import type { PostureConfig } from './config';
import { COMPONENT_KIND, ENCRYPTION_PROVIDERS_CHECK, FLAG_CHECKS, type FlagCheck } from './controls';
import { evaluateEncryption } from './encryption';
import { FILE_CHECKS, expectedOf, judgeFiles, readNameTables, selectFiles, type FileCheck, type FileFacts, type PathKey } from './files';
import { CHECK_STATUSES, type Benchmark, type CheckResult, type CheckStatus, type Component, type PostureSummary, type ProcessInput, type StatusChange } from './types';

export interface PostureEngineOptions {
  /** Clock for result timestamps (tests). */
  readonly now?: () => number;
  /** Limits which pids `scanAll` considers (tests running stand-in processes next to others). */
  readonly processFilter?: (pid: number) => boolean;
}

export interface PostureStats {
  readonly processEvaluations: number;
  readonly fileEvaluations: number;
  readonly pathEventsQueued: number;
  readonly pathEventsCoalesced: number;
  readonly pathEventsDropped: number;
  readonly pendingPaths: number;
}

interface SeenProcess {
  readonly pid: number | undefined;
  readonly argv: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

type Listener = (change: StatusChange) => void;

const resultKey = (benchmark: Benchmark, id: string): string => `${benchmark} ${id}`;

function envMap(entries: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

function readNulList(path: string): string[] | undefined {
  try {
    const raw = readFileSync(path);
    if (raw.length === 0) return [];
    return raw.toString('utf8').replace(/\0+$/, '').split('\0');
  } catch {
    return undefined;
  }
}

export class PostureEngine {
  private readonly cfg: PostureConfig;
  private readonly now: () => number;
  private readonly processFilter: ((pid: number) => boolean) | undefined;
  private readonly results = new Map<string, CheckResult>();
  private readonly listeners = new Set<Listener>();
  private readonly seen = new Map<Component, SeenProcess>();
  /** Paths the running components point at (kubelet --config, etcd --data-dir, …), logical form. */
  private readonly discovered = new Map<PathKey, string>();
  /** Component config files (kubelet/kube-proxy --config, encryption config), logical path → component. */
  private readonly componentFiles = new Map<string, Component>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private watched: Set<string> = new Set();
  private watchedDirs: string[] = [];
  private rescanTimer: NodeJS.Timeout | undefined;
  private counters = { processEvaluations: 0, fileEvaluations: 0, pathEventsQueued: 0, pathEventsCoalesced: 0, pathEventsDropped: 0 };

  constructor(cfg: PostureConfig, opts: PostureEngineOptions = {}) {
    this.cfg = cfg;
    this.now = opts.now ?? Date.now;
    this.processFilter = opts.processFilter;
    this.rebuildWatched();
  }

  /** Subscribes to status transitions (including the first result, with `from: null`); returns an unsubscribe. */
  onStatusChange(cb: Listener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Latest results, ordered by benchmark then id. */
  allResults(): CheckResult[] {
    return [...this.results.values()].sort((a, b) => (a.benchmark === b.benchmark ? compareIds(a.id, b.id) : a.benchmark < b.benchmark ? -1 : 1));
  }

  result(benchmark: Benchmark, id: string): CheckResult | undefined {
    return this.results.get(resultKey(benchmark, id));
  }

  /** Counts by status per benchmark, for the posture gauge. */
  summary(): PostureSummary {
    const out: PostureSummary = {};
    for (const b of this.cfg.benchmarks) out[b] = { PASS: 0, FAIL: 0, WARN: 0, INFO: 0 };
    for (const r of this.results.values()) {
      const counts = out[r.benchmark];
      if (counts) counts[r.status]++;
    }
    return out;
  }

  stats(): PostureStats {
    return { ...this.counters, pendingPaths: this.pending.size };
  }

  // ---- hot-path predicates -------------------------------------------------------------------

  /** True when an exec is a Kubernetes component (Set lookups on comm and the exe basename). */
  isPostureRelevantExec(comm: string, exePath: string): boolean {
    return isComponentName(comm) || isComponentName(basenameOf(exePath));
  }

  /** Paths whose change re-evaluates checks: files, and directories whose whole tree is audited. */
  watchedPaths(): ReadonlySet<string> {
    return this.watched;
  }

  /** True when a write/chmod/chown/rename/unlink of `path` can change a result. */
  isWatchedPath(path: string): boolean {
    if (this.watched.has(path)) return true;
    for (const d of this.watchedDirs) if (path.length > d.length && path.charCodeAt(d.length) === 47 && path.startsWith(d)) return true;
    return false;
  }

  /**
   * Records a change to `path`; the re-evaluation runs once per path after `debounce_ms`, so a
   * burst of writes costs one stat/parse. Returns false when the path is not watched or the
   * pending set is full (counted).
   */
  notePathEvent(path: string): boolean {
    if (!this.isWatchedPath(path)) return false;
    if (this.pending.has(path)) {
      this.counters.pathEventsCoalesced++;
      return true;
    }
    if (this.pending.size >= this.cfg.max_pending) {
      this.counters.pathEventsDropped++;
      return false;
    }
    this.counters.pathEventsQueued++;
    const timer = setTimeout(() => {
      this.pending.delete(path);
      this.evaluateFile(path);
    }, this.cfg.debounce_ms);
    timer.unref();
    this.pending.set(path, timer);
    return true;
  }

  /** Starts the periodic rescan (if configured). */
  start(): void {
    if (this.cfg.rescan_interval_s > 0 && !this.rescanTimer) {
      this.rescanTimer = setInterval(() => this.scanAll(), this.cfg.rescan_interval_s * 1000);
      this.rescanTimer.unref();
    }
  }

  close(): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = undefined;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  // ---- evaluation ------------------------------------------------------------------------------

  /** Audits one process; returns the results it produced (empty when it is not a component). */
  evaluateProcess(input: ProcessInput): CheckResult[] {
    const rec = recogniseComponent(input.comm, input.exePath, input.argv);
    if (!rec) return [];
    this.counters.processEvaluations++;
    let envEntries = input.env;
    if (envEntries === undefined && input.pid !== undefined) envEntries = readNulList(join(this.cfg.proc_root, String(input.pid), 'environ'));
    const seen: SeenProcess = { pid: input.pid, argv: rec.argv, env: envMap(envEntries ?? []) };
    this.seen.set(rec.component, seen);
    this.learnPaths(rec.component, seen);
    const out = this.evaluateComponent(rec.component, seen);
    out.push(...this.evaluateFileChecks(() => true));
    return out;
  }

  /**
   * Re-evaluates everything that depends on `path` (a logical host path or one under the root
   * prefix): its file checks, and the component whose config file it is.
   */
  evaluateFile(path: string): CheckResult[] {
    this.counters.fileEvaluations++;
    const logical = this.toLogical(path);
    const out: CheckResult[] = [];
    const component = this.componentFiles.get(logical);
    if (component) {
      const seen = this.seen.get(component);
      if (seen) out.push(...this.evaluateComponent(component, seen));
    }
    out.push(
      ...this.evaluateFileChecks((check) =>
        check.targets.some((t) => {
          const target = this.pathOf(t);
          return logical === target || logical.startsWith(target.endsWith('/') ? target : `${target}/`);
        }),
      ),
    );
    return out;
  }

  /** Walks /proc for running components, then audits every known file. */
  scanAll(): CheckResult[] {
    const out: CheckResult[] = [];
    const found = new Set<Component>();
    let pids: string[] = [];
    try {
      pids = readdirSync(this.cfg.proc_root).filter((n) => /^\d+$/.test(n));
    } catch {
      // No /proc (unusual container setups): file checks still run.
    }
    pids.sort((a, b) => Number(a) - Number(b));
    for (const p of pids) {
      const pid = Number(p);
      if (this.processFilter && !this.processFilter(pid)) continue;
      const dir = join(this.cfg.proc_root, p);
      let comm: string;
      try {
        comm = readFileSync(join(dir, 'comm'), 'utf8').trim();
      } catch {
        continue;
      }
      let exePath = '';
      try {
        exePath = readlinkSync(join(dir, 'exe'));
      } catch {
        // Kernel threads and other users' processes without ptrace access have no readable exe.
      }
      if (!isComponentName(comm) && !isComponentName(basenameOf(exePath))) continue;
      const argv = readNulList(join(dir, 'cmdline'));
      if (!argv || argv.length === 0) continue;
      const rec = recogniseComponent(comm, exePath, argv);
      if (!rec) continue;
      found.add(rec.component);
      const env = readNulList(join(dir, 'environ'));
      const seen: SeenProcess = { pid, argv: rec.argv, env: envMap(env ?? []) };
      this.counters.processEvaluations++;
      this.seen.set(rec.component, seen);
      this.learnPaths(rec.component, seen);
      out.push(...this.evaluateComponent(rec.component, seen));
    }
    for (const component of [...this.seen.keys()]) {
      if (!found.has(component)) out.push(...this.componentGone(component));
    }
    out.push(...this.evaluateFileChecks(() => true));
    return out;
  }

  // ---- internals -------------------------------------------------------------------------------

  private toLogical(path: string): string {
    const root = this.cfg.root;
    if (root !== '/' && path.startsWith(root) && (path.length === root.length || path.charCodeAt(root.length) === 47)) {
      return path.slice(root.length) || '/';
    }
    return path;
  }

  private real(logical: string): string {
    return this.cfg.root === '/' ? logical : join(this.cfg.root, logical);
  }

  /** Reads a file a process names: under the root prefix, else through the process's own root. */
  private readReferenced(logical: string, pid: number | undefined): { text?: string; error?: string } {
    const candidates = [this.real(logical)];
    if (pid !== undefined) candidates.push(join(this.cfg.proc_root, String(pid), 'root', logical));
    let error = 'missing';
    for (const c of candidates) {
      try {
        return { text: readFileSync(c, 'utf8') };
      } catch (err) {
        error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      }
    }
    return { error };
  }

  private pathOf(key: PathKey): string {
    return this.discovered.get(key) ?? this.cfg.paths[key];
  }

  private absolute(p: string, seen: SeenProcess): string {
    if (p.startsWith('/')) return posix.normalize(p);
    // Relative paths resolve against the process's cwd, which only /proc knows.
    if (seen.pid !== undefined) {
      try {
        return posix.normalize(posix.join(readlinkSync(join(this.cfg.proc_root, String(seen.pid), 'cwd')), p));
      } catch {
        // fall through
      }
    }
    return posix.normalize(`/${p}`);
  }

  /** Learns the file locations a component's flags point at, and re-derives the watch set. */
  private learnPaths(component: Component, seen: SeenProcess): void {
    const flag = (name: string): string | undefined => {
      const l = lookupFlag(seen.argv, name, true);
      return l.found && l.value !== 'true' ? this.absolute(l.value, seen) : undefined;
    };
    for (const [file, owner] of [...this.componentFiles]) if (owner === component) this.componentFiles.delete(file);
    const setDiscovered = (key: PathKey, value: string | undefined): void => {
      if (value) this.discovered.set(key, value);
      else this.discovered.delete(key);
    };
    switch (component) {
      case 'kube-apiserver': {
        const enc = flag('encryption-provider-config');
        if (enc) this.componentFiles.set(enc, component);
        break;
      }
      case 'etcd': {
        const env = seen.env.get('ETCD_DATA_DIR');
        setDiscovered('etcd_data_dir', flag('data-dir') ?? (env ? this.absolute(env, seen) : undefined));
        break;
      }
      case 'kubelet': {
        const config = flag('config');
        setDiscovered('kubelet_config', config);
        this.componentFiles.set(config ?? this.cfg.paths.kubelet_config, component);
        setDiscovered('kubelet_kubeconfig', flag('kubeconfig'));
        const parsed = this.parseConfig(this.pathOf('kubelet_config'), seen.pid);
        const caFromConfig = parsed && typeof parsed === 'object' ? deepGet(parsed, ['authentication', 'x509', 'clientCAFile']) : undefined;
        setDiscovered('kubelet_ca', flag('client-ca-file') ?? (typeof caFromConfig === 'string' && caFromConfig ? this.absolute(caFromConfig, seen) : undefined));
        break;
      }
      case 'kube-proxy': {
        const config = flag('config');
        if (config) this.componentFiles.set(config, component);
        setDiscovered('proxy_kubeconfig', flag('kubeconfig'));
        break;
      }
      default:
        break;
    }
    this.rebuildWatched();
  }

  private rebuildWatched(): void {
    const logical = new Set<string>();
    const dirs = new Set<string>();
    for (const key of Object.keys(this.cfg.paths) as PathKey[]) {
      const p = this.pathOf(key);
      logical.add(p);
      if (key === 'pki_dir' || key === 'cni_conf_dir' || key === 'etcd_data_dir') dirs.add(p);
    }
    for (const f of this.componentFiles.keys()) logical.add(f);
    const watched = new Set<string>();
    for (const p of logical) {
      watched.add(p);
      watched.add(this.real(p));
    }
    const watchedDirs: string[] = [];
    for (const d of dirs) {
      watchedDirs.push(d);
      if (this.cfg.root !== '/') watchedDirs.push(this.real(d));
    }
    this.watched = watched;
    this.watchedDirs = watchedDirs;
  }

  private parseConfig(logical: string, pid: number | undefined): unknown {
    const { text } = this.readReferenced(logical, pid);
    if (text === undefined) return undefined;
    try {
      return parseYaml(text) as unknown;
    } catch {
      return undefined;
    }
  }

  private evaluateComponent(component: Component, seen: SeenProcess): CheckResult[] {
    const sources: AuditSources = { argv: seen.argv, env: seen.env, config: this.componentConfig(component, seen) };
    const subject = `${component}${seen.pid !== undefined ? ` (pid ${seen.pid})` : ''}`;
    const out: CheckResult[] = [];
    for (const check of FLAG_CHECKS[component]) out.push(...this.evaluateFlagCheck(check, sources, subject));
    if (component === 'kube-apiserver') out.push(...this.evaluateEncryptionCheck(seen, subject));
    return out;
  }

  private componentConfig(component: Component, seen: SeenProcess): unknown {
    if (component !== 'kubelet' && component !== 'kube-proxy') return undefined;
    const l = lookupFlag(seen.argv, 'config', true);
    const path = l.found ? this.absolute(l.value, seen) : component === 'kubelet' ? this.cfg.paths.kubelet_config : undefined;
    return path ? this.parseConfig(path, seen.pid) : undefined;
  }

  private evaluateFlagCheck(check: FlagCheck, sources: AuditSources, subject: string): CheckResult[] {
    const lookups = check.items.map((item) => lookupItem(item, sources));
    const passes = check.items.map((item, i) => evaluateItem(item, lookups[i]!));
    const passed = check.binOp === 'and' ? passes.every(Boolean) : passes.some(Boolean);
    const status = statusOf(passed, check.scored, check.manual === true);
    // Items of an or-check often probe the same flag; show each distinct lookup once.
    const actual = [...new Set(check.items.map((item, i) => describeLookup(item, lookups[i]!)))].join('; ');
    const expected = check.items.map(describeItem).join(check.binOp === 'and' ? ' and ' : ' or ');
    return this.record(check.ids, { text: check.text, scored: check.scored, status, actual, expected, remediation: check.remediation, subject, kind: COMPONENT_KIND[check.component], group: check.group });
  }

  private evaluateEncryptionCheck(seen: SeenProcess, subject: string): CheckResult[] {
    const l = lookupFlag(seen.argv, 'encryption-provider-config', true);
    const flagValue = l.found && l.value !== 'true' ? this.absolute(l.value, seen) : undefined;
    const read = flagValue ? this.readReferenced(flagValue, seen.pid) : {};
    const verdict = evaluateEncryption(flagValue, read.text, read.error);
    const c = ENCRYPTION_PROVIDERS_CHECK;
    return this.record(c.ids, {
      text: c.text,
      scored: c.scored,
      status: verdict.status,
      actual: verdict.actual,
      expected: 'first provider for secrets is aescbc, secretbox or kms (aesgcm passes with a note); never identity',
      remediation: c.remediation,
      subject: flagValue ? `${subject} ${flagValue}` : subject,
      kind: 'master',
      group: c.group,
      ...(verdict.note !== undefined ? { note: verdict.note } : {}),
    });
  }

  private evaluateFileChecks(which: (check: FileCheck) => boolean): CheckResult[] {
    const names = readNameTables(this.cfg.root);
    const out: CheckResult[] = [];
    for (const check of FILE_CHECKS) {
      if (!which(check)) continue;
      const files: FileFacts[] = [];
      let anyPresent = false;
      for (const t of check.targets) {
        const got = selectFiles(this.real(this.pathOf(t)), check.select, names);
        if (got) {
          anyPresent = true;
          files.push(...got.map((f) => ({ ...f, path: this.toLogical(f.path) })));
        }
      }
      const shown = check.targets.map((t) => this.pathOf(t)).join(' ');
      const base = { text: check.text, scored: check.scored, expected: expectedOf(check), remediation: check.remediation, subject: shown, kind: check.kind, group: check.group };
      if (!anyPresent) {
        // kube-bench audits node files only on a node: an absent kubelet unit passes only when a kubelet runs.
        if (check.absentPasses && this.kindSeen(check.kind)) out.push(...this.record(check.ids, { ...base, status: 'PASS', actual: `${shown} not present` }));
        else out.push(...this.forget(check.ids, `${shown} not present`));
        continue;
      }
      const verdict = judgeFiles(check, files);
      out.push(...this.record(check.ids, { ...base, status: verdict.status, actual: verdict.actual }));
    }
    return out;
  }

  private kindSeen(kind: FileCheck['kind']): boolean {
    for (const c of this.seen.keys()) if (COMPONENT_KIND[c] === kind) return true;
    return false;
  }

  /** A component that stopped running: its command-line results become INFO. */
  private componentGone(component: Component): CheckResult[] {
    this.seen.delete(component);
    const out: CheckResult[] = [];
    const checks = [...FLAG_CHECKS[component]];
    for (const check of checks) out.push(...this.forget(check.ids, `${component} not running`));
    if (component === 'kube-apiserver') out.push(...this.forget(ENCRYPTION_PROVIDERS_CHECK.ids, `${component} not running`));
    return out;
  }

  /** Moves existing results to INFO (the audited thing disappeared); never creates new ones. */
  private forget(ids: Partial<Record<Benchmark, string>>, actual: string): CheckResult[] {
    const out: CheckResult[] = [];
    for (const b of this.cfg.benchmarks) {
      const id = ids[b];
      if (id === undefined) continue;
      const prev = this.results.get(resultKey(b, id));
      if (!prev || prev.status === 'INFO') continue;
      const next: CheckResult = { ...prev, status: 'INFO', actual, evaluatedAtMs: this.now() };
      this.store(prev, next);
      out.push(next);
    }
    return out;
  }

  private record(ids: Partial<Record<Benchmark, string>>, body: Omit<CheckResult, 'benchmark' | 'id' | 'evaluatedAtMs'>): CheckResult[] {
    const out: CheckResult[] = [];
    for (const b of this.cfg.benchmarks) {
      const id = ids[b];
      if (id === undefined) continue;
      const next: CheckResult = { benchmark: b, id, ...body, evaluatedAtMs: this.now() };
      this.store(this.results.get(resultKey(b, id)), next);
      out.push(next);
    }
    return out;
  }

  private store(prev: CheckResult | undefined, next: CheckResult): void {
    this.results.set(resultKey(next.benchmark, next.id), next);
    if (prev && prev.status === next.status) return;
    const change: StatusChange = {
      benchmark: next.benchmark,
      id: next.id,
      text: next.text,
      from: prev ? prev.status : null,
      to: next.status,
      actual: next.actual,
      expected: next.expected,
      remediation: next.remediation,
      scored: next.scored,
      subject: next.subject,
    };
    for (const l of this.listeners) l(change);
  }
}

function deepGet(obj: unknown, path: readonly string[]): unknown {
  let node = obj;
  for (const k of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}

/** Orders `1.2.10` after `1.2.9`. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export function emptyCounts(): Record<CheckStatus, number> {
  return Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0])) as Record<CheckStatus, number>;
}
