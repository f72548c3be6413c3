/**
 * Turns the agent container of the rendered DaemonSet into `podman run` arguments, so the image
 * runs with exactly what the manifest grants: user, capabilities, no_new_privs, read-only root
 * filesystem, host PID, AppArmor, the same mounts (ConfigMaps written out from the rendered
 * objects, emptyDirs as sized tmpfs, host paths bound with their read-only flag), the same
 * environment, arguments ($(VAR) expanded as the kubelet does) and resource limits.
 * A host path the node lacks is replaced by an empty stand-in under `workDir` rather than created
 * on the host (DirectoryOrCreate/FileOrCreate would create it): the tests share their machine.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findObject, podSpecOf, type K8sObject } from './render';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface AgentContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { containerPort: number; protocol?: string }[];
  resources?: { limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string; localhostProfile?: string };
    appArmorProfile?: { type: string };
  };
}

interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string };
  emptyDir?: { medium?: string; sizeLimit?: string };
}

interface AgentPod {
  hostPID?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  securityContext?: { seccompProfile?: { type: string } };
  containers: AgentContainer[];
  volumes?: Volume[];
}

export interface PodmanRunOptions {
  readonly image: string;
  readonly name: string;
  /** Where ConfigMap contents and host-path stand-ins are written. */
  readonly workDir: string;
  /** The node name the kubelet would put in `spec.nodeName`. */
  readonly nodeName: string;
  /** Loopback port the container's ports are published on (the first port), for the probes. */
  readonly hostPort: number;
  /** The seccomp profile that stands for `RuntimeDefault` (podman's own default when unset). */
  readonly runtimeDefaultSeccomp?: string;
}

const UNITS: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1000, M: 1000 ** 2, G: 1000 ** 3 };

/** A Kubernetes quantity of bytes (`320Mi`, `1G`, `1000`). */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(q);
  if (!m) throw new Error(`unsupported quantity ${q}`);
  return Math.round(Number(m[1]) * (m[2] ? UNITS[m[2]]! : 1));
}

/** A Kubernetes CPU quantity (`1`, `500m`) in CPUs. */
export function quantityCpus(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** `$(VAR)` references expanded from the container's environment; `$$(VAR)` stays literal. */
export function expandK8sVars(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string | undefined) => (name === undefined ? '$' : env[name] ?? all));
}

function agentContainer(objects: readonly K8sObject[]): { pod: AgentPod; c: AgentContainer } {
  const pod = podSpecOf(findObject(objects, 'DaemonSet', 'lanner')) as unknown as AgentPod;
  const c = pod.containers.find((x) => x.name === 'lanner');
  if (!c) throw new Error('DaemonSet lanner has no container named lanner');
  return { pod, c };
}

/** The `podman run` arguments (after `run`) for the DaemonSet's agent container. */
export function podmanRunArgs(objects: readonly K8sObject[], opts: PodmanRunOptions): string[] {
  const { pod, c } = agentContainer(objects);
  const args: string[] = ['--name', opts.name];
  const sc = c.securityContext ?? {};

  if (sc.privileged === true) args.push('--privileged');
  args.push('--user', `${sc.runAsUser ?? 0}:${sc.runAsGroup ?? sc.runAsUser ?? 0}`);
  for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of sc.capabilities?.add ?? []) args.push('--cap-add', cap);
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  // Only what the manifest mounts is writable: no tmpfs podman would add on /run, /tmp, /var/tmp.
  if (sc.readOnlyRootFilesystem === true) args.push('--read-only', '--read-only-tmpfs=false');
  const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  if (seccomp === 'Unconfined') args.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp === 'Localhost') args.push('--security-opt', `seccomp=${sc.seccompProfile?.localhostProfile ?? ''}`);
  else if (opts.runtimeDefaultSeccomp !== undefined) args.push('--security-opt', `seccomp=${opts.runtimeDefaultSeccomp}`);
  if (sc.appArmorProfile?.type === 'Unconfined') args.push('--security-opt', 'apparmor=unconfined');

  if (pod.hostPID === true) args.push('--pid', 'host');
  if (pod.hostIPC === true) args.push('--ipc', 'host');
  if (pod.hostNetwork === true) args.push('--network', 'host');
  else for (const p of (c.ports ?? []).slice(0, 1)) args.push('-p', `127.0.0.1:${opts.hostPort}:${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`);

  const limits = c.resources?.limits ?? {};
  if (limits['memory']) args.push('--memory', String(quantityBytes(limits['memory'])));
  if (limits['cpu']) args.push('--cpus', String(quantityCpus(limits['cpu'])));

  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env[e.name] = opts.nodeName;
    else throw new Error(`env ${e.name}: only values and spec.nodeName are modelled`);
  }
  for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);

  for (const m of c.volumeMounts ?? []) {
    const vol = (pod.volumes ?? []).find((v) => v.name === m.name);
    if (!vol) throw new Error(`volume ${m.name} is mounted but not declared`);
    args.push('--mount', mountOption(objects, vol, m, opts.workDir));
  }

  if (c.command) args.push('--entrypoint', JSON.stringify(c.command.map((a) => expandK8sVars(a, env))));
  args.push(opts.image, ...(c.args ?? []).map((a) => expandK8sVars(a, env)));
  return args;
}

function mountOption(objects: readonly K8sObject[], vol: Volume, m: { mountPath: string; readOnly?: boolean }, workDir: string): string {
  const ro = m.readOnly === true ? ',ro=true' : '';
  if (vol.configMap) {
    const cm = findObject(objects, 'ConfigMap', vol.configMap.name) as K8sObject & { data?: Record<string, string> };
    const dir = join(workDir, 'configmaps', vol.name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(cm.data ?? {})) writeFileSync(join(dir, file), text);
    // The kubelet mounts ConfigMap volumes read-only whatever the mount says.
    return `type=bind,src=${dir},dst=${m.mountPath},ro=true`;
  }
  if (vol.emptyDir) {
    if (vol.emptyDir.medium === 'Memory') {
      const size = vol.emptyDir.sizeLimit ? `,tmpfs-size=${quantityBytes(vol.emptyDir.sizeLimit)}` : '';
      return `type=tmpfs,dst=${m.mountPath}${size}`;
    }
    const dir = join(workDir, 'emptydirs', vol.name);
    mkdirSync(dir, { recursive: true });
    return `type=bind,src=${dir},dst=${m.mountPath}${ro}`;
  }
  if (vol.hostPath) {
    let src = vol.hostPath.path;
    if (!existsSync(src)) {
      src = join(workDir, 'missing-host-paths', vol.name);
      if (vol.hostPath.type === 'FileOrCreate' || vol.hostPath.type === 'File') {
        mkdirSync(join(workDir, 'missing-host-paths'), { recursive: true });
        writeFileSync(src, '');
      } else mkdirSync(src, { recursive: true });
    }
    return `type=bind,src=${src},dst=${m.mountPath}${ro}`;
  }
  throw new Error(`volume ${vol.name}: only configMap, emptyDir and hostPath are modelled`);
}

interface SeccompRule {
  names: string[];
  action: string;
  includes?: { caps?: string[] };
  excludes?: { caps?: string[] };
  [key: string]: unknown;
}

/** Syscall → the capability that, held alone, unlocks it in containerd's and Docker's defaults. */
const CAPABILITY_GATED: Readonly<Record<string, string>> = { bpf: 'CAP_BPF', perf_event_open: 'CAP_PERFMON' };

/**
 * A default seccomp profile in the containers/common format (podman's, CRI-O's) changed to gate
 * `bpf` and `perf_event_open` the way containerd's (since 1.7) and Docker's (since 23.0) defaults
 * do: allowed with CAP_BPF or CAP_PERFMON, not only with CAP_SYS_ADMIN. Everything else is kept.
 */
export function withCapabilityGatedBpf(profile: { syscalls: SeccompRule[] }): { syscalls: SeccompRule[] } {
  const gated = Object.keys(CAPABILITY_GATED);
  const syscalls: SeccompRule[] = [];
  for (const rule of profile.syscalls) {
    const denies = rule.action === 'SCMP_ACT_ERRNO' && rule.excludes?.caps?.includes('CAP_SYS_ADMIN') === true;
    if (!denies || !rule.names.some((n) => gated.includes(n))) {
      syscalls.push(rule);
      continue;
    }
    // The deny rule applies to containers without CAP_SYS_ADMIN: take the gated calls out of it and
    // deny each only when its own capability is missing too (one action per call and capability set).
    syscalls.push({ ...rule, names: rule.names.filter((n) => !gated.includes(n)) });
    for (const name of rule.names.filter((n) => gated.includes(n))) {
      const cap = CAPABILITY_GATED[name]!;
      syscalls.push({ ...rule, names: [name], excludes: { ...rule.excludes, caps: [...(rule.excludes?.caps ?? []), cap] } });
      syscalls.push({ names: [name], action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] }, excludes: { caps: ['CAP_SYS_ADMIN'] } });
    }
  }
  return { ...profile, syscalls };
}
