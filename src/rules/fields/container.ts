/** The `container.*` class: the container the process runs in ('host' for host processes). */
import type { ContainerMount } from '../../state/types';
import { compileGlob } from '../match';
import { field, fieldWithArg, type Extractor, type FieldDef } from './field';

/**
 * `container.mount.dest[src]` / `container.mount.source[dest]`: the other end of the first mount
 * whose `by` end matches the argument (a glob when it has wildcards), 'N/A' when none does.
 */
function mountLookup(name: string, by: 'source' | 'dest', give: 'source' | 'dest'): (arg: string | undefined) => Extractor | string {
  return (arg) => {
    if (arg === undefined) return `${name} needs a [${by}] argument`;
    const matches = /[*?]/.test(arg) ? compileGlob(arg) : (s: string) => s === arg;
    const hit = (m: ContainerMount): boolean => matches(m[by]);
    return (c) => {
      const ctr = c.container();
      if (!ctr) return undefined;
      const m = ctr.mounts.find(hit);
      return m ? m[give] : 'N/A';
    };
  };
}

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
    return ctr ? ctr.mounts.map((m) => `${m.source}:${m.dest}:${m.mode}:${m.rw ? 'true' : 'false'}:${m.propagation}`).join(' ') : undefined;
  }),
  fieldWithArg(
    'container.mount.dest',
    'string',
    "mount destination for the mount source [src] (glob allowed); 'N/A' when none",
    mountLookup('container.mount.dest', 'source', 'dest'),
    { arg: 'key' },
  ),
  fieldWithArg(
    'container.mount.source',
    'string',
    "mount source for the mount destination [dest] (glob allowed); 'N/A' when none",
    mountLookup('container.mount.source', 'dest', 'source'),
    { arg: 'key' },
  ),
];
