/** Renders the kustomize overlays offline and finds objects in the result. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const KUSTOMIZE_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');
export const OVERLAYS = ['plain', 'prometheus-operator'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export function kubectlUnavailable(): string | undefined {
  return existsSync(KUBECTL) ? undefined : `${KUBECTL} not found (kustomize is built into kubectl)`;
}

/** `kubectl kustomize <dir>`: no cluster or network is involved. */
export function renderKustomization(dir: string): K8sObject[] {
  const out = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  });
}

export function renderOverlay(overlay: Overlay): K8sObject[] {
  return renderKustomization(join(KUSTOMIZE_DIR, 'overlays', overlay));
}

export function findObject(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${hits.length}`);
  return hits[0]!;
}

/** The agent's container in the rendered DaemonSet. */
export interface ContainerSpec {
  name: string;
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

export interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  priorityClassName?: string;
  tolerations?: { operator?: string; key?: string; effect?: string }[];
  securityContext?: { seccompProfile?: { type: string } };
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: { name: string; hostPath?: { path: string; type?: string }; configMap?: { name: string } }[];
}

export function podSpecOf(workload: K8sObject): PodSpec {
  const spec = workload.spec as { template?: { spec?: PodSpec } } | undefined;
  if (!spec?.template?.spec) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  return spec.template.spec;
}
