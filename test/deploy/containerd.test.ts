/**
 * Pod metadata from a real containerd through CRI. A private containerd (Debian's package, CRI
 * plugin, runc) runs pods created the way the kubelet creates them (RunPodSandbox with Kubernetes
 * labels and annotations, CreateContainer, StartContainer), from images built and imported here; the
 * real agent on this kernel, pointed at that containerd's socket, must name the container, its
 * image and its pod in the alerts raised inside.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, DEFAULT_RULES, skipReason, type AlertRecord } from '../e2e/agent-harness';
import { addStaticTool, buildBusyboxRootfs, buildPauseRootfs, busyboxVersion, containerdUnavailable, PAUSE_IMAGE, PrivateContainerd } from './containerd-harness';
import type { Decoded, PodSpec } from './cri-client';
import { REPO_ROOT } from './render';

const FIXTURES = join(REPO_ROOT, 'test', 'deploy', 'fixtures');
const skip = skipReason(containerdUnavailable());

describe.skipIf(skip !== undefined)('pods on a real containerd (CRI)', () => {
  const BUSYBOX_REPO = 'localhost/lanner-test/busybox';
  let tag = '';
  let tmp = '';
  let ctd: PrivateContainerd | undefined;
  let agent: AgentHarness | undefined;
  const pods: string[] = [];
  const pod: PodSpec = {
    name: 'web-6c5f7d9b8-x2k4q',
    namespace: 'lanner-e2e',
    uid: randomUUID(),
    labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '6c5f7d9b8' },
    annotations: { 'kubernetes.io/config.source': 'api', 'lanner.test/purpose': 'cri' },
  };
  let sandboxConfig: Decoded;
  let podId = '';
  let appId = '';

  const inContainer = (cid: string, rule: string) => (a: AlertRecord): boolean => a.rule === rule && a.output_fields['container.id'] === cid.slice(0, 12);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-containerd-'));
    tag = busyboxVersion();
    buildPauseRootfs(join(tmp, 'pause-rootfs'), FIXTURES);
    buildBusyboxRootfs(join(tmp, 'busybox-rootfs'));
    addStaticTool(join(tmp, 'busybox-rootfs'), FIXTURES, 'bpf-map-create');
    ctd = await PrivateContainerd.start(join(tmp, 'containerd'));
    ctd.importImage(PAUSE_IMAGE, join(tmp, 'pause-rootfs'), { entrypoint: ['/pause'] });
    ctd.importImage(`${BUSYBOX_REPO}:${tag}`, join(tmp, 'busybox-rootfs'), { cmd: ['/bin/sh'] });
    agent = await AgentHarness.start({
      rules: [...DEFAULT_RULES, join(FIXTURES, 'pod-fields-rule.yaml')],
      overrides: [
        `state.containers.cri_sockets=[${ctd.socket}]`,
        'state.containers.docker_sockets=[]',
        // The shell alert and the test rule's alert come from the same exec.
        'rule_matching=all',
      ],
    });
    const logDir = join(tmp, 'containerd', 'pods', pod.uid);
    sandboxConfig = ctd.cri.sandboxConfig(pod, logDir);
    try {
      podId = await ctd.cri.runPod(pod, logDir);
      pods.push(podId);
      appId = await ctd.cri.createAndStart(podId, sandboxConfig, { name: 'app', image: `${BUSYBOX_REPO}:${tag}`, command: ['/bin/sleep', '3600'], labels: { 'lanner.test/container': 'app' } });
    } catch (err) {
      throw new Error(`${(err as Error).message}\ncontainerd log:\n${ctd.logTail()}`);
    }
    expect(await ctd.cri.containerState(appId)).toBe('CONTAINER_RUNNING');
  }, 180_000);

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    for (const id of pods) await ctd?.cri.removePod(id).catch(() => undefined);
    if (ctd) await ctd.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  }, 120_000);

  it('a shell exec\'d into the pod (ExecSync) alerts with the container, its image and its pod', async () => {
    const marker = `lanner-cri-exec-${Date.now()}`;
    const ex = await ctd!.cri.execSync(appId, ['/bin/sh', '-c', `echo ${marker}`]);
    expect(ex, ex.stderr).toMatchObject({ exitCode: 0, stdout: `${marker}\n` });
    const a = await agent!.waitFor((x) => inContainer(appId, 'Shell spawned in container')(x) && String(x.output_fields['proc.cmdline']).includes(marker));
    expect(a.output_fields).toMatchObject({
      'container.id': appId.slice(0, 12),
      'container.name': 'app',
      'container.image.repository': BUSYBOX_REPO,
      'container.image.tag': tag,
      'k8s.pod.name': pod.name,
      'k8s.ns.name': pod.namespace,
    });
  });

  it('the pod uid and labels come from the sandbox (runtime-added io.kubernetes.* labels left out)', async () => {
    const marker = `lanner-pod-fields-${Date.now()}`;
    const ex = await ctd!.cri.execSync(appId, ['/bin/echo', marker]);
    expect(ex.exitCode, ex.stderr).toBe(0);
    const a = await agent!.waitFor((x) => inContainer(appId, 'Test pod fields')(x) && String(x.output_fields['proc.cmdline']).includes(marker));
    expect(a.output_fields).toMatchObject({
      'k8s.pod.uid': pod.uid,
      'k8s.pod.label[app]': 'web',
      'k8s.pod.label[tier]': 'frontend',
      'container.image': `${BUSYBOX_REPO}:${tag}`,
      'container.type': 'containerd',
    });
    const labels = String(a.output_fields['k8s.pod.labels']).split(',').map((l) => l.trim()).sort();
    expect(labels).toEqual(Object.entries(pod.labels).map(([k, v]) => `${k}:${v}`).sort());
  });

  it('a short-lived container\'s process is reported in its container, not as host', async () => {
    const marker = `lanner-cri-short-${Date.now()}`;
    const jobId = await ctd!.cri.createAndStart(podId, sandboxConfig, { name: 'job', image: `${BUSYBOX_REPO}:${tag}`, command: ['/bin/sh', '-c', `cat /etc/shadow > /dev/null; echo ${marker}`] });
    expect(await ctd!.cri.waitExit(jobId)).toBe(0);
    const rule = 'Password hashes read by untrusted program';
    const a = await agent!.waitFor((x) => x.rule === rule && x.output_fields['proc.name'] === 'cat' && x.output_fields['container.id'] === jobId.slice(0, 12));
    expect(a.output_fields['fd.name']).toBe('/etc/shadow');
    expect(String(a.output_fields['proc.cmdline'])).toBe('cat /etc/shadow');
  });

  it('the runtime\'s default seccomp profile lets CAP_BPF alone call bpf(), as the DaemonSet needs', async () => {
    // The DaemonSet keeps seccompProfile RuntimeDefault and grants CAP_BPF, not CAP_SYS_ADMIN.
    const run = async (name: string, add: string[], command = ['/bin/bpf-map-create']): Promise<number> => {
      const id = await ctd!.cri.createAndStart(podId, sandboxConfig, {
        name,
        image: `${BUSYBOX_REPO}:${tag}`,
        command,
        security: { dropCapabilities: ['ALL'], addCapabilities: add, seccomp: 'RuntimeDefault', noNewPrivs: true },
      });
      return ctd!.cri.waitExit(id);
    };
    // The profile is in force (mode 2: filter), so what follows is its answer.
    expect(await run('seccomp-filtered', ['BPF'], ['/bin/sh', '-c', 'grep -q "^Seccomp:[[:space:]]*2$" /proc/self/status'])).toBe(0);
    expect(await run('bpf-without-cap', [])).toBe(1);
    expect(await run('bpf-with-cap', ['BPF', 'PERFMON'])).toBe(0);
  });
});
