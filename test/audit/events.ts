/**
 * Realistic audit.k8s.io/v1 Events, written from the Event schema (kube-apiserver audit
 * configuration v1) and the shapes the Kubernetes docs show: what kubectl exec, a
 * ClusterRoleBinding to cluster-admin, a secret read, a privileged pod, anonymous access… produce
 * at the stages a default audit policy logs.
 */
let seq = 0;

type Json = Record<string, unknown>;

export interface EventOptions {
  readonly verb: string;
  readonly uri: string;
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly stage?: string;
  readonly objectRef?: Json;
  readonly code?: number;
  readonly requestObject?: Json;
  readonly responseObject?: Json;
  readonly decision?: string;
  readonly reason?: string;
  readonly time?: string;
}

/** One Event; every call gets a fresh auditID and a later stageTimestamp. */
export function auditEvent(o: EventOptions): Json {
  seq++;
  const t = o.time ?? `2026-12-02T07:${String(10 + Math.floor(seq / 60) % 50).padStart(2, '0')}:${String(seq % 60).padStart(2, '0')}.${String(123456 + seq).padStart(6, '0')}Z`;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: o.requestObject ? 'RequestResponse' : 'Metadata',
    auditID: `6c2e1a5e-0d3b-4f7a-9a51-${String(seq).padStart(12, '0')}`,
    stage: o.stage ?? 'ResponseComplete',
    requestURI: o.uri,
    verb: o.verb,
    user: { username: o.user ?? 'kubernetes-admin', groups: o.groups ?? ['kubeadm:cluster-admins', 'system:authenticated'] },
    sourceIPs: ['10.0.0.12'],
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
    ...(o.objectRef ? { objectRef: o.objectRef } : {}),
    ...(o.stage === 'ResponseStarted' || o.stage === 'RequestReceived' ? {} : { responseStatus: { metadata: {}, code: o.code ?? 200 } }),
    ...(o.requestObject ? { requestObject: o.requestObject } : {}),
    ...(o.responseObject ? { responseObject: o.responseObject } : {}),
    requestReceivedTimestamp: t,
    stageTimestamp: t,
    annotations: { 'authorization.k8s.io/decision': o.decision ?? 'allow', 'authorization.k8s.io/reason': o.reason ?? 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"' },
  };
}

/** `kubectl exec -it nginx -- sh -c id`: the exec subresource, logged when the stream starts. */
export function execIntoPod(): Json {
  return auditEvent({
    verb: 'create',
    stage: 'ResponseStarted',
    uri: '/api/v1/namespaces/default/pods/nginx/exec?command=sh&command=-c&command=id&container=nginx&stdin=true&stdout=true&tty=true',
    objectRef: { resource: 'pods', namespace: 'default', name: 'nginx', apiVersion: 'v1', subresource: 'exec' },
  });
}

/** `kubectl create clusterrolebinding pwn --clusterrole=cluster-admin --serviceaccount=default:default`. */
export function bindingToClusterAdmin(): Json {
  const body = {
    kind: 'ClusterRoleBinding',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name: 'pwn', creationTimestamp: null },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }],
  };
  return auditEvent({
    verb: 'create',
    uri: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict',
    objectRef: { resource: 'clusterrolebindings', name: 'pwn', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
    code: 201,
    requestObject: body,
    responseObject: { ...body, metadata: { name: 'pwn', uid: 'b1c1', resourceVersion: '4242' } },
  });
}

/** A secret read by a user no allow list knows. */
export function secretReadBy(user: string): Json {
  return auditEvent({
    verb: 'get',
    uri: '/api/v1/namespaces/default/secrets/db-password',
    user,
    groups: ['system:authenticated'],
    objectRef: { resource: 'secrets', namespace: 'default', name: 'db-password', apiVersion: 'v1' },
    reason: `RBAC: allowed by RoleBinding "secret-reader/default" of Role "secret-reader" to User "${user}"`,
  });
}

/** A pod with a privileged container (and, optionally, host networking and a host path mount). */
export function podCreated(opts: { privileged?: boolean; hostNetwork?: boolean; hostPath?: string; image?: string; namespace?: string } = {}): Json {
  const namespace = opts.namespace ?? 'default';
  const pod = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'debugger', namespace },
    spec: {
      ...(opts.hostNetwork ? { hostNetwork: true } : {}),
      ...(opts.hostPath ? { volumes: [{ name: 'host', hostPath: { path: opts.hostPath, type: '' } }] } : {}),
      containers: [
        {
          name: 'debugger',
          image: opts.image ?? 'docker.io/library/alpine:3.20',
          command: ['sleep', 'infinity'],
          ...(opts.privileged ? { securityContext: { privileged: true } } : {}),
          ...(opts.hostPath ? { volumeMounts: [{ name: 'host', mountPath: '/host' }] } : {}),
        },
      ],
    },
  };
  return auditEvent({
    verb: 'create',
    uri: `/api/v1/namespaces/${namespace}/pods?fieldManager=kubectl-run`,
    objectRef: { resource: 'pods', namespace, apiVersion: 'v1' },
    code: 201,
    requestObject: pod,
    responseObject: { ...pod, metadata: { name: 'debugger', namespace, uid: 'a9f0' } },
  });
}

/** An anonymous request the authorizer allowed (anonymous auth on, and a binding granting it). */
export function anonymousAllowed(): Json {
  return auditEvent({
    verb: 'list',
    uri: '/api/v1/namespaces/kube-system/secrets',
    user: 'system:anonymous',
    groups: ['system:unauthenticated'],
    objectRef: { resource: 'secrets', namespace: 'kube-system', apiVersion: 'v1' },
    reason: 'RBAC: allowed by ClusterRoleBinding "oops" of ClusterRole "cluster-admin" to User "system:anonymous"',
  });
}

/** A ClusterRole granting every verb on every resource. */
export function wildcardClusterRole(): Json {
  const role = { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'everything' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] };
  return auditEvent({
    verb: 'create',
    uri: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    objectRef: { resource: 'clusterroles', name: 'everything', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
    code: 201,
    requestObject: role,
  });
}

/** A health probe that matches no rule (system user, stage complete). */
export function healthCheck(): Json {
  return auditEvent({ verb: 'get', uri: '/healthz', user: 'system:kube-probe', groups: ['system:authenticated'] });
}

/** An EventList as the webhook backend POSTs it (items without their own kind/apiVersion). */
export function eventList(items: readonly Json[]): Json {
  return {
    kind: 'EventList',
    apiVersion: 'audit.k8s.io/v1',
    metadata: {},
    items: items.map((e) => {
      const { kind: _k, apiVersion: _a, ...rest } = e;
      return rest;
    }),
  };
}
