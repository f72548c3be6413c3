import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configSchema } from '../../src/config';
import { ALLOWED_CAPABILITIES, checkWorkloadPolicy, isWorkload } from './policy';
import { KUSTOMIZE_DIR, OVERLAYS, findObject, kubectlUnavailable, podSpecOf, renderOverlay, type K8sObject } from './render';
import { schemaErrors } from './schemas';

const unavailable = kubectlUnavailable();
if (unavailable && process.env.CI !== 'true') console.warn(`skipping manifest tests: ${unavailable}`);
const describeRendered = describe.skipIf(unavailable !== undefined && process.env.CI !== 'true');

function rendered(overlay: (typeof OVERLAYS)[number]): K8sObject[] {
  if (unavailable) {
    // Outside CI the suites are skipped; their bodies still run to collect the tests.
    if (process.env.CI !== 'true') return [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'lanner' }, spec: { template: { spec: { containers: [] } } } }];
    throw new Error(`CI=true and manifests cannot be rendered: ${unavailable}`);
  }
  return renderOverlay(overlay);
}

const clone = <T>(x: T): T => structuredClone(x);

describeRendered.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = rendered(overlay);

  it('validates every object against its Kubernetes/CRD schema', () => {
    const errors = objects.map((o) => [`${o.kind}/${o.metadata.name}`, schemaErrors(o)]).filter(([, e]) => e !== '');
    expect(errors).toEqual([]);
  });

  it('puts every namespaced object in the lanner namespace', () => {
    for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('lanner');
  });

  it('passes the least-privilege policy', () => {
    const workloads = objects.filter(isWorkload);
    expect(workloads.map((w) => w.kind)).toEqual(['DaemonSet']);
    expect(workloads.flatMap(checkWorkloadPolicy)).toEqual([]);
  });

  it('runs the agent the way the design needs', () => {
    const ds = findObject(objects, 'DaemonSet', 'lanner');
    const pod = podSpecOf(ds);
    const c = pod.containers[0]!;
    expect(pod.hostPID).toBe(true);
    expect(pod.priorityClassName).toBe('system-node-critical');
    // One toleration that matches every taint (control plane, NoExecute, custom).
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(new Set(c.securityContext?.capabilities?.add)).toEqual(ALLOWED_CAPABILITIES);

    // Rules are a directory mount of a ConfigMap without a hash suffix, so edits reach the running pod.
    const rulesVolume = pod.volumes?.find((v) => v.name === 'rules');
    expect(rulesVolume?.configMap?.name).toBe('lanner-rules');
    expect(findObject(objects, 'ConfigMap', 'lanner-rules')).toBeDefined();
    expect(c.volumeMounts?.find((m) => m.name === 'rules')).toMatchObject({ mountPath: '/etc/lanner/rules.d', readOnly: true });
    // The config ConfigMap carries a content hash, so a config change rolls the pods.
    const configVolume = pod.volumes?.find((v) => v.name === 'config');
    expect(configVolume?.configMap?.name).toMatch(/^lanner-config-[a-z0-9]{10}$/);
    findObject(objects, 'ConfigMap', configVolume!.configMap!.name);
  });

  it('ships an agent config that names the mounted rules file and listens on all pod addresses', () => {
    const ds = findObject(objects, 'DaemonSet', 'lanner');
    const pod = podSpecOf(ds);
    const cm = findObject(objects, 'ConfigMap', pod.volumes!.find((v) => v.name === 'config')!.configMap!.name);
    const config = parseYaml((cm as unknown as { data: Record<string, string> }).data['lanner.yaml']!) as {
      rules_files: string[];
      metrics: { listen: string };
    };
    expect(config.rules_files).toContain('/etc/lanner/rules.d');
    expect(config.metrics.listen).toBe('0.0.0.0:8766');
    const port = (pod.containers[0] as unknown as { ports: { name: string; containerPort: number }[] }).ports.find((p) => p.name === 'metrics');
    expect(port?.containerPort).toBe(8766);
    const svc = findObject(objects, 'Service', 'lanner') as unknown as { spec: { ports: { port: number; targetPort: string }[] } };
    expect(svc.spec.ports[0]).toMatchObject({ port: 8766, targetPort: 'metrics' });
  });

  it('gives the service account no token', () => {
    expect(findObject(objects, 'ServiceAccount', 'lanner').automountServiceAccountToken).toBe(false);
    expect(objects.some((o) => /Role/.test(o.kind))).toBe(false);
  });
});

describeRendered('overlay differences', () => {
  it('adds ServiceMonitor and PrometheusRule only for the operator', () => {
    const plain = rendered('plain').map((o) => o.kind);
    const op = rendered('prometheus-operator').map((o) => o.kind);
    expect(plain).not.toContain('ServiceMonitor');
    expect(op).toContain('ServiceMonitor');
    expect(op).toContain('PrometheusRule');
    const ds = findObject(rendered('plain'), 'DaemonSet', 'lanner') as unknown as { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
    expect(ds.spec.template.metadata.annotations?.['prometheus.io/scrape']).toBe('true');
  });

  it('selects the Service the ServiceMonitor needs by label and port name', () => {
    const objects = rendered('prometheus-operator');
    const sm = findObject(objects, 'ServiceMonitor', 'lanner') as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } };
    const svc = findObject(objects, 'Service', 'lanner') as unknown as { metadata: { name: string; labels: Record<string, string> }; spec: { ports: { name: string }[] } };
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    // Without spec.jobLabel the operator names the job after the Service: the alert rules expect "lanner".
    expect((sm.spec as { jobLabel?: string }).jobLabel).toBeUndefined();
    expect(svc.metadata.name).toBe('lanner');
    expect(readFileSync(join(KUSTOMIZE_DIR, '..', 'prometheus', 'lanner-alerts.rules.yaml'), 'utf8')).toContain('up{job="lanner"}');
    expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]!.port);
  });
});

describeRendered('policy and schema checks catch bad manifests', () => {
  const base = findObject(rendered('plain'), 'DaemonSet', 'lanner');
  const mutate = (fn: (pod: ReturnType<typeof podSpecOf>) => void): K8sObject => {
    const ds = clone(base);
    fn(podSpecOf(ds));
    return ds;
  };
  const sc = (pod: ReturnType<typeof podSpecOf>) => pod.containers[0]!.securityContext!;

  const cases: [string, (pod: ReturnType<typeof podSpecOf>) => void, RegExp][] = [
    ['privileged container', (pod) => void (sc(pod).privileged = true), /privileged must be false/],
    ['missing privileged field', (pod) => void delete sc(pod).privileged, /privileged must be false/],
    ['SYS_ADMIN added', (pod) => void sc(pod).capabilities!.add!.push('SYS_ADMIN'), /capability SYS_ADMIN is not in the allowed list/],
    ['CAP_NET_ADMIN spelled with prefix', (pod) => void sc(pod).capabilities!.add!.push('CAP_NET_ADMIN'), /CAP_NET_ADMIN is not in the allowed list/],
    ['ALL not dropped', (pod) => void (sc(pod).capabilities!.drop = []), /drop must include ALL/],
    ['writable root filesystem', (pod) => void (sc(pod).readOnlyRootFilesystem = false), /readOnlyRootFilesystem must be true/],
    ['privilege escalation allowed', (pod) => void (sc(pod).allowPrivilegeEscalation = true), /allowPrivilegeEscalation must be false/],
    ['no memory limit', (pod) => void delete pod.containers[0]!.resources!.limits!.memory, /limits\.memory must be set/],
    ['no resources at all', (pod) => void delete pod.containers[0]!.resources, /limits\.cpu must be set/],
    ['writable host mount', (pod) => void (pod.containers[0]!.volumeMounts!.find((m) => m.name === 'etc-kubernetes')!.readOnly = false), /host mount etc-kubernetes .* must be readOnly/],
    ['writable socket mount', (pod) => void delete pod.containers[0]!.volumeMounts!.find((m) => m.name === 'containerd-run')!.readOnly, /host mount containerd-run/],
    ['host network', (pod) => void (pod.hostNetwork = true), /hostNetwork/],
    ['token mounted', (pod) => void (pod.automountServiceAccountToken = true), /automountServiceAccountToken/],
    ['seccomp unconfined', (pod) => void (pod.securityContext = { seccompProfile: { type: 'Unconfined' } }), /seccompProfile/],
    ['privileged init container', (pod) => void (pod.initContainers = [{ ...clone(pod.containers[0]!), name: 'init', securityContext: { privileged: true } }]), /container init: securityContext.privileged/],
  ];

  it.each(cases)('policy flags: %s', (_name, fn, expected) => {
    const violations = checkWorkloadPolicy(mutate(fn));
    expect(violations.some((v) => expected.test(v)), violations.join('\n')).toBe(true);
  });

  it('schema validation rejects wrong types, bad enums and missing required fields', () => {
    expect(schemaErrors(mutate((pod) => void ((pod as unknown as { hostPID: unknown }).hostPID = 'yes')))).toMatch(/hostPID/);
    expect(schemaErrors(mutate((pod) => void ((pod.containers[0] as unknown as { name?: string }).name = undefined)))).toMatch(/name/);
    const bad = clone(base) as unknown as { spec: { updateStrategy: { rollingUpdate: { maxUnavailable: unknown } } } };
    bad.spec.updateStrategy.rollingUpdate.maxUnavailable = [1];
    expect(schemaErrors(bad as unknown as K8sObject)).toMatch(/maxUnavailable/);
    const sm = clone(findObject(rendered('prometheus-operator'), 'ServiceMonitor', 'lanner')) as unknown as { spec: { endpoints: { interval: string }[] } };
    sm.spec.endpoints[0]!.interval = 'every 30 seconds';
    expect(schemaErrors(sm as unknown as K8sObject)).toMatch(/interval/);
    expect(schemaErrors({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toMatch(/no schema known/);
  });
});

describe('kustomize sources', () => {
  it('ship a node config whose keys and values the agent\'s config schema accepts', () => {
    // Partial: the packaged lanner.yaml supplies every other key. Strictness is kept, so a
    // misspelled key fails here instead of at agent start on every node.
    const overrides = parseYaml(readFileSync(join(KUSTOMIZE_DIR, 'base', 'config', 'lanner.yaml'), 'utf8')) as Record<string, unknown>;
    const partial = configSchema.deepPartial();
    const result = partial.safeParse(overrides);
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
    expect(partial.safeParse({ ...overrides, metrics: { listen: '0.0.0.0:8766', listen_port: 1 } }).success).toBe(false);
  });

  it('requests at least the memory measured in BENCHMARKS.md (RSS peak plus the ring buffer)', () => {
    const text = readFileSync(join(KUSTOMIZE_DIR, 'base', 'daemonset.yaml'), 'utf8');
    const bench = readFileSync(join(KUSTOMIZE_DIR, '..', '..', 'BENCHMARKS.md'), 'utf8');
    // Every recorded churn peak (the 10-minute soak line and the raw benchmark block).
    const peaks = [...bench.matchAll(/"rss_churn_max_mib": ?([\d.]+)/g)].map((m) => Number(m[1]));
    expect(peaks.length).toBeGreaterThan(0);
    const peakMiB = Math.max(...peaks);
    const request = /requests:\s*\n\s*cpu: \S+\s*\n\s*memory: (\d+)Mi/.exec(text);
    const limit = /limits:\s*\n\s*cpu: \S+\s*\n\s*memory: (\d+)Mi/.exec(text);
    expect(request, 'memory request in Mi').not.toBeNull();
    expect(Number(request![1])).toBeGreaterThanOrEqual(peakMiB + 16);
    expect(Number(limit![1])).toBeGreaterThan(Number(request![1]));
  });
});
