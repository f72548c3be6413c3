/**
 * The agent's image, built from deploy/Dockerfile with podman (bases: a local mmdebstrap base with
 * this host's Node.js, image-build.ts) and run with podman exactly as the rendered DaemonSet runs
 * it (daemonset-podman.ts). The agent in the container must load its probe, answer /readyz, and
 * raise fully enriched alerts for the host and for another container.
 *
 * `RuntimeDefault` seccomp is podman's default profile with bpf and perf_event_open gated by
 * CAP_BPF and CAP_PERFMON, as containerd's and Docker's defaults gate them (withCapabilityGatedBpf).
 * Only these podman options are not from the manifest, all for this host: `--runtime runc` (crun,
 * podman's default, refuses the hybrid cgroup layout of these VMs), and `--ulimit nofile` and
 * `--ulimit nproc` at this host's hard limits (podman's defaults ask for more than it allows).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, run, skipReason } from '../e2e/agent-harness';
import { freeLoopbackPort, httpGet, metricValue } from '../support/net';
import { decodeCapMask, deployPrivileges } from './caps-harness';
import { buildBusyboxRootfs, BUSYBOX } from './containerd-harness';
import { podmanRunArgs, withCapabilityGatedBpf } from './daemonset-podman';
import { buildAgentImage, CACHE_DIR, ensureLocalBase, imageBuildUnavailable, imageSizeBytes, PODMAN } from './image-build';
import { kubectlUnavailable, renderOverlay } from './render';

const skip = skipReason(imageBuildUnavailable() ?? kubectlUnavailable() ?? (BUSYBOX === undefined ? 'busybox-static is not installed' : undefined));

const IMAGE = 'localhost/lanner:test';
/** podman's default seccomp profile (Debian's golang-github-containers-common). */
const PODMAN_SECCOMP = '/usr/share/containers/seccomp.json';
const NODE_NAME = `lanner-image-test-${hostname()}`;

/** This host's hard limit `name` (/proc/self/limits): podman's defaults ask for more than it allows. */
function hardLimit(name: string): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  if (hard === undefined) throw new Error(`no '${name}' in /proc/self/limits`);
  return hard === 'unlimited' ? '-1' : hard;
}

/** conmon, which starts runc, runs with at most this many processes (seen with podman 4.3). */
const CONMON_NPROC = 32768;
const nofile = hardLimit('Max open files');
const nproc = Math.min(Number(hardLimit('Max processes')) >>> 0, CONMON_NPROC);

const HOST_ONLY_OPTIONS = ['--runtime', 'runc', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];

function statusOf(pid: number): Record<string, string> {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => l.split(':\t').map((s) => s.trim()) as [string, string]));
}

const MiB = 1024 * 1024;

describe.skipIf(skip !== undefined)('the agent image, built and run as the DaemonSet runs it', () => {
  let tmp = '';
  let agent: AgentHarness | undefined;
  let port = 0;
  let agentPid = 0;
  const name = `lanner-image-test-${process.pid}`;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-image-'));
    let t = Date.now();
    const base = await ensureLocalBase();
    timings[`local base (${base.source})`] = Date.now() - t;
    t = Date.now();
    await buildAgentImage(base.ref, IMAGE, join(tmp, 'build.log'));
    timings['podman build'] = Date.now() - t;
    const size = imageSizeBytes(IMAGE);
    console.log(`image ${IMAGE} from base ${base.ref}: ${(size / MiB).toFixed(0)} MiB; ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}; cache ${CACHE_DIR}`);

    port = await freeLoopbackPort();
    // RuntimeDefault as the DaemonSet's runtimes have it: podman's own default (containers/common,
    // as CRI-O's) allows bpf and perf_event_open only with CAP_SYS_ADMIN, so the probe would get
    // EPERM; containerd's and Docker's defaults allow them with CAP_BPF and CAP_PERFMON.
    const seccomp = join(tmp, 'seccomp-runtime-default.json');
    writeFileSync(seccomp, JSON.stringify(withCapabilityGatedBpf(JSON.parse(readFileSync(PODMAN_SECCOMP, 'utf8')) as Parameters<typeof withCapabilityGatedBpf>[0])));
    const args = podmanRunArgs(renderOverlay('plain'), { image: IMAGE, name, workDir: join(tmp, 'pod'), nodeName: NODE_NAME, hostPort: port, runtimeDefaultSeccomp: seccomp });
    t = Date.now();
    const child = spawn(PODMAN, ['run', '--rm', ...HOST_ONLY_OPTIONS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent = await AgentHarness.adopt(child, port, 120_000);
    console.log(`agent in the image ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const pid = await run(PODMAN, ['inspect', '--format', '{{.State.Pid}}', name]);
    agentPid = Number(pid.stdout.trim());
  }, 45 * 60_000);

  afterAll(async () => {
    const exit = agent ? await agent.stop(30_000) : undefined;
    await run(PODMAN, ['rm', '-f', '-t', '0', name]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal, agent?.stderrTail()).toBe(0);
  }, 120_000);

  it('the container holds exactly the manifest\'s privileges: uid 0, four capabilities, no_new_privs, read-only root', () => {
    expect(agentPid).toBeGreaterThan(0);
    const s = statusOf(agentPid);
    expect(s['Uid']!.split(/\s+/)[0]).toBe('0');
    expect(decodeCapMask(s['CapEff']!)).toEqual([...deployPrivileges().capabilities].sort());
    expect(decodeCapMask(s['CapBnd']!)).toEqual([...deployPrivileges().capabilities].sort());
    expect(s['NoNewPrivs']).toBe('1');
    const rootMount = readFileSync(`/proc/${agentPid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    expect(rootMount?.split(' ')[5]?.split(',')).toContain('ro');
    // hostPID: the agent's pid namespace is the host's.
    expect(readFileSync(`/proc/${agentPid}/status`, 'utf8')).toMatch(new RegExp(`^NSpid:\\s+${agentPid}$`, 'm'));
  });

  it('the probe is loaded and /readyz answers on the published metrics port', async () => {
    expect((await httpGet(port, '/readyz')).status).toBe(200);
    const metrics = await httpGet(port, '/metrics');
    expect(metrics.status).toBe(200);
    // The probe delivers: the kernel's events reach the agent in the container.
    expect(metricValue(metrics.body, 'lanner_events_received_total')).toBeGreaterThan(0);
  });

  it('`cat /etc/shadow` on the host alerts with full enrichment and the node name', async () => {
    const cat = await run('/bin/cat', ['/etc/shadow']);
    expect(cat.code).toBe(0);
    const a = await agent!.waitFor((x) => x.rule === 'Password hashes read by untrusted program' && Number(x.output_fields['proc.pid']) === cat.pid, 20_000);
    expect(a.output_fields).toMatchObject({
      'fd.name': '/etc/shadow',
      'proc.name': 'cat',
      'proc.exepath': '/usr/bin/cat',
      'proc.cmdline': 'cat /etc/shadow',
      'proc.pname': readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim(),
      'user.name': 'root',
      'user.uid': 0,
      'container.id': 'host',
    });
    expect((a as unknown as { hostname?: string }).hostname).toBe(NODE_NAME);
  });

  it('a host process of a user the image does not know is named from the host\'s /etc/passwd', async () => {
    // A system user of this host (the test packages create several) that the image lacks.
    const imagePasswd = (await run(PODMAN, ['run', '--rm', ...HOST_ONLY_OPTIONS, '--network', 'none', '--entrypoint', '/bin/cat', IMAGE, '/etc/passwd'])).stdout;
    const imageUsers = new Set(imagePasswd.split('\n').map((l) => l.split(':').slice(0, 3).join(':')));
    const hostUser = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f.length >= 7 && Number(f[2]) >= 100 && Number(f[2]) < 65534 && !imageUsers.has(f.slice(0, 3).join(':')));
    if (!hostUser) throw new Error('this host has no system user the image lacks (bash deploy/host/setup.sh test installs some)');
    const [user, , uid] = hostUser;
    const tool = join(tmp, 'tools', 'nc');
    mkdirSync(join(tmp, 'tools'), { recursive: true, mode: 0o755 });
    chmodSync(tmp, 0o755);
    copyFileSync('/bin/true', tool);
    chmodSync(tool, 0o755);
    const marker = `lanner-image-user-${Date.now()}`;
    const r = await run('/usr/bin/setpriv', ['--reuid', uid!, '--regid', uid!, '--clear-groups', tool, marker]);
    expect(r.code, r.stderr).toBe(0);
    const a = await agent!.waitFor((x) => x.rule === 'Network tool executed' && String(x.output_fields['proc.cmdline']).includes(marker), 20_000);
    expect(a.output_fields).toMatchObject({ 'user.uid': Number(uid), 'user.name': user, 'container.id': 'host' });
  });

  it('a shell exec\'d into another podman container alerts with that container\'s id', async () => {
    const rootfs = join(tmp, 'busybox-rootfs');
    buildBusyboxRootfs(rootfs);
    const started = await run(PODMAN, ['run', '-d', ...HOST_ONLY_OPTIONS, '--network', 'none', '--rootfs', rootfs, '/bin/sleep', '120']);
    const id = started.stdout.trim();
    expect(id, started.stderr).toMatch(/^[0-9a-f]{64}$/);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const marker = `lanner-image-exec-${Date.now()}`;
      const ex = await run(PODMAN, ['exec', id, '/bin/sh', '-c', `echo ${marker}`]);
      expect(ex.stdout).toContain(marker);
      const a = await agent!.waitFor((x) => x.rule === 'Shell spawned in container' && String(x.output_fields['proc.cmdline']).includes(marker), 20_000);
      expect(a.output_fields['container.id']).toBe(id.slice(0, 12));
      expect(a.output_fields['proc.name']).toBe('sh');
    } finally {
      await run(PODMAN, ['rm', '-f', '-t', '0', id]);
    }
  });

  it('the runtime image carries no build tools (multi-stage)', async () => {
    const r = await run(PODMAN, ['run', '--rm', ...HOST_ONLY_OPTIONS, '--network', 'none', '--entrypoint', '/bin/sh', IMAGE, '-c', 'for t in clang cc gcc cmake make bpftool; do command -v $t; done; true']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('');
  });
});
