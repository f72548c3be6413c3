/** The `k8s.*` class: the pod of the process's container (from the CRI pod sandbox). */
import { field, fieldWithArg, nullField, type FieldDef } from './field';

const NOT_COLLECTED = 'Lanner does not collect it from the container runtime';
/** Kubernetes API objects the node agent does not watch (Falco moved them to the k8smeta plugin). */
const API_ONLY = 'needs the Kubernetes API, deprecated by the container plugin';

export const K8S_FIELDS: readonly FieldDef[] = [
  field('k8s.pod.name', 'string', 'pod name', (c) => c.container()?.podName || undefined),
  field('k8s.ns.name', 'string', 'pod namespace', (c) => c.container()?.podNamespace || undefined),
  field('k8s.pod.uid', 'string', 'pod uid', (c) => c.container()?.podUid || undefined),
  field('k8s.pod.id', 'string', 'legacy name of k8s.pod.uid', (c) => c.container()?.podUid || undefined, { deprecated: true }),
  nullField('k8s.pod.sandbox_id', 'string', 'truncated pod sandbox id', NOT_COLLECTED),
  nullField('k8s.pod.full_sandbox_id', 'string', 'full pod sandbox id', NOT_COLLECTED),
  nullField('k8s.pod.ip', 'string', 'pod IPv4 address', NOT_COLLECTED),
  nullField('k8s.pod.cni.json', 'string', "pod's CNI result as JSON", NOT_COLLECTED),
  ...['rc', 'svc', 'rs', 'deployment'].flatMap((kind) => [
    nullField(`k8s.${kind}.name`, 'string', `${kind} name`, API_ONLY, { deprecated: true }),
    nullField(`k8s.${kind}.id`, 'string', `${kind} id`, API_ONLY, { deprecated: true }),
    nullField(`k8s.${kind}.label`, 'string', `${kind} label [key]`, API_ONLY, { deprecated: true, arg: 'key' }),
    nullField(`k8s.${kind}.labels`, 'string', `${kind} labels`, API_ONLY, { deprecated: true }),
  ]),
  nullField('k8s.ns.id', 'string', 'namespace id', API_ONLY, { deprecated: true }),
  nullField('k8s.ns.label', 'string', 'namespace label [key]', API_ONLY, { deprecated: true, arg: 'key' }),
  nullField('k8s.ns.labels', 'string', 'namespace labels', API_ONLY, { deprecated: true }),
  fieldWithArg(
    'k8s.pod.label',
    'string',
    'value of pod label [key]',
    (arg) => (c) => {
      const ctr = c.container();
      return ctr && arg !== undefined ? ctr.podLabels[arg] : undefined;
    },
    { arg: 'key' },
  ),
  field('k8s.pod.labels', 'string', 'all pod labels as k:v, comma-separated', (c) => {
    const ctr = c.container();
    return ctr && ctr.podName ? Object.entries(ctr.podLabels).map(([k, v]) => `${k}:${v}`).join(', ') : undefined;
  }),
];
