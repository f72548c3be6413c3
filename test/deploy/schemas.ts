/**
 * Offline schema validation of rendered objects: Kubernetes kinds with the OpenAPI-derived
 * validators in `kubernetes-models`, the operator's CRDs with `@kubernetes-models/prometheus-operator`
 * (generated from the CRDs' own openAPIV3Schema). Like kubeconform's default mode these check
 * types, enums, patterns and required fields; unknown fields are not rejected, which is why the
 * policy checks require the security fields by exact name.
 */
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './render';

type Validating = new (data: never) => { validate(): void };

const MODELS: Readonly<Record<string, Validating>> = {
  'v1/Namespace': Namespace as unknown as Validating,
  'v1/ConfigMap': ConfigMap as unknown as Validating,
  'v1/Service': Service as unknown as Validating,
  'v1/ServiceAccount': ServiceAccount as unknown as Validating,
  'apps/v1/DaemonSet': DaemonSet as unknown as Validating,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule as unknown as Validating,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor as unknown as Validating,
};

/** Schema errors of one object ('' when valid); unknown apiVersion/kind is an error too. */
export function schemaErrors(o: K8sObject): string {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) return `no schema known for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o as never).validate();
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}
