/**
 * A private containerd (Debian's package) for one test file: its own root, state, socket and runc
 * root under a temp directory, the CRI plugin on, runc through the v2 shim, the cgroupfs driver.
 * No image can be pulled here, so the test's images are imported from OCI archives; the sandbox
 * image names the test's own pause image, already present, so the CRI plugin never pulls.
 * Nothing of the host's containerd setup (/etc/containerd, /var/lib/containerd) is used; the one
 * shared place is /run/containerd/s, where containerd 1.6 always puts shim sockets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriTestClient } from './cri-client';
import { writeOciArchive } from './oci-archive';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';
const SHIM = '/usr/bin/containerd-shim-runc-v2';
const RUNC = '/usr/bin/runc';
export const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
/** The CRI plugin's namespace: images must be imported there for pods to use them. */
const CRI_NAMESPACE = 'k8s.io';

export const PAUSE_IMAGE = 'localhost/lanner-test/pause:1';

/** Why a private containerd cannot run here, or undefined. */
export function containerdUnavailable(): string | undefined {
  for (const [bin, pkg] of [[CONTAINERD, 'containerd'], [CTR, 'containerd'], [SHIM, 'containerd'], [RUNC, 'runc']] as const) {
    if (!existsSync(bin)) return `${bin} is missing (Debian package ${pkg}; bash deploy/host/setup.sh test)`;
  }
  if (BUSYBOX === undefined) return 'busybox-static is not installed';
  if (spawnSync('cc', ['--version']).status !== 0) return 'cc is missing (gcc)';
  return undefined;
}

/** The busybox version the image is tagged with, e.g. `1.35.0`. */
export function busyboxVersion(): string {
  const head = spawnSync(BUSYBOX!, [], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  const m = /BusyBox v(\d+\.\d+\.\d+)/.exec(head);
  if (!m) throw new Error(`cannot read the busybox version from: ${head}`);
  return m[1]!;
}

/** A busybox root filesystem with applet links, users and a shadow file to be read. */
export function buildBusyboxRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX!, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = spawnSync(BUSYBOX!, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/tmp:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  writeFileSync(join(dir, 'etc/shadow'), 'root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n', { mode: 0o640 });
}

/** Compiles a fixture statically into `dir/bin/<name>` (for the busybox image). */
export function addStaticTool(rootfs: string, fixtures: string, name: string): void {
  const r = spawnSync('cc', ['-static', '-Os', '-s', '-o', join(rootfs, 'bin', name), join(fixtures, `${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.stderr || r.error?.message}`);
}

/** The pause image: one static binary. */
export function buildPauseRootfs(dir: string, fixtures: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('cc', ['-static', '-Os', '-s', '-o', join(dir, 'pause'), join(fixtures, 'pause.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc pause.c failed: ${r.stderr || r.error?.message}`);
}

function configToml(dir: string, socket: string): string {
  const q = (s: string): string => JSON.stringify(s);
  return `version = 2
root = ${q(join(dir, 'root'))}
state = ${q(join(dir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(socket)}

[ttrpc]
  address = ${q(`${socket}.ttrpc`)}

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(dir, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The sandbox's oom_score_adj (-998) below this process's needs CAP_SYS_RESOURCE, which a test
  # host (a VM sandbox, a container) may lack; clamp it to ours instead, as nested setups do.
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = ${q(RUNC)}
  Root = ${q(join(dir, 'runc'))}
  SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = ${q(join(dir, 'cni', 'bin'))}
  conf_dir = ${q(join(dir, 'cni', 'conf'))}
`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Mount points at or below `dir`, deepest first. */
function mountsBelow(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}

export class PrivateContainerd {
  readonly socket: string;
  readonly cri: CriTestClient;
  private readonly logPath: string;
  private exited = false;

  /**
   * @param sharedDirs the shared directories containerd 1.6 creates whatever its config says
   *   (shim sockets) that did not exist before it started: removed at stop.
   */
  private constructor(readonly dir: string, private readonly child: ChildProcess, private readonly sharedDirs: readonly string[]) {
    this.socket = join(dir, 'containerd.sock');
    this.logPath = join(dir, 'containerd.log');
    this.cri = new CriTestClient(this.socket);
    child.on('exit', () => (this.exited = true));
  }

  /** Starts containerd and waits until its CRI service answers. */
  static async start(dir: string): Promise<PrivateContainerd> {
    for (const d of ['root', 'state', 'runc', 'opt', 'cni/bin', 'cni/conf', 'pods']) mkdirSync(join(dir, d), { recursive: true });
    const socket = join(dir, 'containerd.sock');
    writeFileSync(join(dir, 'config.toml'), configToml(dir, socket));
    const sharedDirs = ['/run/containerd/s', '/run/containerd'].filter((d) => !existsSync(d));
    const log = createWriteStream(join(dir, 'containerd.log'));
    const child = spawn(CONTAINERD, ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const ctd = new PrivateContainerd(dir, child, sharedDirs);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (ctd.exited) throw new Error(`containerd exited at start:\n${ctd.logTail()}`);
      try {
        const v = await ctd.cri.call('Version', { version: 'v1' }, 2000);
        if (v['runtime_name'] === 'containerd') return ctd;
      } catch (err) {
        if (Date.now() > deadline) {
          await ctd.stop();
          throw new Error(`containerd's CRI service did not answer within 30 s (${(err as Error).message}):\n${ctd.logTail()}`);
        }
      }
      await sleep(200);
    }
  }

  /** Writes an OCI archive of `rootfs` and imports it into the CRI namespace as `name`. */
  importImage(name: string, rootfs: string, config: { entrypoint?: string[]; cmd?: string[] }): void {
    const archive = join(this.dir, `${name.replace(/[^a-z0-9.]+/g, '_')}.oci.tar`);
    writeOciArchive({ name, rootfs, ...config }, archive);
    const r = spawnSync(CTR, ['--address', this.socket, '--namespace', CRI_NAMESPACE, 'images', 'import', archive], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ctr images import ${name} failed: ${r.stderr}`);
    const ls = spawnSync(CTR, ['--address', this.socket, '--namespace', CRI_NAMESPACE, 'images', 'ls', '-q'], { encoding: 'utf8' });
    if (!ls.stdout.split('\n').includes(name)) throw new Error(`${name} is not listed after the import: ${ls.stdout}${ls.stderr}`);
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no containerd log)';
    }
  }

  /** Stops containerd (pods must be removed first: their shims outlive it) and removes the directory. */
  async stop(): Promise<void> {
    this.cri.close();
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const deadline = Date.now() + 15_000;
      while (!this.exited && Date.now() < deadline) await sleep(100);
      if (!this.exited) this.child.kill('SIGKILL');
      while (!this.exited) await sleep(50);
    }
    // Snapshots of removed containers are unmounted already; a failed test may leave some.
    for (const m of mountsBelow(this.dir)) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    // rmdir: only while empty (another containerd may have started using them meanwhile).
    for (const d of this.sharedDirs) spawnSync('rmdir', [d]);
  }
}
