/**
 * Components judged by what they really run with: the kubelet's own --config file (never the
 * kubeadm path when it has no --config), its --config-dir drop-ins, and the documented defaults of
 * the mode it runs in. Every kubelet check whose default matters is run with the setting absent
 * (flags mode, no config file), absent from a config file (file mode), and set well and badly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lookupItem } from '../../src/posture/audit';
import { parseGoDuration } from '../../src/posture/compare';
import { PostureEngine } from '../../src/posture/evaluator';
import { mergeConfig } from '../../src/posture/kubelet';
import type { CheckStatus } from '../../src/posture/types';
import { postureConfig, put, tempRoot } from './helpers';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function root(): string {
  const t = tempRoot();
  cleanups.push(t.cleanup);
  return t.root;
}

const HEADER = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

/** Runs a kubelet with `args` (and files under a fresh root) and returns the status of `id`. */
function kubelet(args: string[], files: Record<string, string> = {}, id = '4.2.1', benchmark: 'cis-1.12' | 'cis-1.24' | 'lanner-node' = 'cis-1.12'): { status: CheckStatus | undefined; actual: string | undefined } {
  const r = root();
  for (const [p, text] of Object.entries(files)) put(r, p, text);
  const e = new PostureEngine(postureConfig(r, { proc_root: r, node_checks: benchmark === 'lanner-node' }));
  e.evaluateProcess({ exePath: '/usr/bin/kubelet', comm: 'kubelet', argv: ['/usr/bin/kubelet', ...args] });
  const res = e.result(benchmark, id);
  return { status: res?.status, actual: res?.actual };
}

const CFG = '/etc/k/kubelet.yaml';
const KUBEADM_CFG = '/var/lib/kubelet/config.yaml';

interface DefaultCase {
  readonly id: string;
  readonly benchmark?: 'cis-1.12' | 'cis-1.24' | 'lanner-node';
  /** Verdict with nothing set, in flags mode and in config-file mode. */
  readonly flagsDefault: CheckStatus;
  readonly fileDefault: CheckStatus;
  /** Config-file lines (YAML) that pass and fail; command-line flags that pass and fail. */
  readonly goodYaml: string;
  readonly badYaml: string;
  readonly goodFlag: string;
  readonly badFlag: string;
  readonly fail: CheckStatus;
}

const CASES: readonly DefaultCase[] = [
  { id: '4.2.1', flagsDefault: 'FAIL', fileDefault: 'PASS', goodYaml: 'authentication:\n  anonymous:\n    enabled: false\n', badYaml: 'authentication:\n  anonymous:\n    enabled: true\n', goodFlag: '--anonymous-auth=false', badFlag: '--anonymous-auth=true', fail: 'FAIL' },
  { id: '4.2.2', flagsDefault: 'FAIL', fileDefault: 'PASS', goodYaml: 'authorization:\n  mode: Webhook\n', badYaml: 'authorization:\n  mode: AlwaysAllow\n', goodFlag: '--authorization-mode=Webhook', badFlag: '--authorization-mode=AlwaysAllow', fail: 'FAIL' },
  { id: '4.2.4', flagsDefault: 'WARN', fileDefault: 'PASS', goodYaml: 'readOnlyPort: 0\n', badYaml: 'readOnlyPort: 10255\n', goodFlag: '--read-only-port=0', badFlag: '--read-only-port=10255', fail: 'WARN' },
  { id: '4.2.5', flagsDefault: 'PASS', fileDefault: 'PASS', goodYaml: 'streamingConnectionIdleTimeout: 5m\n', badYaml: 'streamingConnectionIdleTimeout: 0s\n', goodFlag: '--streaming-connection-idle-timeout=1h', badFlag: '--streaming-connection-idle-timeout=0m0s', fail: 'WARN' },
  { id: '4.2.6', flagsDefault: 'PASS', fileDefault: 'PASS', goodYaml: 'makeIPTablesUtilChains: true\n', badYaml: 'makeIPTablesUtilChains: false\n', goodFlag: '--make-iptables-util-chains=true', badFlag: '--make-iptables-util-chains=false', fail: 'FAIL' },
  { id: '4.2.10', flagsDefault: 'FAIL', fileDefault: 'FAIL', goodYaml: 'rotateCertificates: true\n', badYaml: 'rotateCertificates: false\n', goodFlag: '--rotate-certificates=true', badFlag: '--rotate-certificates=false', fail: 'FAIL' },
  {
    id: '4.2.11', flagsDefault: 'PASS', fileDefault: 'PASS', goodYaml: 'featureGates:\n  RotateKubeletServerCertificate: true\n', badYaml: 'featureGates:\n  RotateKubeletServerCertificate: false\n',
    goodFlag: '--feature-gates=RotateKubeletServerCertificate=true', badFlag: '--feature-gates=Foo=true,RotateKubeletServerCertificate=false', fail: 'WARN',
  },
  { id: '4.2.13', flagsDefault: 'WARN', fileDefault: 'WARN', goodYaml: 'podPidsLimit: 4096\n', badYaml: 'podPidsLimit: -1\n', goodFlag: '--pod-max-pids=1024', badFlag: '--pod-max-pids=-1', fail: 'WARN' },
  { id: '4.2.14', flagsDefault: 'WARN', fileDefault: 'WARN', goodYaml: 'seccompDefault: true\n', badYaml: 'seccompDefault: false\n', goodFlag: '--seccomp-default=true', badFlag: '--seccomp-default=false', fail: 'WARN' },
  { id: '4.2.6', benchmark: 'cis-1.24', flagsDefault: 'FAIL', fileDefault: 'FAIL', goodYaml: 'protectKernelDefaults: true\n', badYaml: 'protectKernelDefaults: false\n', goodFlag: '--protect-kernel-defaults=true', badFlag: '--protect-kernel-defaults=false', fail: 'FAIL' },
  { id: 'L.5.1', benchmark: 'lanner-node', flagsDefault: 'FAIL', fileDefault: 'FAIL', goodYaml: 'protectKernelDefaults: true\n', badYaml: 'protectKernelDefaults: false\n', goodFlag: '--protect-kernel-defaults', badFlag: '--protect-kernel-defaults=false', fail: 'FAIL' },
];

describe('kubelet checks whose default matters, in both directions', () => {
  for (const c of CASES) {
    const b = c.benchmark ?? 'cis-1.12';
    const run = (args: string[], files: Record<string, string> = {}): CheckStatus | undefined => kubelet(args, files, c.id, b).status;
    const opposite = (s: CheckStatus): string => (s === 'PASS' ? c.badYaml : c.goodYaml);

    it(`${b} ${c.id}: flags mode (no --config) uses the command-line defaults and ignores the kubeadm config path`, () => {
      expect(run([])).toBe(c.flagsDefault);
      // A file at /var/lib/kubelet/config.yaml saying the opposite is not the kubelet's config.
      expect(run([], { [KUBEADM_CFG]: HEADER + opposite(c.flagsDefault) })).toBe(c.flagsDefault);
    });

    it(`${b} ${c.id}: a --config file that leaves the setting out gets the file defaults`, () => {
      expect(run([`--config=${CFG}`], { [CFG]: HEADER + 'clusterDomain: cluster.local\n' })).toBe(c.fileDefault);
    });

    it(`${b} ${c.id}: the --config file's value decides, both ways`, () => {
      expect(run([`--config=${CFG}`], { [CFG]: HEADER + c.goodYaml })).toBe('PASS');
      expect(run([`--config=${CFG}`], { [CFG]: HEADER + c.badYaml })).toBe(c.fail);
    });

    it(`${b} ${c.id}: the command line beats the config file, both ways`, () => {
      expect(run([`--config=${CFG}`, c.goodFlag], { [CFG]: HEADER + c.badYaml })).toBe('PASS');
      expect(run([`--config=${CFG}`, c.badFlag], { [CFG]: HEADER + c.goodYaml })).toBe(c.fail);
      expect(run([c.goodFlag])).toBe('PASS');
      expect(run([c.badFlag])).toBe(c.fail);
    });

    it(`${b} ${c.id}: a --config-dir drop-in overrides the file, both ways`, () => {
      const dir = '/etc/k/kubelet.conf.d';
      expect(run([`--config=${CFG}`, `--config-dir=${dir}`], { [CFG]: HEADER + c.badYaml, [`${dir}/10-fix.conf`]: HEADER + c.goodYaml })).toBe('PASS');
      expect(run([`--config=${CFG}`, `--config-dir=${dir}`], { [CFG]: HEADER + c.goodYaml, [`${dir}/20-break.conf`]: HEADER + c.badYaml })).toBe(c.fail);
      // Only *.conf files count, in name order: the later one wins.
      expect(run([`--config=${CFG}`, `--config-dir=${dir}`], { [CFG]: HEADER, [`${dir}/10-a.conf`]: HEADER + c.badYaml, [`${dir}/20-b.conf`]: HEADER + c.goodYaml, [`${dir}/30-c.yaml`]: HEADER + c.badYaml })).toBe('PASS');
    });
  }

  it('reports where a value came from, defaults included', () => {
    expect(kubelet([]).actual).toBe('--anonymous-auth not set (default true)');
    expect(kubelet([`--config=${CFG}`], { [CFG]: HEADER }).actual).toBe('--anonymous-auth not set (default false)');
    expect(kubelet([`--config=${CFG}`], { [CFG]: HEADER + 'authentication:\n  anonymous:\n    enabled: true\n' }).actual).toBe('{.authentication.anonymous.enabled}=true (config file)');
    expect(kubelet([], {}, '4.2.4').actual).toBe('--read-only-port not set (default 10255)');
  });

  it('drop-ins merge mappings key by key and replace lists', () => {
    const base = { authentication: { anonymous: { enabled: false }, x509: { clientCAFile: '/ca' } }, tlsCipherSuites: ['A', 'B'] };
    mergeConfig(base, { authentication: { anonymous: { enabled: true } }, tlsCipherSuites: ['C'] });
    expect(base).toEqual({ authentication: { anonymous: { enabled: true }, x509: { clientCAFile: '/ca' } }, tlsCipherSuites: ['C'] });
  });

  it('a relative --config resolves against the kubelet cwd, and the config file is watched; the kubeadm path is not its config', () => {
    const r = root();
    put(r, CFG, HEADER);
    const e = new PostureEngine(postureConfig(r, { proc_root: r }));
    e.evaluateProcess({ exePath: '/usr/bin/kubelet', comm: 'kubelet', argv: ['kubelet', `--config=${CFG}`, '--config-dir=/etc/k/d'] });
    expect(e.isWatchedPath(CFG)).toBe(true);
    expect(e.isWatchedPath('/etc/k/d/50-x.conf')).toBe(true);
    put(r, '/etc/k/d/50-x.conf', HEADER + 'authorization:\n  mode: AlwaysAllow\n');
    e.evaluateFile(`${r}/etc/k/d/50-x.conf`);
    expect(e.result('cis-1.12', '4.2.2')?.status).toBe('FAIL');
  });
});

describe('defaults of the control plane components', () => {
  const run = (component: string, args: string[], id: string): CheckStatus | undefined => {
    const e = new PostureEngine(postureConfig(root()));
    e.evaluateProcess({ exePath: `/usr/bin/${component}`, comm: component.slice(0, 15), argv: [component, ...args] });
    return e.result('cis-1.12', id)?.status;
  };

  it('1.3.7 / 1.4.2: no --bind-address binds every address and fails; 127.0.0.1 passes; 0.0.0.0 fails', () => {
    expect(run('kube-controller-manager', [], '1.3.7')).toBe('FAIL');
    expect(run('kube-controller-manager', ['--bind-address=127.0.0.1'], '1.3.7')).toBe('PASS');
    expect(run('kube-controller-manager', ['--bind-address=0.0.0.0'], '1.3.7')).toBe('FAIL');
    expect(run('kube-scheduler', [], '1.4.2')).toBe('FAIL');
    expect(run('kube-scheduler', ['--bind-address', '127.0.0.1'], '1.4.2')).toBe('PASS');
  });

  it('1.2.16: an audit log without an audit policy fails; with both it passes', () => {
    expect(run('kube-apiserver', ['--audit-log-path=/var/log/a.log'], '1.2.16')).toBe('FAIL');
    expect(run('kube-apiserver', ['--audit-policy-file=/etc/p.yaml'], '1.2.16')).toBe('FAIL');
    expect(run('kube-apiserver', ['--audit-log-path=/var/log/a.log', '--audit-policy-file=/etc/p.yaml'], '1.2.16')).toBe('PASS');
  });

  it('API server and etcd defaults: service-account-lookup on by default passes, client-cert-auth off by default fails', () => {
    expect(run('kube-apiserver', [], '1.2.21')).toBe('PASS');
    expect(run('kube-apiserver', ['--service-account-lookup=false'], '1.2.21')).toBe('FAIL');
    expect(run('etcd', [], '2.2')).toBe('FAIL');
    expect(run('etcd', [], '2.3')).toBe('PASS');
    expect(run('etcd', ['--auto-tls'], '2.3')).toBe('FAIL');
  });

  it('etcd --config-file: settings come from the file, flags and environment are ignored', () => {
    const r = root();
    put(r, '/etc/etcd/etcd.yaml', 'client-transport-security:\n  cert-file: /p/s.crt\n  key-file: /p/s.key\n  client-cert-auth: true\npeer-transport-security:\n  trusted-ca-file: /p/ca.crt\n');
    const e = new PostureEngine(postureConfig(r, { node_checks: true, proc_root: r }));
    e.evaluateProcess({ exePath: '/usr/bin/etcd', comm: 'etcd', argv: ['etcd', '--config-file=/etc/etcd/etcd.yaml', '--client-cert-auth=false'], env: ['ETCD_AUTO_TLS=true'] });
    expect(e.result('cis-1.12', '2.1')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '2.2')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '2.3')?.status).toBe('PASS');
    expect(e.result('lanner-node', 'L.4.3')?.status).toBe('PASS');
    expect(e.result('lanner-node', 'L.4.1')?.status).toBe('FAIL'); // default http://localhost:2379
    expect(e.isWatchedPath('/etc/etcd/etcd.yaml')).toBe(true);
  });
});

describe('durations', () => {
  it('parses Go durations: every spelling of zero is zero', () => {
    for (const z of ['0', '0s', '0m0s', '0h0m0s', '0ms', '-0s']) expect(parseGoDuration(z), z).toBe(0);
    expect(parseGoDuration('5m')).toBe(300e9);
    expect(parseGoDuration('4h0m0s')).toBe(4 * 3600e9);
    expect(parseGoDuration('1.5h')).toBe(1.5 * 3600e9);
    expect(parseGoDuration('300ms')).toBe(300e6);
    for (const bad of ['', '5', 'm', '5x', '1h 2m']) expect(parseGoDuration(bad), bad).toBeUndefined();
  });

  it('an unparseable duration fails the check (the kubelet would not start with it)', () => {
    expect(lookupItem({ flag: 'streaming-connection-idle-timeout', set: true }, { argv: ['k', '--streaming-connection-idle-timeout=abc'] }).value).toBe('abc');
    expect(kubelet(['--streaming-connection-idle-timeout=abc'], {}, '4.2.5').status).toBe('WARN');
  });
});
