/** The `k8s.*` class: the pod of the process's container (from the CRI pod sandbox). */
import { field, fieldWithArg, type FieldDef } from './field';

export const K8S_FIELDS: readonly FieldDef[] = [
  field('k8s.pod.name', 'string', 'pod name', (c) => c.container()?.podName || undefined),
  field('k8s.ns.name', 'string', 'pod namespace', (c) => c.container()?.podNamespace || undefined),
  field('k8s.pod.uid', 'string', 'pod uid', (c) => c.container()?.podUid || undefined),
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
