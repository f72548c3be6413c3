/**
 * Container identity from cgroup paths. Every runtime names the container's cgroup after its
 * 64-hex id, wrapped differently per runtime and cgroup driver:
 *   docker (cgroupfs)          /docker/<id>
 *   docker (systemd)           /system.slice/docker-<id>.scope
 *   containerd CRI (systemd)   /kubepods.slice/…/cri-containerd-<id>.scope
 *   containerd CRI (cgroupfs)  /kubepods/burstable/pod<uid>/<id>
 *   plain containerd           /<namespace>/<id>
 *   cri-o                      /kubepods.slice/…/crio-<id>.scope
 *   podman                     /machine.slice/libpod-<id>.scope[/container], /libpod_parent/libpod-<id>
 * Runtime helpers (`libpod-conmon-<id>`, `crio-conmon-<id>`) run on the host side and are no
 * container's processes, so they resolve to the host.
 */
import type { ContainerInfo } from './types';

export type ContainerRuntime = ContainerInfo['runtime'];

export interface CgroupContainer {
  /** 64-hex id. */
  readonly fullId: string;
  readonly runtime: ContainerRuntime;
}

export const HOST_CONTAINER_ID = 'host';

const HEX64 = /^[0-9a-f]{64}$/;

const PREFIXES: readonly (readonly [prefix: string, runtime: ContainerRuntime])[] = [
  ['docker-', 'docker'],
  ['cri-containerd-', 'containerd'],
  ['containerd-', 'containerd'],
  ['crio-', 'cri-o'],
  ['libpod-', 'podman'],
];

function runtimeFromContext(path: string): ContainerRuntime {
  if (path.includes('/docker')) return 'docker';
  if (path.includes('containerd')) return 'containerd';
  if (path.includes('crio')) return 'cri-o';
  if (path.includes('libpod')) return 'podman';
  return 'unknown';
}

/** The container a single cgroup path belongs to, or undefined for host paths. */
export function containerFromCgroupPath(path: string): CgroupContainer | undefined {
  const parts = path.split('/');
  // The innermost id wins: nested runtimes (docker in a pod) run their own containers below.
  for (let i = parts.length - 1; i >= 0; i--) {
    let part = parts[i]!;
    if (part.length < 64) continue;
    if (part.endsWith('.scope')) part = part.slice(0, -'.scope'.length);
    if (HEX64.test(part)) return { fullId: part, runtime: runtimeFromContext(path) };
    for (const [prefix, runtime] of PREFIXES) {
      if (!part.startsWith(prefix)) continue;
      const rest = part.slice(prefix.length);
      if (HEX64.test(rest)) return { fullId: rest, runtime };
      // `libpod-conmon-<id>` / `crio-conmon-<id>`: the monitor process, not the container.
      break;
    }
  }
  return undefined;
}

/**
 * Parses the text of /proc/<pid>/cgroup (`hierarchy-id:controllers:path` lines, v1 and v2). The
 * first line naming a container decides; a process only in host cgroups is on the host.
 */
export function containerFromCgroupFile(text: string): CgroupContainer | undefined {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const second = line.indexOf(':', line.indexOf(':') + 1);
    if (second < 0) continue;
    const found = containerFromCgroupPath(line.slice(second + 1));
    if (found) return found;
  }
  return undefined;
}

/** The cgroup v2 path of a process (`0::/path` line), when it has one. */
export function unifiedCgroupPath(text: string): string | undefined {
  const m = /^0::(.*)$/m.exec(text);
  return m ? m[1] : undefined;
}

export function shortContainerId(fullId: string): string {
  return fullId.slice(0, 12);
}
