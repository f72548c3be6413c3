/** Process, fd, container and Kubernetes state. */
export { createStateEngine } from './state-tracker';
export { kubernetesServiceNames, parseHostsFile, WatchedHostNames, type ResolveName } from './host-names';
export type { LannerStateEngine, StateEngineOptions, StateEngineStats, StateLogger } from './state-tracker';
export { stateConfigSchema } from './config';
export type { StateConfig } from './config';
export { containerFromCgroupFile, containerFromCgroupPath, HOST_CONTAINER_ID } from './cgroup';
export type { CgroupContainer, ContainerRuntime } from './cgroup';
export type { ContainerInfo, ContainerMount, FdInfo, FdType, ProcessInfo, StateEngine, StateReader, StateStats } from './types';
