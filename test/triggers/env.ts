/**
 * Where trigger actions run: this host (as root or as an unprivileged uid), a network namespace
 * the suite creates (public-looking addresses on its loopback, so "outbound" and "inbound"
 * connections complete without leaving the machine), and podman containers (runc) of a busybox
 * image imported from a local rootfs. Everything created is removed by `close()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildActTool, named, run, type RunResult } from '../e2e/agent-harness';
import type { Evidence } from './trigger';

export const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => spawnSync(p, ['true']).status === 0);

/** Why the trigger environment cannot be built here, or undefined when it can. */
export function environmentUnavailableReason(): string | undefined {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed';
  if (spawnSync('runc', ['--version']).status !== 0) return 'runc is not installed';
  if (BUSYBOX === undefined) return 'busybox-static is not installed';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  if (spawnSync('cc', ['--version']).status !== 0) return 'a C compiler (cc) is not installed';
  if (spawnSync('script', ['--version']).status !== 0) return 'script (bsdutils) is not installed';
  return undefined;
}

/** The unprivileged uid actions run as when a rule is about non-root users. */
export const UNPRIVILEGED_UID = 54329;
/** Addresses the network namespace puts on its loopback: a documentation address and the cloud metadata address. */
export const PUBLIC_IP = '203.0.113.7';
export const METADATA_IP = '169.254.169.254';
/** The API server's address in the suite's network namespace, named in the agent's hosts file. */
export const API_SERVER_IP = '203.0.113.10';
/** A mining pool's address there, named after a stock pool domain in the agent's hosts file. */
export const MINER_POOL_IP = '203.0.113.11';
export const API_SERVER_NAME = 'kubernetes.default.svc.cluster.local';
export const MINER_POOL_NAME = 'xmr.pool.minergate.com';

/** Programs installed in the container image under these names (copies of the static trigger tool). */
const IMAGE_TOOL_NAMES = ['nc', 'ncat', 'kubectl', 'rsync', 'debugfs', 'curl', 'tcpdump', 'node'];

export interface ContainerOptions {
  /** Extra `podman run` arguments (capabilities, --privileged, mounts). */
  readonly extra?: readonly string[];
  /** Join the suite's network namespace instead of --network none. */
  readonly netns?: boolean;
  /** Seconds pid 1 waits before and after the script (metadata lookups happen meanwhile). */
  readonly padSeconds?: number;
  /** Run the script through `script(1)` with `podman run -t`, so the container gets a terminal. */
  readonly tty?: boolean;
}

export interface ContainerRun extends Evidence {
  readonly containerId: string;
  readonly output: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class TriggerEnv {
  /** Scratch directory (mode 0755), removed at the end. */
  readonly tmp: string;
  /** test/e2e's static action tool. */
  readonly act: string;
  /** The trigger suite's own static action tool. */
  readonly tact: string;
  readonly image: string;
  readonly netnsName: string;
  /** podman's Docker-compatible API socket: give it to the agents for container metadata. */
  readonly podmanSocket: string;
  private readonly created: string[] = [];
  private readonly children: ChildProcess[] = [];
  private service: ChildProcess | undefined;
  private seq = 0;

  private constructor() {
    this.tmp = mkdtempSync(join(tmpdir(), 'lanner-triggers-'));
    chmodSync(this.tmp, 0o755);
    this.act = buildActTool(join(this.tmp, 'tools'));
    this.tact = join(this.tmp, 'tools', 'trigger-act');
    const cc = spawnSync('cc', ['-static', '-O1', '-o', this.tact, join(__dirname, 'fixtures/trigger-act.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr || cc.error?.message}`);
    this.image = `localhost/lanner-triggers:v${process.pid}`;
    this.netnsName = `lanner-trig-${process.pid}`;
    this.podmanSocket = join(this.tmp, 'podman.sock');
  }

  static async create(): Promise<TriggerEnv> {
    const env = new TriggerEnv();
    try {
      await env.buildImage();
      await env.startPodmanService();
      await env.buildNetns();
    } catch (err) {
      await env.close();
      throw err;
    }
    return env;
  }

  private async buildImage(): Promise<void> {
    const root = join(this.tmp, 'rootfs');
    for (const d of ['bin', 'sbin', 'usr/bin', 'proc', 'dev', 'sys', 'tmp', 'etc', 'mnt', 'root', 'host/etc']) mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync(BUSYBOX!, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const applets = spawnSync(BUSYBOX!, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    symlinkSync('../bin/busybox', join(root, 'sbin/apk'));
    for (const [src, name] of [[this.act, 'act'], [this.tact, 'tact']] as const) {
      copyFileSync(src, join(root, name));
      chmodSync(join(root, name), 0o755);
    }
    for (const name of IMAGE_TOOL_NAMES) {
      copyFileSync(this.tact, join(root, 'usr/bin', name));
      chmodSync(join(root, 'usr/bin', name), 0o755);
    }
    // npm is the act tool, whose `spawn` action starts a child with npm as its parent.
    copyFileSync(this.act, join(root, 'usr/bin/npm'));
    chmodSync(join(root, 'usr/bin/npm'), 0o755);
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/tmp:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
    writeFileSync(join(root, 'host/etc/hostname'), 'the-host\n');
    const tar = join(this.tmp, 'rootfs.tar');
    const t = await run('tar', ['-C', root, '-cf', tar, '.']);
    if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
    const imp = await run('podman', ['import', tar, this.image], { timeoutMs: 120_000 });
    if (imp.code !== 0) throw new Error(`podman import: ${imp.stderr}`);
  }

  private async startPodmanService(): Promise<void> {
    this.service = spawn('podman', ['system', 'service', '--time=0', `unix://${this.podmanSocket}`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(this.podmanSocket); i++) await sleep(100);
    if (!existsSync(this.podmanSocket)) throw new Error('podman system service did not create its socket');
  }

  private async buildNetns(): Promise<void> {
    const ns = this.netnsName;
    for (const args of [['netns', 'add', ns], ['-n', ns, 'link', 'set', 'lo', 'up'], ['-n', ns, 'addr', 'add', `${PUBLIC_IP}/32`, 'dev', 'lo'], ['-n', ns, 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'lo'],
      ['-n', ns, 'addr', 'add', `${API_SERVER_IP}/32`, 'dev', 'lo'], ['-n', ns, 'addr', 'add', `${MINER_POOL_IP}/32`, 'dev', 'lo']]) {
      const r = await run('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
  }

  /** The agent options that let it describe this suite's containers. */
  agentOverrides(): string[] {
    // The names rules compare addresses with resolve through a hosts file of the suite's (a node
    // resolves them through the cluster's DNS, or the agent's KUBERNETES_SERVICE_HOST).
    const hosts = join(this.tmp, 'hosts');
    writeFileSync(hosts, `${API_SERVER_IP} ${API_SERVER_NAME}\n${MINER_POOL_IP} ${MINER_POOL_NAME}\n`);
    return [`state.containers.docker_sockets=[${this.podmanSocket}]`, `state.dns.hosts_file=${hosts}`];
  }

  /** A fresh directory below the scratch dir. */
  dir(name: string): string {
    const d = join(this.tmp, `${name}-${++this.seq}`);
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o755);
    return d;
  }

  /** A copy of `src` named `name` (the kernel names the process after the file). */
  named(src: string, name: string): string {
    return named(src, this.dir('bin'), name);
  }

  /** Registers a path outside the scratch dir for removal at the end (and removes it now if it exists). */
  own(path: string): string {
    rmSync(path, { recursive: true, force: true });
    this.created.push(path);
    return path;
  }

  /** Runs a command on the host; its pid identifies the alerts. */
  async host(cmd: string, args: readonly string[] = [], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Evidence & RunResult> {
    return run(cmd, args, { env: opts.env, cwd: opts.cwd, timeoutMs: 60_000 });
  }

  /** Runs a bash script on the host. */
  sh(script: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Evidence & RunResult> {
    return this.host('bash', ['-c', script], opts);
  }

  /** Runs a command as the unprivileged uid, without capabilities. */
  asUser(cmd: string, args: readonly string[] = []): Promise<Evidence & RunResult> {
    return this.host('setpriv', [`--reuid=${UNPRIVILEGED_UID}`, `--regid=${UNPRIVILEGED_UID}`, '--clear-groups', '--inh-caps=-all', cmd, ...args], { cwd: this.tmp });
  }

  /**
   * Runs a command with a terminal (script(1) gives it a pty); the pid is script's. The terminal's
   * shell is bash whatever the caller's $SHELL: bash execs a lone command in the session leader (as
   * if typed), dash forks it into the leader's group, and which one ran decided proc.is_vpgid_leader.
   */
  withTty(command: string): Promise<Evidence & RunResult> {
    return this.host('script', ['-qec', command, '/dev/null'], { env: { ...process.env, SHELL: '/bin/bash' } });
  }

  /** Runs a command inside the suite's network namespace. */
  inNetns(cmd: string, args: readonly string[] = []): Promise<Evidence & RunResult> {
    return this.host('ip', ['netns', 'exec', this.netnsName, cmd, ...args]);
  }

  /**
   * Starts a TCP listener (the trigger tool's `serve`) in the network namespace, accepting `count`
   * connections; with `payloadHex`, it sends those bytes to each client first.
   */
  async serveInNetns(ip: string, port: number, count = 1, tool = this.tact, payloadHex?: string): Promise<ChildProcess> {
    const args = [tool, 'serve', ip, String(port), String(count), ...(payloadHex ? [payloadHex] : [])];
    const child = spawn('ip', ['netns', 'exec', this.netnsName, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('listener did not start')), 10_000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) {
          clearTimeout(t);
          res();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        rej(new Error(`listener exited (${code})`));
      });
    });
    return child;
  }

  /**
   * podman run of the suite's image; returns the container id alerts carry. pid 1 waits before
   * the script (the agent looks the new container up in podman's API meanwhile) and after it (a
   * container already gone when its events are evaluated cannot be described).
   */
  async container(script: string, opts: ContainerOptions = {}): Promise<ContainerRun> {
    const cidfile = join(this.tmp, `cid-${++this.seq}`);
    const pad = opts.padSeconds ?? 1;
    const network = opts.netns ? `ns:/run/netns/${this.netnsName}` : 'none';
    const args = [
      'run', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--network', network,
      '--cidfile', cidfile, ...(opts.tty ? ['-t'] : []), ...(opts.extra ?? []), this.image, '/bin/sh', '-c', `sleep ${pad}; ${script}; sleep ${pad}`,
    ];
    const r = opts.tty ? await run('script', ['-qec', ['podman', ...args].map(shellQuote).join(' '), '/dev/null'], { timeoutMs: 60_000 }) : await run('podman', args, { timeoutMs: 60_000 });
    const full = existsSync(cidfile) ? readFileSync(cidfile, 'utf8').trim() : '';
    if (!/^[0-9a-f]{64}$/.test(full)) throw new Error(`podman run failed (${r.code}): ${r.stderr}${r.stdout}`);
    return { containerId: full.slice(0, 12), output: r.stdout + r.stderr };
  }

  /**
   * A detached container running `setup` and then sleeping, and `argv` run in it with podman exec
   * (what kubectl exec and kubectl cp do): the exec'd process's parent is the runtime.
   */
  async containerExec(setup: string, argv: readonly string[]): Promise<ContainerRun> {
    const cidfile = join(this.tmp, `cid-${++this.seq}`);
    const started = await run('podman', [
      'run', '-d', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--network', 'none',
      '--cidfile', cidfile, this.image, '/bin/sh', '-c', `${setup}; sleep 30`,
    ]);
    const full = existsSync(cidfile) ? readFileSync(cidfile, 'utf8').trim() : '';
    if (!/^[0-9a-f]{64}$/.test(full)) throw new Error(`podman run -d failed (${started.code}): ${started.stderr}`);
    try {
      await sleep(1000);
      const r = await run('podman', ['exec', full, ...argv], { timeoutMs: 60_000 });
      await sleep(500);
      return { containerId: full.slice(0, 12), output: r.stdout + r.stderr };
    } finally {
      await run('podman', ['rm', '-f', '-t', '0', full]);
    }
  }

  /** Creates `path` (and missing parents, all registered for removal) with `text`. */
  file(path: string, text = 'lanner trigger\n', mode = 0o644): string {
    const missing: string[] = [];
    for (let d = dirname(path); !existsSync(d); d = dirname(d)) missing.push(d);
    mkdirSync(dirname(path), { recursive: true });
    for (const d of missing.reverse()) this.created.push(d);
    this.own(path);
    writeFileSync(path, text, { mode });
    return path;
  }

  /** Hands a scratch path to the unprivileged uid. */
  giveToUser(path: string): void {
    chownSync(path, UNPRIVILEGED_UID, UNPRIVILEGED_UID);
  }

  async close(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const p of [...this.created].reverse()) rmSync(p, { recursive: true, force: true });
    spawnSync('ip', ['netns', 'del', this.netnsName]);
    this.service?.kill('SIGTERM');
    spawnSync('podman', ['rmi', '-f', this.image], { timeout: 60_000 });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
