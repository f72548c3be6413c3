/**
 * The command-line checks, per component. Ids are CIS Kubernetes Benchmark 1.12 (`cis-1.12`);
 * `cis-1.24` ids are given for the controls whose numbering is documented to differ (cis-1.24 is
 * partial, see PARTIAL_BENCHMARKS); `lanner-node` ids are Lanner's own node section. Texts and
 * remediations are Lanner's own wording. A setting given nowhere is judged by the component's
 * documented default (defaults.ts).
 */
import type { TestItem } from './audit';
import type { Compare } from './compare';
import { NODE_CHECKS, NODE_GROUP_TEXT } from './node';
import type { Benchmark, Component, ControlsKind } from './types';

export interface FlagCheck {
  readonly ids: Partial<Record<Benchmark, string>>;
  readonly component: Component;
  readonly group: string;
  readonly text: string;
  readonly scored: boolean;
  readonly binOp: 'and' | 'or';
  readonly items: readonly TestItem[];
  /** Needs human judgement: always WARN. */
  readonly manual?: boolean;
  readonly remediation: string;
}

export const COMPONENT_KIND: Readonly<Record<Component, ControlsKind>> = {
  'kube-apiserver': 'master',
  'kube-controller-manager': 'master',
  'kube-scheduler': 'master',
  etcd: 'etcd',
  kubelet: 'node',
  'kube-proxy': 'node',
};

const set = (flag: string, extra: Partial<TestItem> = {}): TestItem => ({ flag, set: true, ...extra });
const unset = (flag: string, extra: Partial<TestItem> = {}): TestItem => ({ flag, set: false, ...extra });
const cmp = (flag: string, op: Compare['op'], value: string, extra: Partial<TestItem> = {}): TestItem => ({ flag, set: true, compare: { op, value }, ...extra });

/** Config-file location of a kubelet/kube-proxy setting, with kube-bench's JSONPath for display. */
const at = (...path: string[]): Partial<TestItem> => ({ path, pathText: `{.${path.join('.')}}` });

const API = 'kube-apiserver';
const APISERVER_MANIFEST = 'the API server manifest (/etc/kubernetes/manifests/kube-apiserver.yaml on kubeadm clusters)';
const apiFix = (change: string): string => `Edit ${APISERVER_MANIFEST} and ${change}; the kubelet restarts the API server when the manifest changes.`;

const API_TLS_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
].join(',');

const KUBELET_TLS_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
].join(',');

function api(id: string, text: string, scored: boolean, items: TestItem[], remediation: string, extra: Partial<FlagCheck> = {}): FlagCheck {
  return { ids: { 'cis-1.12': id }, component: API, group: '1.2', text, scored, binOp: 'and', items, remediation, ...extra };
}

const APISERVER_CHECKS: readonly FlagCheck[] = [
  api('1.2.1', 'API server --anonymous-auth is false', false, [cmp('anonymous-auth', 'eq', 'false')], apiFix('set --anonymous-auth=false (keep it only if health probes need anonymous access and RBAC limits it)')),
  api('1.2.2', 'API server --token-auth-file is not set', true, [unset('token-auth-file')], apiFix('remove --token-auth-file and authenticate with certificates, OIDC or service account tokens')),
  api('1.2.3', 'API server admission plugin DenyServiceExternalIPs is enabled', false, [cmp('enable-admission-plugins', 'has', 'DenyServiceExternalIPs')], apiFix('add DenyServiceExternalIPs to --enable-admission-plugins')),
  api(
    '1.2.4',
    'API server authenticates to kubelets with a client certificate',
    true,
    [set('kubelet-client-certificate'), set('kubelet-client-key')],
    apiFix('set --kubelet-client-certificate and --kubelet-client-key to a client certificate the kubelets trust'),
  ),
  api('1.2.5', 'API server verifies kubelet serving certificates', true, [set('kubelet-certificate-authority')], apiFix('set --kubelet-certificate-authority to the CA that signs kubelet serving certificates')),
  api('1.2.6', 'API server --authorization-mode does not include AlwaysAllow', true, [cmp('authorization-mode', 'nothave', 'AlwaysAllow')], apiFix('set --authorization-mode=Node,RBAC (never AlwaysAllow)')),
  api('1.2.7', 'API server --authorization-mode includes Node', true, [cmp('authorization-mode', 'has', 'Node')], apiFix('include Node in --authorization-mode, e.g. --authorization-mode=Node,RBAC')),
  api('1.2.8', 'API server --authorization-mode includes RBAC', true, [cmp('authorization-mode', 'has', 'RBAC')], apiFix('include RBAC in --authorization-mode, e.g. --authorization-mode=Node,RBAC')),
  api('1.2.9', 'API server admission plugin EventRateLimit is enabled', false, [cmp('enable-admission-plugins', 'has', 'EventRateLimit')], apiFix('add EventRateLimit to --enable-admission-plugins and give --admission-control-config-file its limits')),
  api(
    '1.2.10',
    'API server admission plugin AlwaysAdmit is not enabled',
    true,
    [cmp('enable-admission-plugins', 'nothave', 'AlwaysAdmit'), unset('enable-admission-plugins')],
    apiFix('remove AlwaysAdmit from --enable-admission-plugins'),
    { binOp: 'or' },
  ),
  api('1.2.11', 'API server admission plugin AlwaysPullImages is enabled', false, [cmp('enable-admission-plugins', 'has', 'AlwaysPullImages')], apiFix('add AlwaysPullImages to --enable-admission-plugins (multi-tenant clusters)')),
  api(
    '1.2.12',
    'API server admission plugin ServiceAccount is not disabled',
    true,
    [cmp('disable-admission-plugins', 'nothave', 'ServiceAccount'), unset('disable-admission-plugins')],
    apiFix('remove ServiceAccount from --disable-admission-plugins'),
    { binOp: 'or' },
  ),
  api(
    '1.2.13',
    'API server admission plugin NamespaceLifecycle is not disabled',
    true,
    [cmp('disable-admission-plugins', 'nothave', 'NamespaceLifecycle'), unset('disable-admission-plugins')],
    apiFix('remove NamespaceLifecycle from --disable-admission-plugins'),
    { binOp: 'or' },
  ),
  api('1.2.14', 'API server admission plugin NodeRestriction is enabled', true, [cmp('enable-admission-plugins', 'has', 'NodeRestriction')], apiFix('add NodeRestriction to --enable-admission-plugins')),
  api('1.2.15', 'API server profiling is disabled', true, [cmp('profiling', 'eq', 'false')], apiFix('set --profiling=false'), { ids: { 'cis-1.12': '1.2.15', 'cis-1.24': '1.2.17' } }),
  // Without a policy the API server audits nothing, whatever --audit-log-path says.
  api('1.2.16', 'API server writes an audit log', true, [set('audit-log-path'), set('audit-policy-file')], apiFix('set --audit-log-path to a file on a persistent volume and give --audit-policy-file a policy'), {
    ids: { 'cis-1.12': '1.2.16', 'cis-1.24': '1.2.18' },
  }),
  api('1.2.17', 'API server keeps audit logs for at least 30 days', true, [cmp('audit-log-maxage', 'gte', '30')], apiFix('set --audit-log-maxage=30 or more'), {
    ids: { 'cis-1.12': '1.2.17', 'cis-1.24': '1.2.19' },
  }),
  api('1.2.18', 'API server keeps at least 10 rotated audit logs', true, [cmp('audit-log-maxbackup', 'gte', '10')], apiFix('set --audit-log-maxbackup=10 or more'), {
    ids: { 'cis-1.12': '1.2.18', 'cis-1.24': '1.2.20' },
  }),
  api('1.2.19', 'API server rotates audit logs at 100 MB or more', true, [cmp('audit-log-maxsize', 'gte', '100')], apiFix('set --audit-log-maxsize=100 or more'), {
    ids: { 'cis-1.12': '1.2.19', 'cis-1.24': '1.2.21' },
  }),
  api('1.2.20', 'API server --request-timeout is appropriate', false, [set('request-timeout')], apiFix('set --request-timeout only if the default 60s does not suit the cluster'), { manual: true }),
  api(
    '1.2.21',
    'API server validates service account tokens against etcd',
    true,
    [unset('service-account-lookup'), cmp('service-account-lookup', 'eq', 'true')],
    apiFix('remove --service-account-lookup or set it to true'),
    { binOp: 'or' },
  ),
  api('1.2.22', 'API server --service-account-key-file is set', true, [set('service-account-key-file')], apiFix('set --service-account-key-file to the public key(s) that verify service account tokens')),
  api('1.2.23', 'API server talks to etcd with a client certificate', true, [set('etcd-certfile'), set('etcd-keyfile')], apiFix('set --etcd-certfile and --etcd-keyfile to the API server etcd client certificate')),
  api('1.2.24', 'API server serves TLS with its own certificate', true, [set('tls-cert-file'), set('tls-private-key-file')], apiFix('set --tls-cert-file and --tls-private-key-file'), {
    ids: { 'cis-1.12': '1.2.24', 'cis-1.24': '1.2.26' },
  }),
  api('1.2.25', 'API server --client-ca-file is set', true, [set('client-ca-file')], apiFix('set --client-ca-file to the cluster CA certificate'), { ids: { 'cis-1.12': '1.2.25', 'cis-1.24': '1.2.27' } }),
  api('1.2.26', 'API server verifies the etcd server certificate', true, [set('etcd-cafile')], apiFix('set --etcd-cafile to the etcd CA certificate')),
  api('1.2.27', 'API server --encryption-provider-config is set', false, [set('encryption-provider-config')], apiFix('create an EncryptionConfiguration and point --encryption-provider-config at it'), {
    ids: { 'cis-1.12': '1.2.27', 'cis-1.24': '1.2.29' },
  }),
  api('1.2.29', 'API server accepts only strong TLS cipher suites', false, [cmp('tls-cipher-suites', 'valid_elements', API_TLS_SUITES)], apiFix(`set --tls-cipher-suites to a subset of ${API_TLS_SUITES}`)),
  api(
    '1.2.30',
    'API server does not extend service account token lifetimes',
    true,
    [cmp('service-account-extend-token-expiration', 'eq', 'false')],
    apiFix('set --service-account-extend-token-expiration=false'),
  ),
  {
    ids: { 'cis-1.24': '1.2.16' },
    component: API,
    group: '1.2',
    text: 'API server --secure-port is not 0',
    scored: true,
    binOp: 'or',
    items: [cmp('secure-port', 'gt', '0'), unset('secure-port')],
    remediation: apiFix('remove --secure-port=0 (or set it to a port above 0)'),
  },
];

const CM = 'kube-controller-manager';
const cmFix = (change: string): string =>
  `Edit the controller manager manifest (/etc/kubernetes/manifests/kube-controller-manager.yaml on kubeadm clusters) and ${change}.`;

function cm(id: string, text: string, scored: boolean, items: TestItem[], remediation: string, binOp: 'and' | 'or' = 'and'): FlagCheck {
  return { ids: { 'cis-1.12': id }, component: CM, group: '1.3', text, scored, binOp, items, remediation };
}

const CONTROLLER_MANAGER_CHECKS: readonly FlagCheck[] = [
  cm('1.3.1', 'Controller manager garbage-collects terminated pods', false, [set('terminated-pod-gc-threshold')], cmFix('set --terminated-pod-gc-threshold, e.g. 10')),
  cm('1.3.2', 'Controller manager profiling is disabled', true, [cmp('profiling', 'eq', 'false')], cmFix('set --profiling=false')),
  cm('1.3.3', 'Controller manager uses per-controller service account credentials', true, [cmp('use-service-account-credentials', 'noteq', 'false')], cmFix('set --use-service-account-credentials=true')),
  cm('1.3.4', 'Controller manager --service-account-private-key-file is set', true, [set('service-account-private-key-file')], cmFix('set --service-account-private-key-file to the key that signs service account tokens')),
  cm('1.3.5', 'Controller manager --root-ca-file is set', true, [set('root-ca-file')], cmFix('set --root-ca-file to the cluster CA certificate')),
  cm(
    '1.3.6',
    'Controller manager keeps kubelet serving certificate rotation on',
    true,
    [cmp('feature-gates', 'nothave', 'RotateKubeletServerCertificate=false'), unset('feature-gates')],
    cmFix('remove RotateKubeletServerCertificate=false from --feature-gates'),
    'or',
  ),
  cm('1.3.7', 'Controller manager binds to localhost only', true, [cmp('bind-address', 'eq', '127.0.0.1'), unset('bind-address')], cmFix('set --bind-address=127.0.0.1'), 'or'),
];

const SCHED = 'kube-scheduler';
const schedFix = (change: string): string => `Edit the scheduler manifest (/etc/kubernetes/manifests/kube-scheduler.yaml on kubeadm clusters) and ${change}.`;

const SCHEDULER_CHECKS: readonly FlagCheck[] = [
  { ids: { 'cis-1.12': '1.4.1' }, component: SCHED, group: '1.4', text: 'Scheduler profiling is disabled', scored: true, binOp: 'and', items: [cmp('profiling', 'eq', 'false')], remediation: schedFix('set --profiling=false') },
  {
    ids: { 'cis-1.12': '1.4.2' },
    component: SCHED,
    group: '1.4',
    text: 'Scheduler binds to localhost only',
    scored: true,
    binOp: 'or',
    items: [cmp('bind-address', 'eq', '127.0.0.1'), unset('bind-address')],
    remediation: schedFix('set --bind-address=127.0.0.1'),
  },
];

const etcdFix = (change: string): string => `Edit the etcd manifest (/etc/kubernetes/manifests/etcd.yaml on kubeadm clusters) or the etcd unit and ${change}.`;
/**
 * etcd's own flag, its environment variable, and where an etcd --config-file keeps it (with
 * --config-file etcd ignores its other flags and the environment; engine.ts).
 */
const env = (name: string, ...configPath: string[]): Partial<TestItem> => ({
  env: name,
  ...(configPath.length > 0 ? { path: configPath, pathText: `{.${configPath.map((k) => (k.includes('-') ? `'${k}'` : k)).join('.')}}` } : {}),
});
const CTS = 'client-transport-security';
const PTS = 'peer-transport-security';

function etcd(id: string, text: string, scored: boolean, items: TestItem[], remediation: string, binOp: 'and' | 'or' = 'and'): FlagCheck {
  return { ids: { 'cis-1.12': id }, component: 'etcd', group: '2', text, scored, binOp, items, remediation };
}

const ETCD_NODE_ITEMS: Readonly<Record<string, TestItem[]>> = {
  'L.4.1': [
    cmp('listen-client-urls', 'url_scheme', 'https', env('ETCD_LISTEN_CLIENT_URLS', 'listen-client-urls')),
    cmp('advertise-client-urls', 'url_scheme', 'https', env('ETCD_ADVERTISE_CLIENT_URLS', 'advertise-client-urls')),
  ],
  'L.4.2': [
    cmp('listen-peer-urls', 'url_scheme', 'https', env('ETCD_LISTEN_PEER_URLS', 'listen-peer-urls')),
    cmp('initial-advertise-peer-urls', 'url_scheme', 'https', env('ETCD_INITIAL_ADVERTISE_PEER_URLS', 'initial-advertise-peer-urls')),
  ],
  'L.4.3': [set('peer-trusted-ca-file', env('ETCD_PEER_TRUSTED_CA_FILE', PTS, 'trusted-ca-file'))],
};

const ETCD_CHECKS: readonly FlagCheck[] = [
  etcd('2.1', 'etcd serves clients over TLS', true, [set('cert-file', env('ETCD_CERT_FILE', CTS, 'cert-file')), set('key-file', env('ETCD_KEY_FILE', CTS, 'key-file'))], etcdFix('set --cert-file and --key-file')),
  etcd('2.2', 'etcd requires client certificates', true, [cmp('client-cert-auth', 'eq', 'true', env('ETCD_CLIENT_CERT_AUTH', CTS, 'client-cert-auth'))], etcdFix('set --client-cert-auth=true')),
  etcd(
    '2.3',
    'etcd does not use self-signed client TLS',
    true,
    [unset('auto-tls', env('ETCD_AUTO_TLS', CTS, 'auto-tls')), cmp('auto-tls', 'eq', 'false', env('ETCD_AUTO_TLS', CTS, 'auto-tls'))],
    etcdFix('remove --auto-tls or set it to false'),
    'or',
  ),
  etcd(
    '2.4',
    'etcd peers talk over TLS',
    true,
    [set('peer-cert-file', env('ETCD_PEER_CERT_FILE', PTS, 'cert-file')), set('peer-key-file', env('ETCD_PEER_KEY_FILE', PTS, 'key-file'))],
    etcdFix('set --peer-cert-file and --peer-key-file'),
  ),
  etcd('2.5', 'etcd requires peer client certificates', true, [cmp('peer-client-cert-auth', 'eq', 'true', env('ETCD_PEER_CLIENT_CERT_AUTH', PTS, 'client-cert-auth'))], etcdFix('set --peer-client-cert-auth=true')),
  etcd(
    '2.6',
    'etcd does not use self-signed peer TLS',
    true,
    [unset('peer-auto-tls', env('ETCD_PEER_AUTO_TLS', PTS, 'auto-tls')), cmp('peer-auto-tls', 'eq', 'false', env('ETCD_PEER_AUTO_TLS', PTS, 'auto-tls'))],
    etcdFix('remove --peer-auto-tls or set it to false'),
    'or',
  ),
  etcd('2.7', 'etcd uses a dedicated CA for clients', false, [set('trusted-ca-file', env('ETCD_TRUSTED_CA_FILE', CTS, 'trusted-ca-file'))], etcdFix('set --trusted-ca-file to a CA used only by etcd')),
  ...[NODE_CHECKS.etcdClientUrls, NODE_CHECKS.etcdPeerUrls, NODE_CHECKS.etcdPeerCa].map(
    (c): FlagCheck => ({ ids: { 'lanner-node': c.id }, component: 'etcd', group: 'L.4', text: c.text, scored: c.scored, binOp: 'and', items: ETCD_NODE_ITEMS[c.id]!, remediation: c.remediation }),
  ),
];

const KUBELET = 'kubelet';
const kubeletFix = (configChange: string, flagChange: string): string =>
  `In the kubelet config file (/var/lib/kubelet/config.yaml) ${configChange}, or on the kubelet command line (systemd drop-in) ${flagChange}; then restart the kubelet. A command-line flag overrides the config file.`;

function kubelet(ids: Partial<Record<Benchmark, string>>, text: string, scored: boolean, items: TestItem[], remediation: string, binOp: 'and' | 'or' = 'and'): FlagCheck {
  return { ids, component: KUBELET, group: '4.2', text, scored, binOp, items, remediation };
}

const KUBELET_CHECKS: readonly FlagCheck[] = [
  kubelet({ 'cis-1.12': '4.2.1' }, 'Kubelet rejects anonymous requests', true, [cmp('anonymous-auth', 'eq', 'false', at('authentication', 'anonymous', 'enabled'))], kubeletFix('set authentication.anonymous.enabled: false', 'set --anonymous-auth=false')),
  kubelet({ 'cis-1.12': '4.2.2' }, 'Kubelet authorization mode is not AlwaysAllow', true, [cmp('authorization-mode', 'nothave', 'AlwaysAllow', at('authorization', 'mode'))], kubeletFix('set authorization.mode: Webhook', 'set --authorization-mode=Webhook')),
  kubelet({ 'cis-1.12': '4.2.3' }, 'Kubelet verifies client certificates', true, [set('client-ca-file', at('authentication', 'x509', 'clientCAFile'))], kubeletFix('set authentication.x509.clientCAFile to the cluster CA', 'set --client-ca-file')),
  kubelet({ 'cis-1.12': '4.2.4' }, 'Kubelet read-only port is disabled', false, [cmp('read-only-port', 'eq', '0', at('readOnlyPort')), unset('read-only-port', at('readOnlyPort'))], kubeletFix('set readOnlyPort: 0', 'set --read-only-port=0'), 'or'),
  kubelet(
    { 'cis-1.12': '4.2.5' },
    'Kubelet streaming connections time out',
    false,
    // A duration: 0, 0s and 0m0s all turn the timeout off.
    [cmp('streaming-connection-idle-timeout', 'noteq', '0', { ...at('streamingConnectionIdleTimeout'), duration: true }), unset('streaming-connection-idle-timeout', at('streamingConnectionIdleTimeout'))],
    kubeletFix('set streamingConnectionIdleTimeout to a non-zero duration such as 5m', 'set --streaming-connection-idle-timeout=5m'),
    'or',
  ),
  kubelet(
    { 'cis-1.12': '4.2.6', 'cis-1.24': '4.2.7' },
    'Kubelet manages iptables utility chains',
    true,
    [cmp('make-iptables-util-chains', 'eq', 'true', at('makeIPTablesUtilChains')), unset('make-iptables-util-chains', at('makeIPTablesUtilChains'))],
    kubeletFix('set makeIPTablesUtilChains: true', 'set --make-iptables-util-chains=true'),
    'or',
  ),
  kubelet({ 'cis-1.12': '4.2.7' }, 'Kubelet --hostname-override is not set', false, [unset('hostname-override')], 'Remove --hostname-override from the kubelet command line (systemd drop-in) and restart the kubelet.'),
  kubelet({ 'cis-1.12': '4.2.8' }, 'Kubelet event recording rate is set', false, [cmp('event-qps', 'gte', '0', at('eventRecordQPS')), unset('event-qps', at('eventRecordQPS'))], kubeletFix('set eventRecordQPS to a level that keeps the events you need', 'set --event-qps'), 'or'),
  kubelet(
    { 'cis-1.12': '4.2.9' },
    'Kubelet serves TLS with its own certificate',
    false,
    [set('tls-cert-file', at('tlsCertFile')), set('tls-private-key-file', at('tlsPrivateKeyFile'))],
    kubeletFix('set tlsCertFile and tlsPrivateKeyFile', 'set --tls-cert-file and --tls-private-key-file'),
  ),
  kubelet(
    { 'cis-1.12': '4.2.10', 'cis-1.24': '4.2.11' },
    'Kubelet rotates its client certificate',
    true,
    [cmp('rotate-certificates', 'eq', 'true', at('rotateCertificates')), unset('rotate-certificates', at('rotateCertificates'))],
    kubeletFix('set rotateCertificates: true', 'set --rotate-certificates=true'),
    'or',
  ),
  kubelet(
    { 'cis-1.12': '4.2.11' },
    'Kubelet keeps serving certificate rotation on',
    false,
    [
      { flag: 'feature-gates', featureGate: 'RotateKubeletServerCertificate', set: true, compare: { op: 'nothave', value: 'false' }, ...at('featureGates', 'RotateKubeletServerCertificate') },
      { flag: 'feature-gates', featureGate: 'RotateKubeletServerCertificate', set: false, ...at('featureGates', 'RotateKubeletServerCertificate') },
    ],
    kubeletFix('remove featureGates.RotateKubeletServerCertificate: false', 'remove RotateKubeletServerCertificate=false from --feature-gates'),
    'or',
  ),
  kubelet(
    { 'cis-1.12': '4.2.12' },
    'Kubelet accepts only strong TLS cipher suites',
    false,
    [cmp('tls-cipher-suites', 'valid_elements', KUBELET_TLS_SUITES, { path: ['tlsCipherSuites'], pathText: "{range .tlsCipherSuites[:]}{}{','}{end}" })],
    kubeletFix(`set tlsCipherSuites to a subset of ${KUBELET_TLS_SUITES}`, 'set --tls-cipher-suites accordingly'),
  ),
  // -1 (the default) and 0 mean no limit.
  kubelet({ 'cis-1.12': '4.2.13' }, 'Kubelet limits the number of PIDs per pod', false, [cmp('pod-max-pids', 'gt', '0', at('podPidsLimit'))], kubeletFix('set podPidsLimit, e.g. 4096', 'set --pod-max-pids')),
  kubelet(
    { 'cis-1.12': '4.2.14' },
    'Kubelet applies the RuntimeDefault seccomp profile by default',
    false,
    [cmp('seccomp-default', 'eq', 'true', at('seccompDefault'))],
    kubeletFix('set seccompDefault: true', 'set --seccomp-default=true'),
  ),
  kubelet(
    { 'cis-1.24': '4.2.6', 'lanner-node': NODE_CHECKS.protectKernelDefaults.id },
    'Kubelet protects kernel defaults',
    true,
    [cmp('protect-kernel-defaults', 'eq', 'true', at('protectKernelDefaults'))],
    kubeletFix('set protectKernelDefaults: true (after setting the sysctls the kubelet expects)', 'set --protect-kernel-defaults=true'),
  ),
];

const PROXY_CHECKS: readonly FlagCheck[] = [
  {
    ids: { 'cis-1.12': '4.3.1' },
    component: 'kube-proxy',
    group: '4.3',
    text: 'kube-proxy metrics are bound to localhost',
    scored: true,
    binOp: 'or',
    items: [cmp('metrics-bind-address', 'has', '127.0.0.1', at('metricsBindAddress')), unset('metrics-bind-address', at('metricsBindAddress'))],
    remediation: 'Set metricsBindAddress: 127.0.0.1:10249 in the kube-proxy config (kube-system/kube-proxy ConfigMap) or --metrics-bind-address=127.0.0.1:10249, and restart kube-proxy.',
  },
];

export const FLAG_CHECKS: Readonly<Record<Component, readonly FlagCheck[]>> = {
  'kube-apiserver': APISERVER_CHECKS,
  'kube-controller-manager': CONTROLLER_MANAGER_CHECKS,
  'kube-scheduler': SCHEDULER_CHECKS,
  etcd: ETCD_CHECKS,
  kubelet: KUBELET_CHECKS,
  'kube-proxy': PROXY_CHECKS,
};

/** The encryption-at-rest providers check (the file named by --encryption-provider-config). */
export const ENCRYPTION_PROVIDERS_CHECK = {
  ids: { 'cis-1.12': '1.2.28', 'cis-1.24': '1.2.30' } as Partial<Record<Benchmark, string>>,
  group: '1.2',
  text: 'Secrets are encrypted at rest with a strong provider',
  scored: false,
  remediation:
    'Point --encryption-provider-config at an EncryptionConfiguration whose first provider for secrets is aescbc, secretbox or kms (v2), keep identity only as a later fallback for reading old data, then rewrite existing secrets (kubectl get secrets -A -o json | kubectl replace -f -).',
};

/** CIS 3.2.1: the API server has an audit policy, and it is an audit Policy with rules (Lanner reads the file). */
export const AUDIT_POLICY_CHECK = {
  ids: { 'cis-1.12': '3.2.1' } as Partial<Record<Benchmark, string>>,
  text: 'A minimal audit policy is created',
  scored: false,
  expected: '--audit-policy-file set, naming an audit.k8s.io Policy with at least one rule',
  remediation: `Write an audit.k8s.io/v1 Policy (at least Metadata for secrets, configmaps and tokenreviews), point --audit-policy-file at it in ${APISERVER_MANIFEST}, and set --audit-log-path.`,
};

export const GROUP_TEXT: Readonly<Record<string, string>> = {
  '1.1': 'Control plane node configuration files',
  '1.2': 'API server',
  '1.3': 'Controller manager',
  '1.4': 'Scheduler',
  '2': 'etcd',
  '3.2': 'Logging',
  '4.1': 'Worker node configuration files',
  '4.2': 'Kubelet',
  '4.3': 'kube-proxy',
  ...NODE_GROUP_TEXT,
};
