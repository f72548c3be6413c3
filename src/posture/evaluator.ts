/**
 * The posture engine: holds the latest result per (benchmark, id), re-evaluates what an exec or a
 * file change touches, and reports status transitions. All inputs are injected (process facts,
 * a root prefix for files, a /proc root), so the same engine serves the event loop, the one-shot
 * `lanner posture` scan and tests on a temp tree.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeItem, describeLookup, evaluateItem, lookupFlag, lookupItem, statusOf, type AuditSources } from './audit';
import { judgeAuditPolicy } from './audit-policy';
import { compareValue } from './compare';
import { basenameOf, isComponentName, recogniseComponent } from './components';
import { activeBenchmarks, type PostureConfig } from './config';
import { AUDIT_POLICY_CHECK, COMPONENT_KIND, ENCRYPTION_PROVIDERS_CHECK, FLAG_CHECKS, type FlagCheck } from './controls';
import { defaultsFor } from './defaults';
import { evaluateEncryption, judgeEncryptionKeys } from './encryption';
import { FILE_CHECKS, expectedOf, judgeFiles, readNameTables, selectFiles, selectSystemdUnit, systemdUnitTargets, type FileCheck, type FileFacts, type PathKey } from './files';
import { HOST_CHECKS, runHostCheck, type HostCheck } from './host-checks';
import { HostFs } from './hostfs';
import { kubeletEffectiveConfig } from './kubelet';
import { judgeSysctls, KUBELET_SYSCTLS, MAC_PATHS, NODE_CHECKS, sysctlPath } from './node';
import { PostureResults } from './results';
import type { Benchmark, CheckResult, Component, PostureSummary, ProcessInput, StatusChange } from './types';

export { compareIds, emptyCounts } from './results';

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
  private readonly results: PostureResults;
  private readonly fs: HostFs;
  private readonly seen = new Map<Component, SeenProcess>();
  /** Paths the running components point at (kubelet --config, etcd --data-dir, …), logical form. */
  private readonly discovered = new Map<PathKey, string>();
  /** Component config files (kubelet/kube-proxy --config, encryption config), logical path → component. */
  private readonly componentFiles = new Map<string, Component>();
  /** Component config directories (kubelet --config-dir), logical path → component. */
  private readonly componentDirs = new Map<string, Component>();
  /** Files and directories of the host-level node checks (sshd includes, sysfs), logical path → check. */
  private readonly hostFiles = new Map<HostCheck, readonly string[]>();
  private readonly hostDirs = new Map<HostCheck, readonly string[]>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private watched: Set<string> = new Set();
  private watchedDirs: string[] = [];
  private rescanTimer: NodeJS.Timeout | undefined;
  private counters = { processEvaluations: 0, fileEvaluations: 0, pathEventsQueued: 0, pathEventsCoalesced: 0, pathEventsDropped: 0 };

  constructor(cfg: PostureConfig, opts: PostureEngineOptions = {}) {
    this.cfg = cfg;
    this.now = opts.now ?? Date.now;
    this.results = new PostureResults(activeBenchmarks(cfg), this.now);
    this.fs = new HostFs(cfg.root, cfg.proc_root);
    this.processFilter = opts.processFilter;
    this.rebuildWatched();
  }

  /** Subscribes to status transitions (including the first result, with `from: null`); returns an unsubscribe. */
  onStatusChange(cb: Listener): () => void {
    return this.results.onStatusChange(cb);
  }

  /** The benchmarks this engine reports (the configured CIS ones, then `lanner-node` when node checks are on). */
  reportedBenchmarks(): readonly Benchmark[] {
    return this.results.benchmarks;
  }

  /** Latest results, ordered by benchmark then id. */
  allResults(): CheckResult[] {
    return this.results.all();
  }

  result(benchmark: Benchmark, id: string): CheckResult | undefined {
    return this.results.get(benchmark, id);
  }

  /** Counts by status per benchmark, for the posture gauge. */
  summary(): PostureSummary {
    return this.results.summary();
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
    for (const d of this.watchedDirs) if (isUnder(path, d)) return true;
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
    const logical = this.fs.toLogical(path);
    const out: CheckResult[] = [];
    const components = new Set<Component>();
    const direct = this.componentFiles.get(logical);
    if (direct) components.add(direct);
    for (const [dir, c] of this.componentDirs) if (isUnder(logical, dir)) components.add(c);
    // Sysctls are read through proc_root; writers name them /proc/sys/...
    const procLogical = path.startsWith(`${this.cfg.proc_root}/sys/`) ? `/proc${path.slice(this.cfg.proc_root.length)}` : logical;
    if (this.seen.has('kubelet') && Object.keys(KUBELET_SYSCTLS).some((n) => sysctlPath(n) === procLogical)) components.add('kubelet');
    for (const component of components) {
      const seen = this.seen.get(component);
      if (seen) out.push(...this.evaluateComponent(component, seen));
    }
    for (const h of HOST_CHECKS) {
      if (this.hostFiles.get(h)?.includes(logical) || this.hostDirs.get(h)?.some((d) => isUnder(logical, d))) out.push(...this.evaluateHost(h));
    }
    out.push(...this.evaluateFileChecks((check) => check.targets.some((t) => this.targetPaths(t, check).some((target) => logical === target || isUnder(logical, target)))));
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
    for (const h of HOST_CHECKS) out.push(...this.evaluateHost(h));
    return out;
  }

  // ---- internals -------------------------------------------------------------------------------

  private pathOf(key: PathKey): string {
    return this.discovered.get(key) ?? this.cfg.paths[key];
  }

  /** Logical paths (files or directories) a file check's target covers. */
  private targetPaths(key: PathKey, check: FileCheck): string[] {
    const p = this.pathOf(key);
    if (check.select !== 'systemd-unit') return [p];
    const { files, dropInDirs } = systemdUnitTargets(p);
    return [...files, ...dropInDirs];
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

  /** A path-valued flag of the process, absolute; undefined when absent or bare. */
  private flagPath(seen: SeenProcess, name: string): string | undefined {
    const l = lookupFlag(seen.argv, name, true);
    return l.found && l.value !== 'true' ? this.absolute(l.value, seen) : undefined;
  }

  /** Learns the file locations a component's flags point at, and re-derives the watch set. */
  private learnPaths(component: Component, seen: SeenProcess): void {
    const flag = (name: string): string | undefined => this.flagPath(seen, name);
    for (const [file, owner] of [...this.componentFiles]) if (owner === component) this.componentFiles.delete(file);
    for (const [dir, owner] of [...this.componentDirs]) if (owner === component) this.componentDirs.delete(dir);
    const setDiscovered = (key: PathKey, value: string | undefined): void => {
      if (value) this.discovered.set(key, value);
      else this.discovered.delete(key);
    };
    const watchFile = (p: string | undefined): void => {
      if (p) this.componentFiles.set(p, component);
    };
    switch (component) {
      case 'kube-apiserver':
        watchFile(flag('encryption-provider-config'));
        watchFile(flag('audit-policy-file'));
        break;
      case 'etcd': {
        const env = seen.env.get('ETCD_DATA_DIR');
        setDiscovered('etcd_data_dir', flag('data-dir') ?? (env ? this.absolute(env, seen) : undefined));
        watchFile(flag('config-file'));
        break;
      }
      case 'kubelet': {
        // Without --config the kubelet reads no config file: nothing at the kubeadm path is its config.
        const config = flag('config');
        setDiscovered('kubelet_config', config);
        watchFile(config);
        const dir = flag('config-dir');
        if (dir) this.componentDirs.set(dir, component);
        setDiscovered('kubelet_kubeconfig', flag('kubeconfig'));
        const effective = this.kubeletConfig(seen).config;
        const caFromConfig = effective ? deepGet(effective, ['authentication', 'x509', 'clientCAFile']) : undefined;
        setDiscovered('kubelet_ca', flag('client-ca-file') ?? (typeof caFromConfig === 'string' && caFromConfig ? this.absolute(caFromConfig, seen) : undefined));
        break;
      }
      case 'kube-proxy':
        watchFile(flag('config'));
        setDiscovered('proxy_kubeconfig', flag('kubeconfig'));
        break;
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
      if (key === 'kubelet_service') {
        const { files, dropInDirs } = systemdUnitTargets(p);
        for (const f of files) logical.add(f);
        for (const d of dropInDirs) dirs.add(d);
        continue;
      }
      if ((key === 'sshd_config' || key === 'sshd') && !this.cfg.node_checks) continue;
      logical.add(p);
      if (key === 'pki_dir' || key === 'cni_conf_dir' || key === 'etcd_data_dir') dirs.add(p);
    }
    for (const f of this.componentFiles.keys()) logical.add(f);
    for (const d of this.componentDirs.keys()) dirs.add(d);
    for (const files of this.hostFiles.values()) for (const f of files) logical.add(f);
    for (const ds of this.hostDirs.values()) for (const d of ds) dirs.add(d);
    if (this.cfg.node_checks) {
      // Known before the first scan, so the kernel's open filter (built from watchedPaths) lets them through.
      dirs.add(posix.join(posix.dirname(this.cfg.paths.sshd_config), 'sshd_config.d'));
      for (const f of [MAC_PATHS.apparmor, MAC_PATHS.selinux]) logical.add(f);
    }
    const watched = new Set<string>();
    // Directories are watched as prefixes: a change anywhere below them counts.
    for (const p of [...logical, ...dirs]) {
      watched.add(p);
      watched.add(this.fs.real(p));
    }
    if (this.cfg.node_checks) {
      // Writers name sysctls /proc/sys/...; the engine reads them through proc_root.
      for (const name of Object.keys(KUBELET_SYSCTLS)) {
        const p = sysctlPath(name);
        watched.add(p);
        watched.add(join(this.cfg.proc_root, p.slice('/proc'.length)));
      }
    }
    const watchedDirs: string[] = [];
    for (const d of dirs) {
      watchedDirs.push(d);
      if (this.cfg.root !== '/') watchedDirs.push(this.fs.real(d));
    }
    this.watched = watched;
    this.watchedDirs = watchedDirs;
  }

  private parseConfig(logical: string, pid: number | undefined): unknown {
    const { text } = this.fs.read(logical, pid);
    if (text === undefined) return undefined;
    try {
      return parseYaml(text) as unknown;
    } catch {
      return undefined;
    }
  }

  private kubeletConfig(seen: SeenProcess): ReturnType<typeof kubeletEffectiveConfig> {
    return kubeletEffectiveConfig({
      configFile: this.flagPath(seen, 'config'),
      configDir: this.flagPath(seen, 'config-dir'),
      read: (p) => this.fs.read(p, seen.pid).text,
      list: (p) => this.fs.list(p, seen.pid),
    });
  }

  /** What a component's checks read: its command line, its config file(s), environment and defaults. */
  private auditSources(component: Component, seen: SeenProcess): AuditSources {
    switch (component) {
      case 'kubelet': {
        const k = this.kubeletConfig(seen);
        return { argv: seen.argv, env: seen.env, config: k.config, defaults: defaultsFor('kubelet', k.mode) };
      }
      case 'kube-proxy': {
        const config = this.flagPath(seen, 'config');
        return { argv: seen.argv, env: seen.env, config: config ? this.parseConfig(config, seen.pid) : undefined, defaults: defaultsFor(component) };
      }
      case 'etcd': {
        // With --config-file etcd ignores its other flags and its environment.
        const file = this.flagPath(seen, 'config-file');
        if (file) return { argv: seen.argv.slice(0, 1), env: new Map(), config: this.parseConfig(file, seen.pid) ?? {}, defaults: defaultsFor(component) };
        return { argv: seen.argv, env: seen.env, defaults: defaultsFor(component) };
      }
      default:
        return { argv: seen.argv, env: seen.env, defaults: defaultsFor(component) };
    }
  }

  private evaluateComponent(component: Component, seen: SeenProcess): CheckResult[] {
    const sources = this.auditSources(component, seen);
    const subject = `${component}${seen.pid !== undefined ? ` (pid ${seen.pid})` : ''}`;
    const out: CheckResult[] = [];
    for (const check of FLAG_CHECKS[component]) out.push(...this.evaluateFlagCheck(check, sources, subject));
    if (component === 'kube-apiserver') out.push(...this.evaluateEncryptionChecks(seen, subject), ...this.evaluateAuditPolicy(seen, subject));
    if (component === 'kubelet') {
      const v = judgeSysctls(this.cfg.proc_root);
      out.push(...this.results.recordNode(NODE_CHECKS.kernelSysctls, v.passed, v.actual, `${join(this.cfg.proc_root, 'sys')} (for ${subject})`));
    }
    return out;
  }

  private evaluateFlagCheck(check: FlagCheck, sources: AuditSources, subject: string): CheckResult[] {
    const lookups = check.items.map((item) => lookupItem(item, sources));
    const passes = check.items.map((item, i) => evaluateItem(item, lookups[i]!));
    const passed = check.binOp === 'and' ? passes.every(Boolean) : passes.some(Boolean);
    const status = statusOf(passed, check.scored, check.manual === true);
    // Items of an or-check often probe the same flag; show each distinct lookup once.
    const actual = [...new Set(check.items.map((item, i) => describeLookup(item, lookups[i]!)))].join('; ');
    const expected = check.items.map(describeItem).join(check.binOp === 'and' ? ' and ' : ' or ');
    return this.results.record(check.ids, { text: check.text, scored: check.scored, status, actual, expected, remediation: check.remediation, subject, kind: COMPONENT_KIND[check.component] });
  }

  /** CIS 1.2.28 (the provider writing secrets) and Lanner's L.3.1/L.3.2 (the file itself). */
  private evaluateEncryptionChecks(seen: SeenProcess, subject: string): CheckResult[] {
    const flagValue = this.flagPath(seen, 'encryption-provider-config');
    const read = flagValue ? this.fs.read(flagValue, seen.pid) : {};
    const verdict = evaluateEncryption(flagValue, read.text, read.error);
    const c = ENCRYPTION_PROVIDERS_CHECK;
    const fileSubject = flagValue ? `${subject} ${flagValue}` : subject;
    const out = this.results.record(c.ids, {
      text: c.text,
      scored: c.scored,
      // Not scored: a failure is a WARN, as kube-bench reports it.
      status: verdict.status === 'FAIL' ? statusOf(false, c.scored, false) : verdict.status,
      actual: verdict.actual,
      expected: 'first provider for secrets is aescbc, secretbox or kms (aesgcm passes with a note); never identity',
      remediation: c.remediation,
      subject: fileSubject,
      kind: 'master',
      ...(verdict.note !== undefined ? { note: verdict.note } : {}),
    });
    const fileChecks = [NODE_CHECKS.encryptionFile, NODE_CHECKS.encryptionKeys];
    if (!flagValue) return [...out, ...this.results.forgetNode(fileChecks, '--encryption-provider-config not set')];
    if (read.text === undefined || read.realPath === undefined) {
      const why = `${flagValue} cannot be read (${read.error ?? 'missing'})`;
      return [...out, ...fileChecks.flatMap((n) => this.results.recordNode(n, false, why, fileSubject))];
    }
    const st = statSync(read.realPath);
    const names = readNameTables(this.cfg.root);
    const mode = (st.mode & 0o7777).toString(8);
    const owner = `${names.users.get(st.uid) ?? st.uid}:${names.groups.get(st.gid) ?? st.gid}`;
    const fileOk = compareValue(mode, { op: 'bitmask', value: '600' }) && owner === 'root:root';
    const keys = judgeEncryptionKeys(read.text);
    return [
      ...out,
      ...this.results.recordNode(NODE_CHECKS.encryptionFile, fileOk, `${flagValue} mode ${mode} owner ${owner}`, fileSubject),
      ...this.results.recordNode(NODE_CHECKS.encryptionKeys, keys.passed, keys.actual, fileSubject),
    ];
  }

  /** CIS 3.2.1, with the policy file read: it must be an audit Policy with rules. */
  private evaluateAuditPolicy(seen: SeenProcess, subject: string): CheckResult[] {
    const c = AUDIT_POLICY_CHECK;
    const file = this.flagPath(seen, 'audit-policy-file');
    let passed = false;
    let actual = '--audit-policy-file not set';
    if (file) {
      const read = this.fs.read(file, seen.pid);
      const v = read.text === undefined ? { passed: false, actual: `cannot read (${read.error ?? 'missing'})` } : judgeAuditPolicy(read.text);
      passed = v.passed;
      actual = `${file}: ${v.actual}`;
    }
    return this.results.record(c.ids, { text: c.text, scored: c.scored, status: statusOf(passed, c.scored, false), actual, expected: c.expected, remediation: c.remediation, subject, kind: 'controlplane' });
  }

  /** sshd settings or the MAC state; also refreshes the files that re-trigger them. */
  private evaluateHost(which: HostCheck): CheckResult[] {
    if (!this.cfg.node_checks) return [];
    const run = runHostCheck(which, this.cfg, this.fs, this.results);
    this.hostFiles.set(which, run.files);
    this.hostDirs.set(which, run.dirs);
    this.rebuildWatched();
    return run.results;
  }

  private evaluateFileChecks(which: (check: FileCheck) => boolean): CheckResult[] {
    const names = readNameTables(this.cfg.root);
    const out: CheckResult[] = [];
    const real = (p: string): string => this.fs.real(p);
    for (const check of FILE_CHECKS) {
      if (!which(check)) continue;
      const files: FileFacts[] = [];
      let anyPresent = false;
      for (const t of check.targets) {
        const got = check.select === 'systemd-unit' ? selectSystemdUnit(this.pathOf(t), real, names) : selectFiles(real(this.pathOf(t)), check.select, names);
        if (got) {
          anyPresent = true;
          files.push(...got.map((f) => ({ ...f, path: this.fs.toLogical(f.path) })));
        }
      }
      const shown = check.select === 'systemd-unit' && anyPresent ? files.map((f) => f.path).join(' ') : check.targets.map((t) => this.pathOf(t)).join(' ');
      const base = { text: check.text, scored: check.scored, expected: expectedOf(check), remediation: check.remediation, subject: shown, kind: check.kind };
      if (!anyPresent) {
        // kube-bench audits node files only on a node: an absent kubelet unit passes only when a kubelet runs.
        if (check.absentPasses && this.kindSeen(check.kind)) out.push(...this.results.record(check.ids, { ...base, status: 'PASS', actual: `${shown} not present` }));
        else out.push(...this.results.forget(check.ids, `${shown} not present`));
        continue;
      }
      const verdict = judgeFiles(check, files);
      out.push(...this.results.record(check.ids, { ...base, status: verdict.status, actual: verdict.actual }));
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
    const gone = `${component} not running`;
    const out: CheckResult[] = [];
    for (const check of FLAG_CHECKS[component]) out.push(...this.results.forget(check.ids, gone));
    if (component === 'kube-apiserver') {
      out.push(...this.results.forget(ENCRYPTION_PROVIDERS_CHECK.ids, gone), ...this.results.forget(AUDIT_POLICY_CHECK.ids, gone));
      out.push(...this.results.forgetNode([NODE_CHECKS.encryptionFile, NODE_CHECKS.encryptionKeys], gone));
    }
    if (component === 'kubelet') out.push(...this.results.forgetNode([NODE_CHECKS.kernelSysctls], gone));
    return out;
  }
}

function isUnder(path: string, dir: string): boolean {
  return path.length > dir.length && path.startsWith(dir) && (dir.endsWith('/') || path.charCodeAt(dir.length) === 47);
}

function deepGet(obj: unknown, path: readonly string[]): unknown {
  let node = obj;
  for (const k of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}
