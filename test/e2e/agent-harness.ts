/**
 * Runs the real agent (`node dist/cli.js run`) for end-to-end rule tests: JSON alerts on stdout,
 * readiness from `/readyz` (or the `agent ready` log line), stop with SIGTERM. One agent per test
 * file; tests find their alert by rule name plus the pid or path of the action they performed,
 * because the agent sees the whole machine (other tests, other engineers) at the same time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, copyFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_NODE_FLAGS } from '../support/agent-node-flags';
import { freeLoopbackPort } from '../support/net';

export const REPO = resolve(__dirname, '../..');
/** The agent entry point; LANNER_E2E_CLI runs the suite against another build of the same CLI. */
export const CLI = process.env.LANNER_E2E_CLI ?? join(REPO, 'dist/cli.js');
export const DEFAULT_RULES = [join(REPO, 'rules/lanner_rules.yaml')];
/** Only the barrier's rule: add it to another rule set (Falco's stock files) so `barrier()` works. */
export const BARRIER_RULES = join(REPO, 'test/e2e/fixtures/barrier-rule.yaml');

export type OutputFields = Record<string, string | number | boolean | null>;

export interface AlertRecord {
  readonly rule: string;
  /** 'syscall' for rule alerts, 'internal' for the agent's own (posture, drops). */
  readonly source: string;
  readonly priority: string;
  readonly output: string;
  readonly output_fields: OutputFields;
  readonly tags: readonly string[];
  readonly time: string;
  /** Order of arrival, for "after this point" queries. */
  readonly seq: number;
}

export interface AgentOptions {
  readonly rules?: readonly string[];
  /** Extra `-o key=value` overrides (after the harness's own). */
  readonly overrides?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** Command prefix the agent runs under, e.g. setpriv with the DaemonSet's capability set. */
  readonly launcher?: readonly string[];
  /** A configuration file (`-c`), e.g. one a test rewrites before a SIGHUP. */
  readonly configFile?: string;
}

/** Why the agent cannot run here, or undefined when it can. */
export function agentUnavailableReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the agent needs root to load its BPF probe';
  if (!existsSync(CLI)) return `${CLI} is missing (run npm run build)`;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel BTF (/sys/kernel/btf/vmlinux) is missing';
  return undefined;
}

/** In CI a missing prerequisite is a failure with its reason; elsewhere the file is skipped with the reason printed. */
export function skipReason(extra?: string): string | undefined {
  const reason = agentUnavailableReason() ?? extra;
  if (reason === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`end-to-end test cannot run: ${reason}`);
  console.warn(`skipping end-to-end test: ${reason}`);
  return reason;
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', () => res(0));
    req.on('timeout', () => {
      req.destroy();
      res(0);
    });
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class AgentHarness {
  readonly alerts: AlertRecord[] = [];
  private stderr = '';
  private stdoutRest = '';
  private nonJson: string[] = [];
  private ready = false;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private barrierSeq = 0;
  private readonly toolDir: string;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly child: ChildProcess, readonly metricsPort: number) {
    this.toolDir = mkdtempSync(join(tmpdir(), 'lanner-e2e-barrier-'));
    // A file named like a network tool: running it raises "Network tool executed", which the
    // barrier waits for (it is /bin/true, so it does nothing else).
    copyFileSync('/bin/true', join(this.toolDir, 'nc'));
    chmodSync(join(this.toolDir, 'nc'), 0o755);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      if (this.stderr.length > 256 * 1024) this.stderr = this.stderr.slice(-128 * 1024);
      if (!this.ready && /"msg":"agent ready"/.test(chunk)) this.ready = true;
    });
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.wake();
    });
  }

  static async start(opts: AgentOptions = {}): Promise<AgentHarness> {
    const port = await freeLoopbackPort();
    const args = [CLI, 'run'];
    if (opts.configFile !== undefined) args.push('-c', opts.configFile);
    for (const r of opts.rules ?? DEFAULT_RULES) args.push('-r', r);
    const overrides = [
      // Its own instance lock: test files run agents side by side (the default is /run/lanner).
      `run_dir=${mkdtempSync(join(tmpdir(), 'lanner-e2e-run-'))}`,
      'outputs.stdout.enabled=true',
      'outputs.format.json_output=true',
      'outputs.format.json_include_output_fields_property=true',
      'outputs.format.json_include_tags_property=true',
      'outputs.rate_limit.enabled=false',
      'outputs.dedup.enabled=false',
      'metrics.enabled=true',
      `metrics.listen=127.0.0.1:${port}`,
      'probe.drop_failed_syscalls=false',
      'rule_matching=first',
      'log.pretty=false',
      ...(opts.overrides ?? []),
    ];
    for (const o of overrides) args.push('-o', o);
    const launcher = opts.launcher ?? [];
    const child = launcher.length > 0
      ? spawn(launcher[0]!, [...launcher.slice(1), process.execPath, ...AGENT_NODE_FLAGS, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [...AGENT_NODE_FLAGS, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    return AgentHarness.adopt(child, port, opts.readyTimeoutMs);
  }

  /**
   * Wraps an agent started some other way (the image under `podman run`): its stdout is the alert
   * stream, its stderr the log, and its `/readyz` answers on 127.0.0.1:`port`. Waits as `start` does.
   */
  static async adopt(child: ChildProcess, port: number, readyTimeoutMs = 60_000): Promise<AgentHarness> {
    const agent = new AgentHarness(child, port);
    const deadline = Date.now() + readyTimeoutMs;
    while (!agent.ready) {
      if (agent.exited) {
        await agent.stop();
        throw new Error(`agent exited before ready (${JSON.stringify(agent.exited)}):\n${agent.stderrTail()}`);
      }
      if (Date.now() > deadline) {
        await agent.stop();
        throw new Error(`agent not ready within ${readyTimeoutMs} ms:\n${agent.stderrTail()}`);
      }
      if ((await httpStatus(port, '/readyz')) === 200) agent.ready = true;
      else await sleep(200);
    }
    // Readiness says the probe is attached; one barrier proves events flow end to end.
    try {
      await agent.barrier(30_000);
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  private onStdout(chunk: string): void {
    const text = this.stdoutRest + chunk;
    const lines = text.split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const a = JSON.parse(line) as Omit<AlertRecord, 'seq'>;
        if (typeof a.rule === 'string') this.alerts.push({ ...a, output_fields: a.output_fields ?? {}, tags: a.tags ?? [], seq: this.alerts.length });
        else this.nonJson.push(line);
      } catch {
        this.nonJson.push(line);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first alert (from `fromSeq` on) satisfying `pred`; rejects after the timeout. */
  async waitFor(pred: (a: AlertRecord) => boolean, timeoutMs = 15_000, fromSeq = 0): Promise<AlertRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.alerts.find((a) => a.seq >= fromSeq && pred(a));
      if (hit) return hit;
      if (this.exited) throw new Error(`agent exited (${JSON.stringify(this.exited)}):\n${this.stderrTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const recent = this.alerts.slice(-8).map((a) => `  ${a.rule}: ${a.output.slice(0, 400)}`).join('\n');
        throw new Error(`no matching alert within ${timeoutMs} ms; ${this.alerts.length} alerts seen: ${this.ruleHistogram()}\nlatest:\n${recent}`);
      }
      await new Promise<void>((res) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          res();
        };
        const t = setTimeout(done, Math.min(left, 250));
        this.waiters.add(done);
      });
    }
  }

  find(pred: (a: AlertRecord) => boolean): AlertRecord[] {
    return this.alerts.filter(pred);
  }

  /** Current end of the alert list: pass to waitFor/find to look only at later alerts. */
  mark(): number {
    return this.alerts.length;
  }

  /**
   * Waits until every event that happened before this call has been evaluated: runs a marked
   * network-tool exec and waits for its alert, then a short grace for events read from other CPUs.
   */
  async barrier(timeoutMs = 15_000): Promise<void> {
    const marker = `lanner-barrier-${process.pid}-${++this.barrierSeq}-${Date.now()}`;
    const tool = join(this.toolDir, 'nc');
    const deadline = Date.now() + timeoutMs;
    // The first barrier may race the probe's attach: retry the exec until one is seen.
    for (;;) {
      spawnSync(tool, [marker], { stdio: 'ignore' });
      try {
        await this.waitFor((a) => a.rule === 'Network tool executed' && String(a.output_fields['proc.cmdline'] ?? a.output).includes(marker), Math.min(3000, Math.max(1, deadline - Date.now())));
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`barrier not observed: ${(err as Error).message}\n${this.stderrTail()}`);
      }
    }
    await sleep(300);
  }

  isBarrier(a: AlertRecord): boolean {
    return a.rule === 'Network tool executed' && /lanner-barrier-/.test(String(a.output_fields['proc.cmdline'] ?? ''));
  }

  ruleHistogram(): string {
    const counts = new Map<string, number>();
    for (const a of this.alerts) counts.set(a.rule, (counts.get(a.rule) ?? 0) + 1);
    return JSON.stringify(Object.fromEntries(counts));
  }

  /** The agent's pid (a launcher such as setpriv execs it in place, so it keeps this pid). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Sends a signal to the agent process (SIGHUP reloads the rules). */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  stderrTail(lines = 40): string {
    return this.stderr.split('\n').slice(-lines).join('\n');
  }

  /** Lines on stdout that were not alerts (should be none). */
  strayStdout(): readonly string[] {
    return this.nonJson;
  }

  /** How the agent exited, without signalling it (after a signal the test sent itself). */
  async waitForExit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exited) {
      if (Date.now() > deadline) throw new Error(`agent still running after ${timeoutMs} ms:\n${this.stderrTail()}`);
      await sleep(50);
    }
    return this.exited;
  }

  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    rmSync(this.toolDir, { recursive: true, force: true });
    if (this.exited) return this.exited;
    this.child.kill('SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < deadline) await sleep(50);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      while (!this.exited) await sleep(50);
    }
    return this.exited;
  }
}

export interface RunResult {
  readonly pid: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, returning its pid (the pid alerts carry as proc.pid). */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ pid: child.pid ?? -1, code, stdout, stderr });
    });
  });
}

/** Compiles the static action tool once per directory. */
export function buildActTool(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'lanner-act');
  const r = spawnSync('cc', ['-static', '-O1', '-o', out, join(__dirname, 'fixtures/lanner-act.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr || r.error?.message}`);
  return out;
}

/** Copies `src` to `dir/name` (executable), so the process's comm is `name`. */
export function named(src: string, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  copyFileSync(src, p);
  chmodSync(p, 0o755);
  return p;
}

export const pidOf = (a: AlertRecord): number => Number(a.output_fields['proc.pid']);
