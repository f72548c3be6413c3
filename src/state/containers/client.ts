import type { ContainerInfo, ContainerMount } from '../types';

/** One container runtime endpoint that can describe a container by id. */
export interface ContainerRuntimeClient {
  /** Which kind of runtime this endpoint speaks for (used to try the likely endpoint first). */
  readonly runtime: ContainerInfo['runtime'];
  readonly endpoint: string;
  /** Resolves undefined when this runtime does not know the id; rejects on transport errors. */
  inspect(fullId: string): Promise<ContainerInfo | undefined>;
  close(): void;
}

export interface ContainerInfoInit {
  fullId: string;
  runtime: ContainerInfo['runtime'];
  name?: string;
  image?: string;
  imageRepository?: string;
  imageTag?: string;
  imageDigest?: string;
  privileged?: boolean;
  mounts?: readonly ContainerMount[];
  startTsNs?: bigint;
  podName?: string;
  podNamespace?: string;
  podUid?: string;
  podLabels?: Readonly<Record<string, string>>;
}

export function makeContainerInfo(i: ContainerInfoInit): ContainerInfo {
  return Object.freeze({
    id: i.fullId.slice(0, 12),
    fullId: i.fullId,
    runtime: i.runtime,
    name: i.name ?? '',
    image: i.image ?? '',
    imageRepository: i.imageRepository ?? '',
    imageTag: i.imageTag ?? '',
    imageDigest: i.imageDigest ?? '',
    privileged: i.privileged ?? false,
    mounts: Object.freeze([...(i.mounts ?? [])]),
    startTsNs: i.startTsNs ?? 0n,
    podName: i.podName ?? '',
    podNamespace: i.podNamespace ?? '',
    podUid: i.podUid ?? '',
    podLabels: Object.freeze({ ...(i.podLabels ?? {}) }),
  });
}

/** Pod identity carried as container labels by every CRI runtime (and by dockershim). */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
