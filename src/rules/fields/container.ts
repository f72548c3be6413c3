/** The `container.*` class: the container the process runs in ('host' for host processes). */
import type { ContainerMount } from '../../state/types';
import { compileGlob } from '../match';
import { field, fieldWithArg, nullField, type Extractor, type FieldDef } from './field';
import { evtTime } from './time';

/** The container plugin's text form of one mount: `source:dest:mode:rdwr:propagation`. */
function mountText(m: ContainerMount): string {
  return `${m.source}:${m.dest}:${m.mode}:${m.rw ? 'true' : 'false'}:${m.propagation}`;
}

/**
 * `container.mount*[arg]`: the mount at index `arg` (a number), or the first whose `by` end matches
 * `arg` (a glob when it has wildcards), rendered by `give`; `missing` when there is none.
 */
function mountLookup(
  name: string,
  by: 'source' | 'dest',
  give: (m: ContainerMount) => string,
  missing: string,
): (arg: string | undefined) => Extractor | string {
  return (arg) => {
    if (arg === undefined) return `${name} needs an [index] or [${by}] argument`;
    const index = /^\d+$/.test(arg) ? Number(arg) : -1;
    const matches = /[*?]/.test(arg) ? compileGlob(arg) : (s: string) => s === arg;
    const hit = (m: ContainerMount): boolean => matches(m[by]);
    return (c) => {
      const ctr = c.container();
      if (!ctr) return undefined;
      const m = index >= 0 ? ctr.mounts[index] : ctr.mounts.find(hit);
      return m ? give(m) : missing;
    };
  };
}

/** Not collected from the runtime here: the field loads and is always null (validate warns). */
const NOT_COLLECTED = 'Lanner does not collect it from the container runtime';
const DEPRECATED = 'deprecated by the container plugin';

export const CONTAINER_FIELDS: readonly FieldDef[] = [
  field('container.id', 'string', "12-char container id, 'host' for host processes", (c) => c.containerId() || undefined),
  field('container.full_id', 'string', 'full container id', (c) => (c.containerId() === 'host' ? 'host' : c.container()?.fullId)),
  field('container.name', 'string', "container name ('host' for host processes)", (c) => (c.containerId() === 'host' ? 'host' : c.container()?.name)),
  field('container.image', 'string', 'image reference', (c) => c.container()?.image),
  field('container.image.repository', 'string', 'image repository', (c) => c.container()?.imageRepository),
  field('container.image.tag', 'string', 'image tag', (c) => c.container()?.imageTag),
  field('container.image.digest', 'string', 'image digest', (c) => c.container()?.imageDigest),
  field('container.type', 'string', 'container runtime', (c) => (c.containerId() === 'host' ? 'host' : c.container()?.runtime)),
  field('container.privileged', 'bool', 'container runs privileged', (c) => c.container()?.privileged),
  field('container.start_ts', 'abstime', 'container start time (ns since epoch)', (c) => {
    const v = c.container()?.startTsNs;
    return v ? v : undefined;
  }),
  field('container.mounts', 'string', 'mounts as src:dest:mode:rdwr:propagation, space-separated', (c) => {
    const ctr = c.container();
    return ctr ? ctr.mounts.map(mountText).join(' ') : undefined;
  }),
  fieldWithArg('container.mount', 'string', "one mount as src:dest:mode:rdwr:propagation, by [index] or [source] (glob allowed); 'none' when none", mountLookup('container.mount', 'source', mountText, 'none'), { arg: 'key' }),
  fieldWithArg('container.mount.dest', 'string', "mount destination, by [index] or [source] (glob allowed); 'N/A' when none", mountLookup('container.mount.dest', 'source', (m) => m.dest, 'N/A'), { arg: 'key' }),
  fieldWithArg('container.mount.source', 'string', "mount source, by [index] or [destination] (glob allowed); 'N/A' when none", mountLookup('container.mount.source', 'dest', (m) => m.source, 'N/A'), { arg: 'key' }),
  fieldWithArg('container.mount.mode', 'string', "mount mode, by [index] or [source] (glob allowed); 'N/A' when none", mountLookup('container.mount.mode', 'source', (m) => m.mode, 'N/A'), { arg: 'key' }),
  fieldWithArg('container.mount.rdwr', 'string', "mount read-write flag, by [index] or [source] (glob allowed); 'N/A' when none", mountLookup('container.mount.rdwr', 'source', (m) => (m.rw ? 'true' : 'false'), 'N/A'), { arg: 'key' }),
  fieldWithArg('container.mount.propagation', 'string', "mount propagation, by [index] or [source] (glob allowed); 'N/A' when none", mountLookup('container.mount.propagation', 'source', (m) => m.propagation, 'N/A'), { arg: 'key' }),
  field('container.duration', 'reltime', 'ns since container.start_ts', (c) => {
    const start = c.container()?.startTsNs;
    return start ? Number(evtTime(c) - start) : undefined;
  }),
  nullField('container.image.id', 'string', 'container image id', NOT_COLLECTED),
  nullField('container.ip', 'string', "the container's primary IPv4 address", NOT_COLLECTED),
  nullField('container.cni.json', 'string', "the pod's CNI result as JSON", NOT_COLLECTED),
  nullField('container.host_pid', 'bool', 'whether the container shares the host PID namespace', NOT_COLLECTED),
  nullField('container.host_network', 'bool', 'whether the container shares the host network namespace', NOT_COLLECTED),
  nullField('container.host_ipc', 'bool', 'whether the container shares the host IPC namespace', NOT_COLLECTED),
  nullField('container.label', 'string', 'container label [key]', NOT_COLLECTED, { arg: 'key' }),
  nullField('container.labels', 'string', 'container labels as k:v, comma-separated', NOT_COLLECTED),
  nullField('container.healthcheck', 'string', 'container health check', DEPRECATED, { deprecated: true }),
  nullField('container.liveness_probe', 'string', 'container liveness probe', DEPRECATED, { deprecated: true }),
  nullField('container.readiness_probe', 'string', 'container readiness probe', DEPRECATED, { deprecated: true }),
  nullField('proc.is_container_healthcheck', 'bool', 'process is a container health check', DEPRECATED, { deprecated: true }),
  nullField('proc.is_container_liveness_probe', 'bool', 'process is a liveness probe', DEPRECATED, { deprecated: true }),
  nullField('proc.is_container_readiness_probe', 'bool', 'process is a readiness probe', DEPRECATED, { deprecated: true }),
];
