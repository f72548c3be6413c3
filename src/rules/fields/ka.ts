/**
 * The `ka.*` class: Kubernetes audit events (`audit.k8s.io/v1` Event), with the names, types and
 * documented meaning of the k8saudit plugin's fields, so Falco's k8s_audit rules run unchanged.
 *
 * Every field reads the event's JSON document (./jevt). A document without `auditID` is not an
 * audit event: nothing is extractable from it. A JSON string is its text, any other JSON value its
 * compact JSON (`ka.response.code` is "200", `ka.req.pod.host_network` is "true"). List fields
 * (`strlist`) with no value are not extractable, so `intersects`/`in` on them are false.
 *
 * Per-container fields exist for `containers`, `initContainers` and `ephemeralContainers`; those
 * marked Index take an optional `[N]` that selects one container (or volume, rule, port, address).
 */
import type { ExtractContext, FieldValue } from '../context';
import { field, fieldWithArg, type Extractor, type FieldDef } from './field';
import { docOf, jsonText, member, path } from './jevt';

/** No `[N]`: every element of the arrays on the way. */
const ALL = -1;

/** The event document when it is an audit event (has `auditID`). */
function auditDoc(c: ExtractContext): unknown {
  const d = docOf(c);
  return member(d, 'auditID') === undefined ? undefined : d;
}

/**
 * The values at `keys`, fanning out over every array met on the way (or taking only element
 * `index` of each). An element lacking the rest of the path leaves `undefined` in its place; the
 * whole result is undefined when the path is missing outside any array.
 */
function fanOut(v: unknown, keys: readonly string[], index: number, from = 0): unknown[] | undefined {
  let cur = v;
  for (let i = from; i < keys.length; i++) {
    if (Array.isArray(cur)) {
      if (index === ALL) {
        const out: unknown[] = [];
        for (const el of cur as unknown[]) {
          const r = fanOut(el, keys, index, i);
          if (r === undefined) out.push(undefined);
          else for (const x of r) out.push(x);
        }
        return out;
      }
      if (index >= cur.length) return undefined;
      cur = (cur as unknown[])[index];
    }
    cur = member(cur, keys[i]!);
    if (cur === undefined) return undefined;
  }
  return [cur];
}

/** A non-empty list, else not extractable. */
function listOrNone(values: string[]): FieldValue | undefined {
  return values.length > 0 ? values : undefined;
}

/** Texts of the values that exist. */
function present(values: readonly unknown[] | undefined): FieldValue | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) if (v !== undefined) out.push(jsonText(v)!);
  return listOrNone(out);
}

/** Texts of the values, or not extractable when any is missing (a container without an image). */
function allPresent(values: readonly unknown[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) {
    if (v === undefined) return undefined;
    out.push(jsonText(v)!);
  }
  return out.length > 0 ? out : undefined;
}

/** Elements of arrays found among `values`, flattened, as texts (rule verbs, added capabilities). */
function flattened(values: readonly unknown[] | undefined): FieldValue | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) if (Array.isArray(v)) for (const x of v as unknown[]) if (x !== undefined) out.push(jsonText(x)!);
  return listOrNone(out);
}

/** An image reference without tag or digest, the way the plugin cuts it (before the first ':' then '@'). */
function repositoryOf(image: string): string {
  return image.split(':')[0]!.split('@')[0]!;
}

function indexOf(arg: string | undefined): number {
  return arg === undefined ? ALL : Number(arg);
}

/** A single value at a fixed path. */
function at(name: string, description: string, keys: readonly string[], opts: { deprecated?: boolean } = {}): FieldDef {
  return field(name, 'string', description, (c) => jsonText(path(auditDoc(c), keys)), opts);
}

/** A JSON array at a fixed path, each element as text (not extractable when not an array). */
function arrayAt(name: string, description: string, keys: readonly string[]): FieldDef {
  return field(name, 'strlist', description, (c) => {
    const v = path(auditDoc(c), keys);
    if (!Array.isArray(v)) return undefined;
    return listOrNone((v as unknown[]).map((x) => jsonText(x) ?? 'null'));
  });
}

/** A list field over `keys` with the optional `[N]`. */
function indexed(name: string, description: string, get: (doc: unknown, index: number) => FieldValue | undefined): FieldDef {
  return fieldWithArg(name, 'strlist', description, (arg): Extractor => {
    const index = indexOf(arg);
    return (c) => get(auditDoc(c), index);
  }, { arg: 'index_opt' });
}

/** Joined words of an array-of-strings value per container (`command`, `args`); not extractable on other types. */
function joinedWords(values: readonly unknown[] | undefined): FieldValue | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) {
    if (v === undefined) continue;
    if (!Array.isArray(v) || !(v as unknown[]).every((w) => typeof w === 'string')) return undefined;
    out.push((v as string[]).join(' '));
  }
  return listOrNone(out);
}

function hostPorts(values: readonly unknown[] | undefined): FieldValue | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const ports of values) {
    if (ports === undefined) continue;
    if (!Array.isArray(ports)) return undefined;
    for (const p of ports as unknown[]) {
      // With hostNetwork the container port is the host port.
      const v = member(p, 'hostPort') ?? member(p, 'containerPort');
      if (v !== undefined) out.push(jsonText(v)!);
    }
  }
  return listOrNone(out);
}

/** Element `index` of an array (all of it for ALL); undefined when not an array or out of range. */
function chosen(v: unknown, index: number): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (index === ALL) return v as unknown[];
  return index < v.length ? [(v as unknown[])[index]] : undefined;
}

/** The uid/gid a container starts with: its own security context, else the pod's, else 0. */
function effective(doc: unknown, list: string, index: number, key: string): FieldValue | undefined {
  const podValue = path(doc, ['requestObject', 'spec', 'securityContext', key]);
  const containers = chosen(path(doc, ['requestObject', 'spec', list]), index);
  if (containers === undefined) return undefined;
  return listOrNone(containers.map((ctr) => jsonText(path(ctr, ['securityContext', key]) ?? podValue ?? 0)!));
}

const CONTAINER_LISTS = [
  { list: 'containers', what: "the pod's containers" },
  { list: 'initContainers', what: "the pod's init containers" },
  { list: 'ephemeralContainers', what: "the pod's ephemeral containers" },
] as const;

function containerFields(list: string, what: string): FieldDef[] {
  const name = (sub: string): string => `ka.req.pod.${list}.${sub}`;
  const values = (doc: unknown, index: number, ...keys: string[]): unknown[] | undefined => fanOut(doc, ['requestObject', 'spec', list, ...keys], index);
  const security = (sub: string, key: string, desc: string): FieldDef =>
    indexed(name(sub), `${desc} of ${what} (request object is a pod)`, (doc, i) => present(values(doc, i, 'securityContext', key)));
  return [
    indexed(name('name'), `names of ${what} (request object is a pod)`, (doc, i) => allPresent(values(doc, i, 'name'))),
    indexed(name('image'), `images of ${what} (request object is a pod)`, (doc, i) => allPresent(values(doc, i, 'image'))),
    indexed(name('image.repository'), `image repositories (no tag or digest) of ${what}`, (doc, i) => allPresent(values(doc, i, 'image'))?.map(repositoryOf)),
    indexed(name('command'), `commands of ${what}, words joined by spaces`, (doc, i) => joinedWords(values(doc, i, 'command'))),
    indexed(name('args'), `arguments of ${what}, words joined by spaces`, (doc, i) => joinedWords(values(doc, i, 'args'))),
    indexed(name('host_port'), `host ports of ${what} (the container port with host networking)`, (doc, i) => hostPorts(values(doc, i, 'ports'))),
    security('privileged', 'privileged', 'the privileged flags'),
    security('allow_privilege_escalation', 'allowPrivilegeEscalation', 'the allowPrivilegeEscalation flags'),
    security('read_only_fs', 'readOnlyRootFilesystem', 'the readOnlyRootFilesystem flags'),
    security('run_as_user', 'runAsUser', 'the runAsUser uids'),
    security('run_as_group', 'runAsGroup', 'the runAsGroup gids'),
    security('proc_mount', 'procMount', 'the procMount types'),
    indexed(name('eff_run_as_user'), `the uid each of ${what} starts with (container, else pod security context, else 0)`, (doc, i) => effective(doc, list, i, 'runAsUser')),
    indexed(name('eff_run_as_group'), `the gid each of ${what} starts with (container, else pod security context, else 0)`, (doc, i) => effective(doc, list, i, 'runAsGroup')),
    indexed(name('add_capabilities'), `capabilities added to ${what}`, (doc, i) => flattened(values(doc, i, 'securityContext', 'capabilities', 'add'))),
  ];
}

/** Names of binding subjects of one kind; `ns` prefixes service accounts with their namespace. */
function subjectNames(kind: string, ns: boolean): Extractor {
  return (c) => {
    const subjects = path(auditDoc(c), ['requestObject', 'subjects']);
    if (!Array.isArray(subjects)) return undefined;
    const out: string[] = [];
    for (const s of subjects as unknown[]) {
      const k = member(s, 'kind');
      const n = member(s, 'name');
      if (k !== kind || typeof n !== 'string') continue;
      if (!ns) out.push(n);
      else {
        const namespace = member(s, 'namespace');
        if (typeof namespace === 'string') out.push(`${namespace}:${n}`);
      }
    }
    return listOrNone(out);
  };
}

function uriParam(arg: string | undefined): Extractor | string {
  if (arg === undefined || arg === '') return 'ka.uri.param needs a [key]';
  return (c) => {
    const uri = member(auditDoc(c), 'requestURI');
    if (typeof uri !== 'string') return undefined;
    const q = uri.indexOf('?');
    if (q < 0) return undefined;
    const hash = uri.indexOf('#', q);
    return new URLSearchParams(uri.slice(q + 1, hash < 0 ? undefined : hash)).get(arg) ?? undefined;
  };
}

/** `ka.req.volume.hostpath[/path]` (or `[/prefix*]`): "true" when a hostPath volume uses it. */
function volumeHostPath(arg: string | undefined): Extractor | string {
  if (arg === undefined || arg === '') return 'ka.req.volume.hostpath needs a [path]';
  const prefix = arg.endsWith('*') ? arg.slice(0, -1) : undefined;
  return (c) => {
    const paths = fanOut(auditDoc(c), ['requestObject', 'spec', 'volumes', 'hostPath', 'path'], ALL);
    if (paths === undefined) return undefined;
    for (const p of paths) {
      const s = jsonText(p);
      if (s !== undefined && (prefix !== undefined ? s.startsWith(prefix) : s === arg)) return 'true';
    }
    return 'false';
  };
}

const SPEC = ['requestObject', 'spec'];
const POD_SECURITY = ['requestObject', 'spec', 'securityContext'];

export const KA_FIELDS: readonly FieldDef[] = [
  at('ka.auditid', 'the unique id of the audit event', ['auditID']),
  at('ka.stage', 'stage of the request (RequestReceived, ResponseStarted, ResponseComplete, Panic)', ['stage']),
  at('ka.auth.decision', 'the authorization decision', ['annotations', 'authorization.k8s.io/decision']),
  at('ka.auth.reason', 'the authorization reason', ['annotations', 'authorization.k8s.io/reason']),
  at('ka.auth.openshift.decision', 'the authentication decision of the OpenShift API server extension', ['annotations', 'authentication.openshift.io/decision']),
  at('ka.auth.openshift.username', 'the user name of the OpenShift authentication', ['annotations', 'authentication.openshift.io/username']),
  at('ka.validations.admission.policy.failure', 'the failure of a ValidatingAdmissionPolicy', ['annotations', 'validation.policy.admission.k8s.io/validation_failure']),
  at('ka.security.pod.violations', 'the pod security admission violations', ['annotations', 'pod-security.kubernetes.io/audit-violations']),
  at('ka.user.name', 'the user name performing the request', ['user', 'username']),
  arrayAt('ka.user.groups', 'the groups the user belongs to', ['user', 'groups']),
  at('ka.impuser.name', 'the impersonated user name', ['impersonatedUser', 'username']),
  at('ka.verb', 'the action being performed (get, list, create, update, patch, delete, …)', ['verb']),
  at('ka.uri', 'the request URI as sent from client to server', ['requestURI']),
  fieldWithArg('ka.uri.param', 'string', 'the first value of query parameter [key] of the request URI', uriParam, { arg: 'key' }),
  at('ka.target.name', 'the target object name', ['objectRef', 'name']),
  at('ka.target.namespace', 'the target object namespace', ['objectRef', 'namespace']),
  at('ka.target.resource', 'the target object resource', ['objectRef', 'resource']),
  at('ka.target.subresource', 'the target object subresource', ['objectRef', 'subresource']),
  field('ka.target.pod.name', 'string', 'the pod name, for requests on pods without a subresource (from the response object)', (c) => {
    const doc = auditDoc(c);
    if (member(member(doc, 'objectRef'), 'resource') !== 'pods') return undefined;
    const sub = member(member(doc, 'objectRef'), 'subresource');
    if (sub !== undefined && sub !== '') return undefined;
    return jsonText(path(doc, ['responseObject', 'metadata', 'name']));
  }),
  arrayAt('ka.req.binding.subjects', 'the subjects a (cluster) role binding links, each as JSON', ['requestObject', 'subjects']),
  field('ka.req.binding.subjects.user_names', 'strlist', 'the User subjects of a role binding', subjectNames('User', false)),
  field('ka.req.binding.subjects.serviceaccount_names', 'strlist', 'the ServiceAccount subjects of a role binding', subjectNames('ServiceAccount', false)),
  field('ka.req.binding.subjects.serviceaccount_ns_names', 'strlist', 'the ServiceAccount subjects of a role binding as namespace:name', subjectNames('ServiceAccount', true)),
  field('ka.req.binding.subjects.group_names', 'strlist', 'the Group subjects of a role binding', subjectNames('Group', false)),
  at('ka.req.binding.role', 'the role a (cluster) role binding links', ['requestObject', 'roleRef', 'name']),
  fieldWithArg('ka.req.binding.subject.has_name', 'string', "deprecated: always 'N/A'", () => () => 'N/A', { arg: 'key', deprecated: true }),
  at('ka.req.configmap.name', 'the configmap name (request object is a configmap)', ['objectRef', 'name']),
  at('ka.req.configmap.obj', "the configmap's data, as JSON (request object is a configmap)", ['requestObject', 'data']),
  ...CONTAINER_LISTS.flatMap((l) => containerFields(l.list, l.what)),
  field('ka.req.container.image', 'string', 'the image of the first container', (c) => allPresent(fanOut(auditDoc(c), ['requestObject', 'spec', 'containers', 'image'], 0))?.[0], { deprecated: true }),
  field('ka.req.container.image.repository', 'string', 'the image repository of the first container', (c) => {
    const image = allPresent(fanOut(auditDoc(c), ['requestObject', 'spec', 'containers', 'image'], 0))?.[0];
    return image === undefined ? undefined : repositoryOf(image);
  }, { deprecated: true }),
  field('ka.req.container.privileged', 'string', "'true' when any container is privileged, else 'false'", (c) => {
    const flags = fanOut(auditDoc(c), ['requestObject', 'spec', 'containers', 'securityContext', 'privileged'], ALL);
    if (flags === undefined) return undefined;
    return flags.some((f) => f === true) ? 'true' : 'false';
  }, { deprecated: true }),
  at('ka.req.pod.host_ipc', 'the hostIPC flag of the pod', [...SPEC, 'hostIPC']),
  at('ka.req.pod.host_network', 'the hostNetwork flag of the pod', [...SPEC, 'hostNetwork']),
  at('ka.req.container.host_network', 'deprecated alias of ka.req.pod.host_network', [...SPEC, 'hostNetwork'], { deprecated: true }),
  at('ka.req.pod.host_pid', 'the hostPID flag of the pod', [...SPEC, 'hostPID']),
  at('ka.req.pod.run_as_user', "the runAsUser of the pod's security context", [...POD_SECURITY, 'runAsUser']),
  at('ka.req.pod.run_as_group', "the runAsGroup of the pod's security context", [...POD_SECURITY, 'runAsGroup']),
  at('ka.req.pod.fs_group', "the fsGroup of the pod's security context", [...POD_SECURITY, 'fsGroup']),
  arrayAt('ka.req.pod.supplemental_groups', "the supplementalGroups of the pod's security context", [...POD_SECURITY, 'supplementalGroups']),
  arrayAt('ka.req.role.rules', 'the rules of a (cluster) role, each as JSON', ['requestObject', 'rules']),
  indexed('ka.req.role.rules.apiGroups', 'the API groups of the rules of a (cluster) role', (doc, i) => flattened(fanOut(doc, ['requestObject', 'rules', 'apiGroups'], i))),
  indexed('ka.req.role.rules.nonResourceURLs', 'the non-resource URLs of the rules of a (cluster) role', (doc, i) => flattened(fanOut(doc, ['requestObject', 'rules', 'nonResourceURLs'], i))),
  indexed('ka.req.role.rules.verbs', 'the verbs of the rules of a (cluster) role', (doc, i) => flattened(fanOut(doc, ['requestObject', 'rules', 'verbs'], i))),
  indexed('ka.req.role.rules.resources', 'the resources of the rules of a (cluster) role', (doc, i) => flattened(fanOut(doc, ['requestObject', 'rules', 'resources'], i))),
  at('ka.req.service.type', 'the service type (request object is a service)', [...SPEC, 'type']),
  indexed('ka.req.service.ports', "the service's ports, each as JSON", (doc, i) => {
    return present(chosen(path(doc, [...SPEC, 'ports']), i));
  }),
  indexed('ka.req.pod.volumes.hostpath', 'the hostPath paths of the pod volumes', (doc, i) => present(fanOut(doc, [...SPEC, 'volumes', 'hostPath', 'path'], i))),
  fieldWithArg('ka.req.volume.hostpath', 'string', "deprecated: 'true' when a hostPath volume uses [path] ([prefix*] for a prefix)", volumeHostPath, { arg: 'key', deprecated: true }),
  indexed('ka.req.pod.volumes.flexvolume_driver', 'the flexVolume drivers of the pod volumes', (doc, i) => present(fanOut(doc, [...SPEC, 'volumes', 'flexVolume', 'driver'], i))),
  indexed('ka.req.pod.volumes.volume_type', 'the volume types (hostPath, secret, …) of the pod volumes', (doc, i) => {
    const volumes = chosen(path(doc, [...SPEC, 'volumes']), i);
    if (volumes === undefined) return undefined;
    const out: string[] = [];
    for (const v of volumes) if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const k of Object.keys(v)) if (k !== 'name') out.push(k);
    return listOrNone(out);
  }),
  at('ka.resp.name', 'the response object name', ['responseObject', 'metadata', 'name']),
  at('ka.response.code', 'the response code', ['responseStatus', 'code']),
  at('ka.response.reason', 'the response reason (usually only for failures)', ['responseStatus', 'reason']),
  at('ka.useragent', 'the user agent of the client', ['userAgent']),
  indexed('ka.sourceips', 'the IP addresses the request came from', (doc, i) => {
    return present(chosen(member(doc, 'sourceIPs'), i));
  }),
  at('ka.cluster.name', 'the cluster name (annotation cluster_name, set by a forwarding proxy)', ['annotations', 'cluster_name']),
];
