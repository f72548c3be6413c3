/**
 * Our own least-privilege policy for workloads in deploy/: what a reviewer would check by hand,
 * as code, so a manifest change that widens privilege fails CI.
 */
import { podSpecOf, type ContainerSpec, type K8sObject } from './render';

/**
 * The only capabilities any Lanner container may add, each justified in deploy/README.md.
 * SYS_RESOURCE is deliberately absent: it is needed only on kernels < 5.11 (memlock rlimit).
 */
export const ALLOWED_CAPABILITIES: ReadonlySet<string> = new Set(['BPF', 'PERFMON', 'SYS_PTRACE', 'DAC_READ_SEARCH']);

const WORKLOAD_KINDS = new Set(['DaemonSet', 'Deployment', 'StatefulSet', 'Job', 'CronJob', 'Pod', 'ReplicaSet']);

export function isWorkload(o: K8sObject): boolean {
  return WORKLOAD_KINDS.has(o.kind);
}

function checkContainer(where: string, c: ContainerSpec, hostPathVolumes: ReadonlySet<string>): string[] {
  const v: string[] = [];
  const sc = c.securityContext;
  if (sc?.privileged !== false) v.push(`${where}: securityContext.privileged must be false`);
  if (sc?.allowPrivilegeEscalation !== false) v.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
  if (sc?.readOnlyRootFilesystem !== true) v.push(`${where}: securityContext.readOnlyRootFilesystem must be true`);
  const drop = sc?.capabilities?.drop ?? [];
  if (!drop.includes('ALL')) v.push(`${where}: capabilities.drop must include ALL`);
  for (const cap of sc?.capabilities?.add ?? []) {
    const name = cap.toUpperCase().replace(/^CAP_/, '');
    if (!ALLOWED_CAPABILITIES.has(name)) v.push(`${where}: capability ${cap} is not in the allowed list`);
  }
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const r of ['cpu', 'memory']) {
    if (!limits[r]) v.push(`${where}: resources.limits.${r} must be set`);
    if (!requests[r]) v.push(`${where}: resources.requests.${r} must be set`);
  }
  for (const m of c.volumeMounts ?? []) {
    // Unix sockets need no writable mount (connect() is not refused with EROFS), so no exception.
    if (hostPathVolumes.has(m.name) && m.readOnly !== true) v.push(`${where}: host mount ${m.name} at ${m.mountPath} must be readOnly`);
  }
  return v;
}

/** Violations of the policy in one workload; empty when it complies. */
export function checkWorkloadPolicy(workload: K8sObject): string[] {
  const pod = podSpecOf(workload);
  const id = `${workload.kind}/${workload.metadata.name}`;
  const v: string[] = [];
  if (pod.hostNetwork === true) v.push(`${id}: hostNetwork must not be used`);
  if (pod.hostIPC === true) v.push(`${id}: hostIPC must not be used`);
  if (pod.automountServiceAccountToken !== false) v.push(`${id}: automountServiceAccountToken must be false (the agent needs no API access)`);
  const seccomp = pod.securityContext?.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${id}: pod seccompProfile must be RuntimeDefault or Localhost`);
  const hostPathVolumes = new Set((pod.volumes ?? []).filter((vol) => vol.hostPath !== undefined).map((vol) => vol.name));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) v.push(...checkContainer(`${id} container ${c.name}`, c, hostPathVolumes));
  return v;
}
