/**
 * Which container a process belongs to, and what is known about that container: cgroup id →
 * container id (from /proc/<pid>/cgroup, cached per cgroup id), the runtime metadata store, a live
 * pid per container (to read its /etc/passwd) and the per-container user and group names.
 */
import { containerFromCgroupFile, containerFromCgroupPath, HOST_CONTAINER_ID, shortContainerId, unifiedCgroupPath } from './cgroup';
import type { StateConfig } from './config';
import type { ContainerRuntimeClient } from './containers/client';
import { CriClient } from './containers/cri';
import { DockerApiClient } from './containers/docker-api';
import { ContainerMetadataStore } from './containers/metadata';
import { readCgroupText } from './procfs';
import type { ProcessEntry, ProcessTable } from './process-table';
import type { ContainerInfo } from './types';
import { UserDb } from './users';

const HOST_CONTAINER: ContainerInfo = Object.freeze({
  id: HOST_CONTAINER_ID,
  fullId: HOST_CONTAINER_ID,
  runtime: 'unknown',
  name: 'host',
  image: '',
  imageRepository: '',
  imageTag: '',
  imageDigest: '',
  privileged: false,
  mounts: Object.freeze([]),
  startTsNs: 0n,
  podName: '',
  podNamespace: '',
  podUid: '',
  podLabels: Object.freeze({}),
});

const MAX_CGROUP_CACHE = 16384;
const MAX_CONTAINER_PIDS = 4096;

export interface ContainerResolverOptions {
  readonly config: StateConfig;
  /** The process table, searched for a live member of a container when its noted pid is gone. */
  readonly table: ProcessTable;
  /** Replaces the runtime clients built from config (tests). */
  readonly clients?: readonly ContainerRuntimeClient[];
  readonly onLookupError: (err: Error, containerId: string) => void;
}

/** Sizes and counters of the container-keyed state, for the engine's statistics. */
export interface ContainerResolverStats {
  readonly containers: number;
  readonly lookups: number;
  readonly lookupFailures: number;
  readonly cacheSlots: number;
  readonly hints: number;
  readonly containerPids: number;
  readonly userDbLoads: number;
  readonly userDbRoots: number;
  readonly cgroupCacheEntries: number;
}

export class ContainerResolver {
  /** cgroup id → container id; null = this cgroup id does not decide (cgroup v1 containers). */
  private readonly cgroupCache = new Map<number, string | null>();
  /** A live process per container, to read its /etc/passwd. */
  private readonly containerPids = new Map<string, number>();
  private readonly metadata: ContainerMetadataStore;
  private readonly users: UserDb;
  private readonly procRoot: string;
  private readonly table: ProcessTable;

  constructor(opts: ContainerResolverOptions) {
    const cfg = opts.config;
    this.procRoot = cfg.proc_root;
    this.table = opts.table;
    this.metadata = new ContainerMetadataStore({
      clients: opts.clients ?? (cfg.containers.metadata ? clientsFromConfig(cfg) : []),
      maxEntries: cfg.containers.max_entries,
      negativeTtlMs: cfg.containers.negative_ttl_seconds * 1000,
      maxConcurrent: cfg.containers.max_concurrent_lookups,
      onError: opts.onLookupError,
    });
    this.users = new UserDb({
      hostRoot: cfg.host_root,
      procRoot: this.procRoot,
      maxRoots: cfg.users.max_containers,
      refreshMs: cfg.users.refresh_seconds * 1000,
      pidOfContainer: (cid) => this.livePidOf(cid),
    });
  }

  container(cid: string): ContainerInfo | undefined {
    if (cid === HOST_CONTAINER_ID) return HOST_CONTAINER;
    return this.metadata.get(cid);
  }

  containerIdOfCgroup(cgroupId: number, tgid: number): string {
    if (cgroupId !== 0) {
      const cached = this.cgroupCache.get(cgroupId);
      if (typeof cached === 'string') return cached;
    }
    const text = readCgroupText(this.procRoot, tgid);
    if (text === '') return HOST_CONTAINER_ID;
    return this.resolveCgroupText(text, cgroupId);
  }

  /**
   * Settles when the runtime has described the container of this cgroup (or failed to); undefined
   * for the host, or when there is nothing to wait for (ContainerMetadataStore.settled).
   */
  metadataSettled(cgroupId: number, tgid: number): Promise<void> | undefined {
    const id = this.containerIdOfCgroup(cgroupId, tgid);
    return id === HOST_CONTAINER_ID ? undefined : this.metadata.settled(id);
  }

  /** The container id a /proc/<pid>/cgroup text names; caches the answer under the v2 id when it decides. */
  resolveCgroupText(text: string, cgroupId: number): string {
    const found = containerFromCgroupFile(text);
    const cid = found ? shortContainerId(found.fullId) : HOST_CONTAINER_ID;
    if (found) {
      this.metadata.noteContainer(found.fullId, found.runtime);
      // Ask the runtime now, when the container is first seen, not when a rule first reads a
      // field: otherwise the first alert from a container (typically the exec'd shell) has no
      // name, image or pod, as a real containerd showed (test/deploy/containerd.test.ts).
      this.metadata.get(cid);
    }
    if (cgroupId > 0) {
      // The v2 id decides only when the v2 path itself names the container (or names none
      // while no v1 path does); with v1-only containers every member shares one v2 cgroup.
      const v2 = unifiedCgroupPath(text);
      const v2Found = v2 === undefined ? undefined : containerFromCgroupPath(v2);
      const decides = v2 !== undefined && v2Found?.fullId === found?.fullId;
      if (this.cgroupCache.size >= MAX_CGROUP_CACHE) this.cgroupCache.delete(this.cgroupCache.keys().next().value as number);
      this.cgroupCache.set(cgroupId, decides ? cid : null);
    }
    return cid;
  }

  /** Remembers the process as its container's live member (host processes are not noted). */
  noteContainerPid(p: ProcessEntry): void {
    if (p.containerId === HOST_CONTAINER_ID) return;
    if (!this.containerPids.has(p.containerId) && this.containerPids.size >= MAX_CONTAINER_PIDS) {
      this.containerPids.delete(this.containerPids.keys().next().value as string);
    }
    this.containerPids.set(p.containerId, p.tgid);
  }

  userName(uid: number, containerId: string): string | undefined {
    return this.users.userName(uid, containerId);
  }

  groupName(gid: number, containerId: string): string | undefined {
    return this.users.groupName(gid, containerId);
  }

  /**
   * Drops what is kept about containers and cgroups no live process belongs to (the sweep's
   * second half): nothing else would release it when a container is gone.
   */
  retain(liveContainers: ReadonlySet<string>, liveCgroups: ReadonlySet<number>): void {
    const isLive = (cid: string): boolean => liveContainers.has(cid);
    for (const cid of this.containerPids.keys()) if (!isLive(cid)) this.containerPids.delete(cid);
    // A process that shows up in a dropped cgroup later costs one /proc read to resolve it again.
    for (const cgroupId of this.cgroupCache.keys()) if (!liveCgroups.has(cgroupId)) this.cgroupCache.delete(cgroupId);
    this.metadata.retain(isLive);
    this.users.retain(isLive);
  }

  stats(): ContainerResolverStats {
    const m = this.metadata.stats();
    return {
      containers: m.entries,
      lookups: m.lookups,
      lookupFailures: m.failures,
      cacheSlots: m.slots,
      hints: m.hints,
      containerPids: this.containerPids.size,
      userDbLoads: this.users.loads,
      userDbRoots: this.users.cachedRoots,
      cgroupCacheEntries: this.cgroupCache.size,
    };
  }

  /** Resolves when queued metadata lookups have finished. */
  idle(): Promise<void> {
    return this.metadata.idle();
  }

  close(): void {
    this.metadata.close();
  }

  private livePidOf(cid: string): number | undefined {
    const tgid = this.containerPids.get(cid);
    if (tgid !== undefined && this.table.get(tgid)?.containerId === cid) return tgid;
    for (const e of this.table.values()) {
      if (e.containerId === cid) {
        this.containerPids.set(cid, e.tgid);
        return e.tgid;
      }
    }
    return undefined;
  }
}

function clientsFromConfig(cfg: StateConfig): ContainerRuntimeClient[] {
  const t = cfg.containers.timeout_ms;
  return [
    ...cfg.containers.docker_sockets.map((s) => new DockerApiClient(s, s.includes('podman') ? 'podman' : 'docker', t)),
    ...cfg.containers.cri_sockets.map((s) => new CriClient(s, s.includes('crio') ? 'cri-o' : 'containerd', t)),
  ];
}
