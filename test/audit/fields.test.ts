/** The ka.*, json.*, jevt.* and evt.* fields of the k8s_audit source, with the k8saudit plugin's documented meaning. */
import { describe, expect, it } from 'vitest';
import type { OutputFieldValue } from '../../src/outputs/alert';
import { compileRules } from '../../src/rules/ruleset';
import { auditEvent, bindingToClusterAdmin, execIntoPod, podCreated } from './events';
import { auditConfig, stockSource, tempDir } from './helpers';

/** Renders `fields` (output tokens) for one event through a catch-all k8s_audit rule. */
function extract(event: Record<string, unknown>, fields: readonly string[], condition = 'jevt.rawtime exists'): Record<string, OutputFieldValue> | undefined {
  const output = fields.map((f) => `%${f}`).join(' ');
  const rs = compileRules([{ name: 't.yaml', content: `- rule: Probe\n  desc: d\n  condition: ${condition}\n  output: ${JSON.stringify(output)}\n  priority: INFO\n  source: k8s_audit\n` }]);
  expect(rs.errors).toEqual([]);
  const t = stockSource(auditConfig(tempDir()), 'all', rs);
  t.source.ingest(JSON.stringify(event), 'file');
  return t.alerts[0]?.outputFields;
}

describe('ka.* fields', () => {
  it('request, user and target fields', () => {
    const f = extract(execIntoPod(), ['ka.verb', 'ka.user.name', 'ka.user.groups', 'ka.stage', 'ka.uri', 'ka.uri.param[container]', 'ka.uri.param[nope]', 'ka.target.resource', 'ka.target.subresource', 'ka.target.namespace', 'ka.target.name', 'ka.auth.decision', 'ka.useragent', 'ka.sourceips', 'ka.sourceips[0]', 'ka.impuser.name', 'ka.response.code']);
    expect(f).toEqual({
      'ka.verb': 'create',
      'ka.user.name': 'kubernetes-admin',
      'ka.user.groups': 'kubeadm:cluster-admins,system:authenticated',
      'ka.stage': 'ResponseStarted',
      'ka.uri': '/api/v1/namespaces/default/pods/nginx/exec?command=sh&command=-c&command=id&container=nginx&stdin=true&stdout=true&tty=true',
      'ka.uri.param[container]': 'nginx',
      'ka.uri.param[nope]': null,
      'ka.target.resource': 'pods',
      'ka.target.subresource': 'exec',
      'ka.target.namespace': 'default',
      'ka.target.name': 'nginx',
      'ka.auth.decision': 'allow',
      'ka.useragent': 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
      'ka.sourceips': '10.0.0.12',
      'ka.sourceips[0]': '10.0.0.12',
      'ka.impuser.name': null,
      // ResponseStarted carries no responseStatus.
      'ka.response.code': null,
    });
  });

  it('binding fields', () => {
    const ev = bindingToClusterAdmin();
    (ev.requestObject as { subjects: unknown[] }).subjects.push({ kind: 'User', name: 'eve', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' });
    const f = extract(ev, ['ka.req.binding.role', 'ka.req.binding.subjects.user_names', 'ka.req.binding.subjects.serviceaccount_names', 'ka.req.binding.subjects.serviceaccount_ns_names', 'ka.req.binding.subjects.group_names', 'ka.resp.name']);
    expect(f).toEqual({
      'ka.req.binding.role': 'cluster-admin',
      'ka.req.binding.subjects.user_names': 'eve',
      'ka.req.binding.subjects.serviceaccount_names': 'default',
      'ka.req.binding.subjects.serviceaccount_ns_names': 'default:default',
      'ka.req.binding.subjects.group_names': 'devs',
      'ka.resp.name': 'pwn',
    });
  });

  it('pod fields: per-container lists with an optional [N], repositories, effective uids', () => {
    const ev = podCreated({ privileged: true, hostNetwork: true, hostPath: '/var/run/docker.sock', image: 'registry.k8s.io/pause@sha256:abc' });
    const spec = (ev.requestObject as { spec: { containers: Record<string, unknown>[]; securityContext?: unknown; initContainers?: unknown[] } }).spec;
    spec.containers.push({ name: 'side', image: 'nginx:1.27', ports: [{ containerPort: 80, hostPort: 8080 }], securityContext: { runAsUser: 1000, capabilities: { add: ['NET_ADMIN', 'SYS_TIME'] } } });
    spec.securityContext = { runAsUser: 2000 };
    spec.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { privileged: false } }];
    const f = extract(ev, [
      'ka.req.pod.containers.image',
      'ka.req.pod.containers.image[1]',
      'ka.req.pod.containers.image.repository',
      'ka.req.pod.containers.name',
      'ka.req.pod.containers.privileged',
      'ka.req.pod.containers.host_port',
      'ka.req.pod.containers.run_as_user',
      'ka.req.pod.containers.eff_run_as_user',
      'ka.req.pod.containers.eff_run_as_group',
      'ka.req.pod.containers.add_capabilities',
      'ka.req.pod.containers.command',
      'ka.req.pod.initContainers.image',
      'ka.req.pod.initContainers.privileged',
      'ka.req.pod.ephemeralContainers.image',
      'ka.req.pod.host_network',
      'ka.req.pod.host_pid',
      'ka.req.pod.run_as_user',
      'ka.req.pod.volumes.hostpath',
      'ka.req.pod.volumes.volume_type',
      'ka.req.volume.hostpath[/var/run/*]',
      'ka.req.container.image',
      'ka.req.container.privileged',
      'ka.target.pod.name',
    ]);
    expect(f).toEqual({
      'ka.req.pod.containers.image': 'registry.k8s.io/pause@sha256:abc,nginx:1.27',
      'ka.req.pod.containers.image[1]': 'nginx:1.27',
      'ka.req.pod.containers.image.repository': 'registry.k8s.io/pause,nginx',
      'ka.req.pod.containers.name': 'debugger,side',
      // Only containers that set the flag have a value.
      'ka.req.pod.containers.privileged': 'true',
      'ka.req.pod.containers.host_port': '8080',
      'ka.req.pod.containers.run_as_user': '1000',
      'ka.req.pod.containers.eff_run_as_user': '2000,1000',
      'ka.req.pod.containers.eff_run_as_group': '0,0',
      'ka.req.pod.containers.add_capabilities': 'NET_ADMIN,SYS_TIME',
      'ka.req.pod.containers.command': 'sleep infinity',
      'ka.req.pod.initContainers.image': 'busybox:1.36',
      'ka.req.pod.initContainers.privileged': 'false',
      'ka.req.pod.ephemeralContainers.image': null,
      'ka.req.pod.host_network': 'true',
      'ka.req.pod.host_pid': null,
      'ka.req.pod.run_as_user': '2000',
      'ka.req.pod.volumes.hostpath': '/var/run/docker.sock',
      'ka.req.pod.volumes.volume_type': 'hostPath',
      'ka.req.volume.hostpath[/var/run/*]': 'true',
      'ka.req.container.image': 'registry.k8s.io/pause@sha256:abc',
      'ka.req.container.privileged': 'true',
      // A create on the pods collection: the name comes from the response object.
      'ka.target.pod.name': 'debugger',
    });
  });

  it('list semantics: `in` needs every value in the set, `intersects` any, an empty list nothing', () => {
    const ev = podCreated({ privileged: true });
    expect(extract(ev, ['ka.verb'], 'ka.req.pod.containers.privileged intersects (true)')).toBeDefined();
    expect(extract(ev, ['ka.verb'], 'ka.req.pod.containers.image.repository in (docker.io/library/alpine, x)')).toBeDefined();
    expect(extract(ev, ['ka.verb'], 'ka.req.pod.containers.image.repository in (x)')).toBeUndefined();
    expect(extract(podCreated({}), ['ka.verb'], 'ka.req.pod.containers.privileged exists')).toBeUndefined();
  });

  it('role rules and service fields', () => {
    const role = auditEvent({
      verb: 'create',
      uri: '/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles',
      objectRef: { resource: 'roles', namespace: 'dev', name: 'r' },
      requestObject: { kind: 'Role', rules: [{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'create'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }] },
    });
    expect(extract(role, ['ka.req.role.rules.resources', 'ka.req.role.rules.verbs[1]', 'ka.req.role.rules'])).toEqual({
      'ka.req.role.rules.resources': 'pods,pods/exec,deployments',
      'ka.req.role.rules.verbs[1]': 'list',
      'ka.req.role.rules': '{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]},{"apiGroups":["apps"],"resources":["deployments"],"verbs":["list"]}',
    });
    const svc = auditEvent({ verb: 'create', uri: '/api/v1/namespaces/default/services', objectRef: { resource: 'services', namespace: 'default' }, requestObject: { kind: 'Service', spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } } });
    expect(extract(svc, ['ka.req.service.type', 'ka.req.service.ports'])).toEqual({ 'ka.req.service.type': 'NodePort', 'ka.req.service.ports': '{"port":80,"nodePort":30080}' });
  });
});

describe('json.* / jevt.* and evt.* fields', () => {
  it('JSON pointer access, the whole object, the raw time', () => {
    const ev = bindingToClusterAdmin();
    ev.stageTimestamp = '2026-12-02T07:00:01.5Z';
    const f = extract(ev, ['jevt.value[/requestObject/roleRef/name]', 'json.value[/requestObject/subjects/0/namespace]', 'jevt.value[/annotations/authorization.k8s.io~1decision]', 'jevt.value[/responseStatus]', 'jevt.value[/nope]', 'jevt.rawtime', 'evt.time.iso8601', 'evt.source', 'evt.pluginname', 'evt.num', 'evt.hostname']);
    expect(f).toEqual({
      'jevt.value[/requestObject/roleRef/name]': 'cluster-admin',
      'json.value[/requestObject/subjects/0/namespace]': 'default',
      'jevt.value[/annotations/authorization.k8s.io~1decision]': 'allow',
      'jevt.value[/responseStatus]': '{"metadata":{},"code":201}',
      'jevt.value[/nope]': null,
      'jevt.rawtime': '1796194801500000000',
      'evt.time.iso8601': '2026-12-02T07:00:01.500000000Z',
      'evt.source': 'k8s_audit',
      'evt.pluginname': 'k8saudit',
      'evt.num': 1,
      'evt.hostname': 'cp-1',
    });
    const obj = extract(ev, ['jevt.obj'])!['jevt.obj'] as string;
    expect(JSON.parse(obj)).toEqual(ev);
    expect(obj).toContain('\n  "kind": "Event"');
  });

  it('a JSON document that is not an audit event (no auditID) has no ka.* values', () => {
    const ev = execIntoPod();
    const { auditID: _, ...rest } = ev;
    const rs = compileRules([{ name: 't.yaml', content: '- rule: P\n  desc: d\n  condition: ka.verb exists\n  output: o\n  priority: INFO\n  source: k8s_audit\n' }]);
    const t = stockSource(auditConfig(tempDir()), 'all', rs);
    // Without auditID the decoder already refuses it; the field itself says the same.
    expect(t.source.ingest(JSON.stringify(rest), 'file')).toBe(0);
    expect(t.source.stats().badInput.invalid_event).toBe(1);
  });
});
