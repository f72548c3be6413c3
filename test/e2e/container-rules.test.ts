/**
 * Default rules, container side: real podman containers on a busybox-static rootfs. Each
 * container's 12-char id (from --cidfile) ties alerts to the run that caused them.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, buildActTool, run, skipReason, type AlertRecord } from './agent-harness';

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => spawnSync(p, ['true']).status === 0);
const podmanOk = spawnSync('podman', ['--version']).status === 0;
const skip = skipReason(!podmanOk ? 'podman is not installed' : BUSYBOX === undefined ? 'busybox-static is not installed' : undefined);

const TOKEN = '/run/secrets/kubernetes.io/serviceaccount/token';

/** Builds a minimal rootfs: busybox with applet links, the static action tool, a fake token. */
function buildRootfs(dir: string, act: string): void {
  for (const d of ['bin', 'sbin', 'proc', 'dev', 'sys', 'tmp', 'etc', 'mnt', 'run/secrets/kubernetes.io/serviceaccount']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX!, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = spawnSync(BUSYBOX!, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  // A package manager name: exec succeeds (busybox then reports an unknown applet).
  symlinkSync('../bin/busybox', join(dir, 'sbin/apk'));
  copyFileSync(act, join(dir, 'act'));
  chmodSync(join(dir, 'act'), 0o755);
  copyFileSync(act, join(dir, 'act-suid'));
  chownSync(join(dir, 'act-suid'), 0, 0);
  chmodSync(join(dir, 'act-suid'), 0o4755);
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/tmp:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  writeFileSync(join(dir, TOKEN.slice(1)), 'eyJhbGciOiJSUzI1NiJ9.lanner-e2e.signature\n');
}

interface ContainerRun {
  readonly id: string;
  readonly code: number | null;
  readonly output: string;
}

describe.skipIf(skip !== undefined)('default rules in containers', () => {
  let agent: AgentHarness;
  let tmp: string;
  let rootfs: string;
  let act: string;
  let n = 0;

  /**
   * podman run on the rootfs; returns the 12-char container id alerts carry. The script is
   * padded with sleeps: the agent resolves a new cgroup to its container from /proc while some
   * process of it is alive, and a container already gone when its first event is evaluated (a
   * lagging agent on a busy machine) would be reported as host.
   */
  const podman = async (script: string, extra: string[] = []): Promise<ContainerRun> => {
    const cidfile = join(tmp, `cid-${++n}`);
    const r = await run(
      'podman',
      [
        'run', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--network', 'none',
        '--cidfile', cidfile, ...extra, '--rootfs', rootfs, '/bin/sh', '-c', `sleep 1; ${script}; sleep 2`,
      ],
      { timeoutMs: 60_000 },
    );
    const full = readFileSync(cidfile, 'utf8').trim();
    expect(full, `podman failed: ${r.stderr}`).toMatch(/^[0-9a-f]{64}$/);
    return { id: full.slice(0, 12), code: r.code, output: r.stdout + r.stderr };
  };

  const inContainer = (c: ContainerRun, rule: string) => (a: AlertRecord): boolean => a.rule === rule && a.output_fields['container.id'] === c.id;
  const expectNone = async (c: ContainerRun, rule: string): Promise<void> => {
    await agent.barrier();
    expect(agent.find(inContainer(c, rule)).map((a) => a.output)).toEqual([]);
  };

  let attack: ContainerRun;
  let quiet: ContainerRun;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-e2e-ctr-'));
    act = buildActTool(join(tmp, 'tool'));
    rootfs = join(tmp, 'rootfs');
    buildRootfs(rootfs, act);
    agent = await AgentHarness.start();
    // One container doing several suspicious things, one doing their benign look-alikes.
    attack = await podman(`sh -c 'echo nested'; cat ${TOKEN}; apk add curl; /act userfaultfd; /act capset-drop; echo done`, ['--security-opt', 'seccomp=unconfined']);
    quiet = await podman(`/act read ${TOKEN}; ls / > /dev/null; /act setuid 1000; echo done`, ['--security-opt', 'seccomp=unconfined']);
    expect(attack.output).toContain('done');
    expect(quiet.output).toContain('done');
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('Shell spawned in container (not for the entrypoint shell)', async () => {
    const a = await agent.waitFor(inContainer(attack, 'Shell spawned in container'));
    // BusyBox re-executes itself for applets: comm is `exe`, argv[0] is the applet.
    expect(a.output_fields).toMatchObject({ 'proc.exe': 'sh', 'proc.pname': 'sh' });
    expect(String(a.output_fields['proc.cmdline'])).toMatch(/ -c echo nested$/);
    await expectNone(quiet, 'Shell spawned in container');
  });

  it('Shell spawned in container: a shell injected with podman exec; a non-shell exec is quiet', async () => {
    const cidfile = join(tmp, 'cid-detached');
    const started = await run('podman', [
      'run', '-d', '--runtime', 'runc', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--network', 'none',
      '--cidfile', cidfile, '--rootfs', rootfs, '/bin/sleep', '60',
    ]);
    const full = readFileSync(cidfile, 'utf8').trim();
    expect(full, started.stderr).toMatch(/^[0-9a-f]{64}$/);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const marker = `lanner-exec-${Date.now()}`;
      const ex = await run('podman', ['exec', full, '/bin/sh', '-c', `echo ${marker}; true`]);
      expect(ex.stdout).toContain(marker);
      const a = await agent.waitFor((x) => x.rule === 'Shell spawned in container' && x.output_fields['container.id'] === full.slice(0, 12));
      expect(String(a.output_fields['proc.cmdline'])).toContain(marker);
      const ls = await run('podman', ['exec', full, '/bin/ls', '/']);
      expect(ls.code).toBe(0);
      await agent.barrier();
      expect(agent.find((x) => x.rule === 'Shell spawned in container' && x.output_fields['container.id'] === full.slice(0, 12))).toHaveLength(1);
    } finally {
      await run('podman', ['rm', '-f', '-t', '0', full]);
    }
  });

  it('Service account token read by shell or inspection tool', async () => {
    const a = await agent.waitFor(inContainer(attack, 'Service account token read by shell or inspection tool'));
    expect(a.output_fields['proc.exe']).toBe('cat');
    expect(String(a.output_fields['fd.name'])).toBe(TOKEN);
    await expectNone(quiet, 'Service account token read by shell or inspection tool');
  });

  it('Package manager run in container', async () => {
    const a = await agent.waitFor(inContainer(attack, 'Package manager run in container'));
    expect(a.output_fields['proc.exe']).toBe('apk');
    expect(a.tags).toContain('T1072');
    await expectNone(quiet, 'Package manager run in container');
  });

  it('userfaultfd in container', async () => {
    const a = await agent.waitFor(inContainer(attack, 'userfaultfd in container'));
    expect(a.output_fields['proc.name']).toBe('act');
    await expectNone(quiet, 'userfaultfd in container');
  });

  it('Capabilities changed in container (the runtime setting caps up is not reported)', async () => {
    const a = await agent.waitFor(inContainer(attack, 'Capabilities changed in container'));
    expect(a.output_fields['proc.name']).toBe('act');
    await expectNone(quiet, 'Capabilities changed in container');
  });

  it('Setuid to root in container: a non-root user running a setuid-root binary', async () => {
    const esc = await podman('/act-suid setuid 0', ['--user', '1000:1000']);
    expect(esc.output).toContain('setuid(0): 0');
    const a = await agent.waitFor(inContainer(esc, 'Setuid to root in container'));
    expect(a.output_fields['proc.name']).toBe('act-suid');
    // Benign: dropping privileges (the quiet container called setuid(1000) as root).
    await expectNone(quiet, 'Setuid to root in container');
  });

  it('Namespace change and mount in a privileged container', async () => {
    const priv = await podman('unshare -m true; mount -t tmpfs none /mnt; echo done', ['--privileged']);
    expect(priv.output).toContain('done');
    const ns = await agent.waitFor(inContainer(priv, 'Namespace change in container'));
    expect(ns.output_fields).toMatchObject({ 'proc.exe': 'unshare', 'evt.type': 'unshare' });
    // `unshare -m` itself remounts / private; the tmpfs mount is the one on /mnt.
    const m = await agent.waitFor((a) => inContainer(priv, 'Mount in container')(a) && a.output_fields['evt.arg.dir'] === '/mnt');
    expect(m.output_fields['proc.exe']).toBe('mount');
    await expectNone(quiet, 'Namespace change in container');
    await expectNone(quiet, 'Mount in container');
    // Benign: the same on the host, in a private mount namespace.
    const host = await run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none ${tmp}/rootfs/mnt && echo mounted`]);
    expect(host.stdout).toContain('mounted');
    await agent.barrier();
    expect(agent.find((a) => (a.rule === 'Namespace change in container' || a.rule === 'Mount in container') && a.output_fields['container.id'] === 'host')).toEqual([]);
  });

  it('Interactive shell in container (tty) and none without a tty', async () => {
    const tty = await podman('echo done', ['-t']);
    const a = await agent.waitFor(inContainer(tty, 'Interactive shell in container'));
    expect(a.output_fields['proc.exe']).toBe('/bin/sh');
    expect(Number(a.output_fields['proc.tty'])).toBeGreaterThan(0);
    await expectNone(quiet, 'Interactive shell in container');
  });

  it('the container runtime itself raises nothing in the quiet container', async () => {
    await agent.barrier();
    expect(agent.find((a) => a.output_fields['container.id'] === quiet.id).map((a) => `${a.rule}: ${a.output}`)).toEqual([]);
  });
});
