/**
 * A real podman container seen through the state engine: container id from the cgroup of its
 * process, name and image from podman's Docker-compatible API, user names from its /etc/passwd.
 *
 * This VM runs cgroup v1 in hybrid mode, which crun (podman's default runtime) refuses ("cgroups
 * in hybrid mode not supported"), so containers run with `--runtime runc` (Debian package runc).
 * `--ulimit` and `--network none` avoid setrlimit and netavark failures in this sandbox.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticEvent } from '../../src/probe/synthetic';
import { createStateEngine } from '../../src/state';
import { testStateConfig } from './helpers';

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `localhost/lanner-state-test:v${process.pid}`;
const NAME = `lanner-state-${suffix}`;
let dir = '';
let service: ChildProcess | undefined;
let socket = '';
let unavailable = '';

function podman(args: string[]): string {
  const r = spawnSync('podman', args, { encoding: 'buffer', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

function missingTools(): string {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['podman', 'runc', 'busybox']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return '';
}

beforeAll(async () => {
  unavailable = missingTools();
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), 'lanner-podman-'));
  // A busybox root filesystem with its own users, imported as an image.
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  copyFileSync(busybox, join(root, 'bin/busybox'));
  for (const applet of ['sh', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nlannertest:x:4321:4321::/:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nlannergrp:x:4321:\n');
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  podman(['import', tar, IMAGE]);
  socket = join(dir, 'podman.sock');
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(socket)) unavailable = 'podman system service did not create its socket';
}, 120_000);

afterAll(() => {
  if (!dir) return;
  spawnSync('podman', ['rm', '-f', '-t', '0', NAME], { timeout: 60_000 });
  spawnSync('podman', ['rmi', '-f', IMAGE], { timeout: 60_000 });
  service?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('a real podman container', () => {
  it('is identified from its cgroup and described by the runtime API', async (ctx) => {
    if (unavailable) {
      if (process.env.CI === 'true') throw new Error(`cannot run: ${unavailable}`);
      console.warn(`skipped: ${unavailable}`);
      ctx.skip();
    }
    const fullId = podman(['--runtime', 'runc', 'run', '-d', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--name', NAME, IMAGE, '/bin/sleep', '120']);
    expect(fullId).toMatch(/^[0-9a-f]{64}$/);
    const pid = Number(podman(['inspect', '-f', '{{.State.Pid}}', NAME]));
    expect(pid).toBeGreaterThan(0);

    const st = createStateEngine({
      config: testStateConfig({
        containers: { metadata: true, max_entries: 64, negative_ttl_seconds: 30, timeout_ms: 5000, first_exec_wait_ms: 0, max_concurrent_lookups: 2, docker_sockets: [socket], cri_sockets: [] },
      }),
    });
    try {
      const p = st.process(pid)!;
      expect(p).toMatchObject({ name: 'sleep', args: ['120'], vpid: 1, containerId: fullId.slice(0, 12) });
      expect(st.process(process.pid)!.containerId).toBe('host');
      // The metadata lookup never blocks: nothing yet, then the answer from the API.
      expect(st.container(p.containerId)).toBeUndefined();
      await st.containerLookupsIdle();
      const c = st.container(p.containerId)!;
      expect(c).toMatchObject({
        id: fullId.slice(0, 12),
        fullId,
        runtime: 'podman',
        name: NAME,
        image: IMAGE,
        imageRepository: 'localhost/lanner-state-test',
        imageTag: `v${process.pid}`,
        privileged: false,
      });
      expect(c.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(c.startTsNs).toBeGreaterThan(BigInt(Date.now() - 600_000) * 1_000_000n);
      // At least this one: the state seeds from /proc and asks about every container it sees at
      // once, so containers of test files running alongside (podman, containerd) count too.
      const stats = st.stats();
      expect(stats.containers).toBeGreaterThanOrEqual(1);
      expect(stats.containerLookups).toBeGreaterThanOrEqual(1);

      // User names come from the container's own /etc/passwd, not the host's.
      expect(st.userName(4321, p.containerId)).toBe('lannertest');
      expect(st.groupName(4321, p.containerId)).toBe('lannergrp');
      expect(st.userName(4321, 'host')).toBeUndefined();

      // An event carrying the container's real cgroup v2 id resolves to the same container.
      const v2 = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]!;
      const mount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '))!.split(' ')[4]!;
      const cgroupId = statSync(`${mount}${v2}`).ino;
      expect(st.containerIdOfCgroup(cgroupId, pid)).toBe(fullId.slice(0, 12));
      const unknownPid = 3_999_000_001;
      st.beforeRules(syntheticEvent({ type: 'openat', tgid: unknownPid, cgroupId, comm: 'sh', ret: -2, args: [0, 0, 0], str0: '/x' }));
      expect(st.process(unknownPid)!.containerId).toBe(fullId.slice(0, 12));
    } finally {
      await st.close();
    }
  }, 120_000);
});
