import { describe, expect, it } from 'vitest';
import { containerFromCgroupFile, containerFromCgroupPath, unifiedCgroupPath } from '../../src/state/cgroup';

const ID = '3f4a9c0d2b1e8f7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b';
const ID2 = 'da3501932fc0f8073a1b2cff4ae919076b32ac1906d08b76f496999b8e67837b';

describe('container id from cgroup paths', () => {
  const cases: [string, string, string | undefined, string][] = [
    ['docker cgroupfs', `/docker/${ID}`, ID, 'docker'],
    ['docker systemd', `/system.slice/docker-${ID}.scope`, ID, 'docker'],
    ['docker rootless', `/user.slice/user-1000.slice/user@1000.service/docker-${ID}.scope`, ID, 'docker'],
    ['containerd CRI systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-${ID}.scope`, ID, 'containerd'],
    ['containerd CRI cgroupfs', `/kubepods/besteffort/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/${ID}`, ID, 'unknown'],
    ['plain containerd namespace', `/default/${ID}`, ID, 'unknown'],
    ['containerd systemd unit', `/system.slice/containerd-${ID}.scope`, ID, 'containerd'],
    ['cri-o systemd', `/kubepods.slice/kubepods-pod1b2c3d4e_5f60.slice/crio-${ID}.scope`, ID, 'cri-o'],
    ['cri-o conmon is host', `/kubepods.slice/kubepods-pod1b2c3d4e_5f60.slice/crio-conmon-${ID}.scope`, undefined, ''],
    ['podman systemd', `/machine.slice/libpod-${ID}.scope`, ID, 'podman'],
    ['podman nested container cgroup', `/machine.slice/libpod-${ID}.scope/container`, ID, 'podman'],
    ['podman cgroupfs (as on this VM)', `/libpod_parent/libpod-${ID2}`, ID2, 'podman'],
    ['podman conmon is host', `/machine.slice/libpod-conmon-${ID}.scope`, undefined, ''],
    ['podman rootless', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, ID, 'podman'],
    ['ecs', `/ecs/5a1b2c3d/${ID}`, ID, 'unknown'],
    ['docker in a pod: innermost wins', `/kubepods/burstable/pod1/${ID2}/docker/${ID}`, ID, 'docker'],
    ['host root', '/', undefined, ''],
    ['host service', '/system.slice/sshd.service', undefined, ''],
    ['host user session', '/user.slice/user-0.slice/session-3.scope', undefined, ''],
    ['63 hex is no id', `/docker/${ID.slice(1)}`, undefined, ''],
    ['uppercase hex is no id', `/docker/${ID.toUpperCase()}`, undefined, ''],
  ];
  for (const [what, path, id, runtime] of cases) {
    it(what, () => {
      const found = containerFromCgroupPath(path);
      expect(found?.fullId).toBe(id);
      if (id) expect(found?.runtime).toBe(runtime);
    });
  }

  it('reads v1 lines when the v2 line is at the root (hybrid, v1 driver)', () => {
    const text = `12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`;
    expect(containerFromCgroupFile(text)?.fullId).toBe(ID);
    expect(unifiedCgroupPath(text)).toBe('/');
  });

  it('reads a pure v2 file', () => {
    expect(containerFromCgroupFile(`0::/system.slice/docker-${ID}.scope\n`)?.runtime).toBe('docker');
    expect(containerFromCgroupFile('0::/init.scope\n')).toBeUndefined();
  });

  it('ignores v1 controller paths of a host process', () => {
    const text = '9:name=systemd:/\n4:memory:/process_api/6b14070ad4611e3d68943e5bba9104cc\n0::/\n';
    expect(containerFromCgroupFile(text)).toBeUndefined();
  });
});
