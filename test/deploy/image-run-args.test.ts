/** The DaemonSet → `podman run` translation image.test.ts runs the image with. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandK8sVars, podmanRunArgs, quantityBytes, quantityCpus, withCapabilityGatedBpf } from './daemonset-podman';
import { findObject, kubectlUnavailable, podSpecOf, renderOverlay } from './render';

describe('Kubernetes value helpers', () => {
  it('expands $(VAR) from the environment as the kubelet does', () => {
    expect(expandK8sVars('hostname=$(NODE_NAME)', { NODE_NAME: 'n1' })).toBe('hostname=n1');
    expect(expandK8sVars('$$(NODE_NAME) $(UNSET)', { NODE_NAME: 'n1' })).toBe('$(NODE_NAME) $(UNSET)');
  });

  it('reads byte and CPU quantities', () => {
    expect(quantityBytes('320Mi')).toBe(320 * 1024 * 1024);
    expect(quantityBytes('1G')).toBe(1e9);
    expect(quantityBytes('16Mi')).toBe(16 * 1024 * 1024);
    expect(quantityCpus('1')).toBe(1);
    expect(quantityCpus('500m')).toBe(0.5);
    expect(() => quantityBytes('1Ti')).toThrow(/unsupported/);
  });
});

const noKubectl = kubectlUnavailable();
if (noKubectl && process.env.CI === 'true') throw new Error(`cannot render the manifests: ${noKubectl}`);

describe.skipIf(noKubectl !== undefined)('podmanRunArgs on the rendered DaemonSet', () => {
  const work = mkdtempSync(join(tmpdir(), 'lanner-podman-args-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const objects = noKubectl ? [] : renderOverlay('plain');
  const args = noKubectl ? [] : podmanRunArgs(objects, { image: 'img:1', name: 'n', workDir: work, nodeName: 'node-7', hostPort: 18766 });
  const pairs = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

  it('grants what the manifest grants: user, capabilities, no_new_privs, read-only root, host PID', () => {
    expect(pairs('--user')).toEqual(['0:0']);
    expect(pairs('--cap-drop')).toEqual(['ALL']);
    expect(pairs('--cap-add').sort()).toEqual(['BPF', 'DAC_READ_SEARCH', 'PERFMON', 'SYS_PTRACE']);
    expect(pairs('--security-opt')).toEqual(expect.arrayContaining(['no-new-privileges', 'apparmor=unconfined']));
    expect(pairs('--security-opt')).not.toContain('seccomp=unconfined');
    expect(args).toEqual(expect.arrayContaining(['--read-only', '--read-only-tmpfs=false']));
    expect(pairs('--pid')).toEqual(['host']);
    expect(args).not.toContain('--privileged');
    expect(pairs('--network')).toEqual([]);
    expect(pairs('-p')).toEqual(['127.0.0.1:18766:8766/tcp']);
    expect(pairs('--memory')).toEqual([String(320 * 1024 * 1024)]);
    expect(pairs('--cpus')).toEqual(['1']);
  });

  it('mounts every volume of the container: host paths read-only, emptyDirs as sized tmpfs, ConfigMaps as rendered', () => {
    const c = podSpecOf(findObject(objects, 'DaemonSet', 'lanner')).containers.find((x) => x.name === 'lanner')!;
    const mounts = pairs('--mount');
    expect(mounts).toHaveLength(c.volumeMounts!.length);
    const at = (dst: string): string => mounts.find((m) => m.includes(`,dst=${dst},`) || m.endsWith(`,dst=${dst}`))!;
    for (const dst of ['/host/run/containerd', '/host/run/crio', '/host/etc/kubernetes', '/host/var/lib/kubelet/config.yaml', '/host/etc/cni/net.d', '/host/etc/systemd/system', '/host/usr/lib/systemd/system', '/host/etc/passwd', '/host/etc/group']) {
      expect(at(dst), dst).toMatch(/^type=bind,src=\S+,dst=\S+,ro=true$/);
    }
    expect(at('/tmp')).toBe(`type=tmpfs,dst=/tmp,tmpfs-size=${16 * 1024 * 1024}`);
    expect(at('/run/lanner')).toBe(`type=tmpfs,dst=/run/lanner,tmpfs-size=${1024 * 1024}`);
    const config = /src=(\S+?),/.exec(at('/etc/lanner/config'))![1]!;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('lanner-config')) as { data: Record<string, string> } | undefined;
    expect(readFileSync(join(config, 'lanner.yaml'), 'utf8')).toBe(cm!.data['lanner.yaml']);
    expect(at('/etc/lanner/config')).toMatch(/,ro=true$/);
  });

  it('ends with the image and the manifest\'s args, $(NODE_NAME) expanded', () => {
    expect(pairs('--env')).toEqual(['NODE_NAME=node-7']);
    const i = args.indexOf('img:1');
    expect(args.slice(i)).toEqual(['img:1', 'run', '--config', '/etc/lanner/config/lanner.yaml', '-o', 'hostname=node-7']);
  });
});

describe('withCapabilityGatedBpf', () => {
  it('lets CAP_BPF and CAP_PERFMON alone unlock bpf and perf_event_open, and keeps every other rule', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['bpf', 'perf_event_open', 'setns'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['bpf', 'perf_event_open', 'setns'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] }, errnoRet: 1 },
      ],
    };
    const out = withCapabilityGatedBpf(profile);
    expect(out).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO' });
    expect(out.syscalls).toEqual([
      profile.syscalls[0],
      profile.syscalls[1],
      { names: ['setns'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] }, errnoRet: 1 },
      { names: ['bpf'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] }, errnoRet: 1 },
      { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_BPF'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['perf_event_open'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_PERFMON'] }, errnoRet: 1 },
      { names: ['perf_event_open'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_PERFMON'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ]);
  });
});
