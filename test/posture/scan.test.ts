/**
 * Real processes and real files: stand-in binaries named like the components run with real
 * flags, the engine finds them through /proc, and file checks stat real modes and owners under a
 * temp root.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostureEngine } from '../../src/posture/evaluator';
import { renderPostureText, runPostureReport } from '../../src/posture/report';
import type { StatusChange } from '../../src/posture/types';
import { buildStandIns, isRoot, postureConfig, put, requireOrSkip, runStandIn, tempRoot, type StandIn } from './helpers';

const skip = requireOrSkip(isRoot(), 'file ownership checks need root (chown)');

const ENC_IDENTITY_FIRST = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - identity: {}
      - aescbc:
          keys:
            - name: k1
              secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
`;
const ENC_AESCBC = ENC_IDENTITY_FIRST.replace('      - identity: {}\n', '').replace(/(secret: .*\n)$/, '$1      - identity: {}\n');

const BAD_APISERVER = [
  '--anonymous-auth=true',
  '--authorization-mode=AlwaysAllow',
  '--profiling=true',
  '--token-auth-file=/etc/kubernetes/tokens.csv',
  '--audit-log-maxage',
  '7',
  '--encryption-provider-config=/etc/kubernetes/enc.yaml',
];

const GOOD_APISERVER = [
  '--anonymous-auth=false',
  '--authorization-mode=Node,RBAC',
  '--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs',
  '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
  '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
  '--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt',
  '--profiling=false',
  '--audit-log-path=/var/log/kubernetes/audit.log',
  '--audit-policy-file=/etc/kubernetes/audit-policy.yaml',
  '--audit-log-maxage=30',
  '--audit-log-maxbackup=10',
  '--audit-log-maxsize=100',
  '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
  '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
  '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
  '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
  '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
  '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
  '--client-ca-file=/etc/kubernetes/pki/ca.crt',
  '--encryption-provider-config=/etc/kubernetes/enc-good.yaml',
  '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  '--service-account-extend-token-expiration=false',
  '--secure-port=6443',
];

const KUBELET_CONFIG_BAD = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
rotateCertificates: true
tlsCipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_RC4_128_SHA]
`;

describe.skipIf(skip !== undefined)('posture scan of stand-in components and real files', () => {
  const { root, cleanup } = tempRoot();
  const bins = join(root, 'bin');
  const running: StandIn[] = [];
  let standIns: Record<string, string>;
  const pids = new Set<number>();
  const changes: StatusChange[] = [];
  let engine: PostureEngine;

  const start = async (name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<StandIn> => {
    const s = await runStandIn(standIns[name]!, args, env);
    running.push(s);
    pids.add(s.pid);
    return s;
  };
  const status = (id: string, benchmark: 'cis-1.12' | 'cis-1.24' = 'cis-1.12'): string | undefined => engine.result(benchmark, id)?.status;

  beforeAll(async () => {
    mkdirSync(bins);
    standIns = buildStandIns(bins, ['kube-apiserver', 'etcd', 'kubelet', 'kube-controller-manager', 'kube-scheduler']);
    put(root, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\netcd:x:4242:4242::/var/lib/etcd:/usr/sbin/nologin\n', 0o644);
    put(root, '/etc/group', 'root:x:0:\netcd:x:4242:\n', 0o644);
    put(root, '/etc/kubernetes/enc.yaml', ENC_IDENTITY_FIRST);
    put(root, '/etc/kubernetes/enc-good.yaml', ENC_AESCBC);
    put(root, '/etc/kubernetes/audit-policy.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n');
    put(root, '/etc/kubernetes/manifests/kube-apiserver.yaml', 'kind: Pod\n', 0o644);
    put(root, '/etc/kubernetes/manifests/etcd.yaml', 'kind: Pod\n', 0o600);
    put(root, '/etc/kubernetes/pki/ca.crt', 'CERT\n', 0o644);
    put(root, '/etc/kubernetes/pki/ca.key', 'KEY\n', 0o644);
    put(root, '/etc/kubernetes/pki/etcd/server.key', 'KEY\n', 0o600);
    put(root, '/var/lib/kubelet/config.yaml', KUBELET_CONFIG_BAD, 0o644);
    mkdirSync(join(root, 'var/lib/etcd/data'), { recursive: true, mode: 0o755 });
    chmodSync(join(root, 'var/lib/etcd/data'), 0o755);
    chownSync(join(root, 'var/lib/etcd/data'), 4242, 4242);

    await start('kube-apiserver', BAD_APISERVER, { LANNER_REEXEC_ARGS: join(root, 'reexec-args') });
    await start('etcd', ['--cert-file=/etc/etcd/server.crt', '--key-file=/etc/etcd/server.key', '--data-dir=/var/lib/etcd/data'], { ETCD_CLIENT_CERT_AUTH: 'true' });
    await start('kubelet', ['--config=/var/lib/kubelet/config.yaml', '--anonymous-auth=false', '--hostname-override=node-x']);
    await start('kube-controller-manager', ['--profiling=false', '--bind-address=0.0.0.0', '--root-ca-file=/etc/kubernetes/pki/ca.crt']);

    engine = new PostureEngine(postureConfig(root), { processFilter: (pid) => pids.has(pid) });
    engine.onStatusChange((c) => changes.push(c));
    engine.scanAll();
  });

  afterAll(async () => {
    engine?.close();
    await Promise.all(running.map((s) => s.stop()));
    cleanup();
  });

  it('finds the API server through /proc and fails its weak flags', () => {
    expect(status('1.2.1')).toBe('WARN'); // unscored
    expect(status('1.2.2')).toBe('FAIL');
    expect(status('1.2.6')).toBe('FAIL');
    expect(status('1.2.7')).toBe('FAIL');
    expect(status('1.2.8')).toBe('FAIL');
    expect(status('1.2.10')).toBe('PASS'); // AlwaysAdmit absent because the flag is unset
    expect(status('1.2.15')).toBe('FAIL');
    expect(status('1.2.17')).toBe('FAIL'); // "--audit-log-maxage 7" (space form)
    expect(engine.result('cis-1.12', '1.2.17')?.actual).toBe('--audit-log-maxage=7');
    expect(status('1.2.20')).toBe('WARN'); // manual
    expect(status('1.2.21')).toBe('PASS');
    const r = engine.result('cis-1.12', '1.2.6')!;
    expect(r.actual).toBe('--authorization-mode=AlwaysAllow');
    expect(r.subject).toMatch(/^kube-apiserver \(pid \d+\)$/);
    expect(r.remediation).toMatch(/Node,RBAC/);
  });

  it('keys results by benchmark: profiling is 1.2.15 in cis-1.12 and 1.2.17 in cis-1.24', () => {
    expect(engine.result('cis-1.24', '1.2.17')?.text).toMatch(/profiling/);
    expect(engine.result('cis-1.12', '1.2.17')?.text).toMatch(/30 days/);
    expect(status('1.2.17', 'cis-1.24')).toBe('FAIL');
    expect(status('1.2.16', 'cis-1.24')).toBe('PASS'); // --secure-port unset
    expect(engine.result('cis-1.24', '1.2.6')).toBeUndefined(); // not documented for cis-1.24
  });

  it('the encryption flag is set', () => {
    expect(status('1.2.27')).toBe('PASS');
    expect(status('1.2.29', 'cis-1.24')).toBe('PASS');
  });

  it('judges identity-first encryption under both benchmark ids: WARN, as the check is not scored', () => {
    expect(status('1.2.28')).toBe('WARN');
    expect(status('1.2.30', 'cis-1.24')).toBe('WARN');
    expect(engine.result('cis-1.12', '1.2.28')?.actual).toMatch(/identity/);
  });

  it('reads etcd flags from the command line and from the environment', () => {
    expect(status('2.1')).toBe('PASS');
    expect(status('2.2')).toBe('PASS');
    expect(engine.result('cis-1.12', '2.2')?.actual).toBe('ETCD_CLIENT_CERT_AUTH=true (environment)');
    expect(status('2.4')).toBe('FAIL');
    expect(status('2.3')).toBe('PASS');
  });

  it('audits the etcd data dir named by --data-dir: mode 755 fails, etcd:etcd passes', () => {
    expect(status('1.1.11')).toBe('FAIL');
    expect(engine.result('cis-1.12', '1.1.11')?.actual).toBe('/var/lib/etcd/data mode 755');
    expect(status('1.1.12')).toBe('PASS');
  });

  it('kubelet: command line beats the config file, the config file is used otherwise', () => {
    expect(status('4.2.1')).toBe('PASS'); // --anonymous-auth=false overrides enabled: true
    expect(engine.result('cis-1.12', '4.2.1')?.actual).toBe('--anonymous-auth=false');
    expect(status('4.2.2')).toBe('FAIL');
    expect(engine.result('cis-1.12', '4.2.2')?.actual).toBe('{.authorization.mode}=AlwaysAllow (config file)');
    expect(status('4.2.3')).toBe('PASS');
    expect(status('4.2.4')).toBe('WARN');
    expect(status('4.2.7')).toBe('WARN'); // hostname override, unscored
    expect(status('4.2.10')).toBe('PASS');
    expect(status('4.2.11', 'cis-1.24')).toBe('PASS');
    expect(status('4.2.12')).toBe('WARN'); // RC4 suite
    expect(status('4.2.6', 'cis-1.24')).toBe('FAIL'); // protectKernelDefaults missing
  });

  it('recognises kube-controller-manager although its comm is truncated', () => {
    expect(status('1.3.2')).toBe('PASS');
    expect(status('1.3.7')).toBe('FAIL');
    expect(status('1.3.5')).toBe('PASS');
  });

  it('file modes and ownership', () => {
    expect(status('1.1.1')).toBe('FAIL'); // apiserver manifest 644
    expect(status('1.1.2')).toBe('PASS');
    expect(status('1.1.7')).toBe('PASS');
    expect(status('1.1.20')).toBe('PASS');
    expect(status('1.1.21')).toBe('WARN'); // ca.key 644, unscored
    expect(engine.result('cis-1.12', '1.1.21')?.actual).toBe('/etc/kubernetes/pki/ca.key mode 644');
    expect(status('4.1.9')).toBe('FAIL'); // kubelet config 644
    expect(status('4.1.2')).toBe('PASS'); // absent service file passes ownership
    expect(status('4.1.1')).toBeUndefined(); // absent: no result
    expect(status('1.1.3')).toBeUndefined();
  });

  it('emits the first results as changes from null', () => {
    const first = changes.find((c) => c.benchmark === 'cis-1.12' && c.id === '1.2.6');
    expect(first).toMatchObject({ from: null, to: 'FAIL', text: expect.stringMatching(/AlwaysAllow/) });
  });

  it('a chmod of a watched file re-evaluates after the debounce and reports the change', async () => {
    changes.length = 0;
    const real = join(root, 'var/lib/kubelet/config.yaml');
    expect(engine.isWatchedPath(real)).toBe(true);
    expect(engine.isWatchedPath('/var/lib/kubelet/config.yaml')).toBe(true);
    expect(engine.isWatchedPath(join(root, 'etc/kubernetes/pki/etcd/peer.key'))).toBe(true);
    expect(engine.isWatchedPath(join(root, 'etc/kubernetes/other.yaml'))).toBe(false);
    chmodSync(real, 0o600);
    expect(engine.notePathEvent(real)).toBe(true);
    expect(engine.notePathEvent(real)).toBe(true); // coalesced
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.stats().pathEventsCoalesced).toBe(1);
    const c = changes.find((x) => x.id === '4.1.9' && x.benchmark === 'cis-1.12');
    expect(c).toMatchObject({ from: 'FAIL', to: 'PASS' });
    expect(changes.filter((x) => x.id === '4.1.9')).toHaveLength(1);
  });

  it('editing the kubelet config re-runs the kubelet flag checks', async () => {
    changes.length = 0;
    const real = join(root, 'var/lib/kubelet/config.yaml');
    writeFileSync(real, KUBELET_CONFIG_BAD.replace('mode: AlwaysAllow', 'mode: Webhook').replace('readOnlyPort: 10255', 'readOnlyPort: 0'));
    engine.notePathEvent(real);
    await new Promise((r) => setTimeout(r, 200));
    expect(changes.find((x) => x.id === '4.2.2' && x.benchmark === 'cis-1.12')).toMatchObject({ from: 'FAIL', to: 'PASS' });
    expect(changes.find((x) => x.id === '4.2.4')).toMatchObject({ from: 'WARN', to: 'PASS' });
  });

  it('chown of a PKI file to another user fails 1.1.19', () => {
    changes.length = 0;
    const real = join(root, 'etc/kubernetes/pki/etcd/server.key');
    chownSync(real, 1000, 1000);
    engine.evaluateFile(real);
    expect(status('1.1.19')).toBe('FAIL');
    expect(engine.result('cis-1.12', '1.1.19')?.actual).toBe('/etc/kubernetes/pki/etcd/server.key owner 1000:1000');
    expect(changes.find((x) => x.id === '1.1.19')).toMatchObject({ from: 'PASS', to: 'FAIL', scored: true });
  });

  it('a re-exec of the API server (same pid) with good flags flips its checks to PASS', async () => {
    changes.length = 0;
    const api = running[0]!;
    writeFileSync(join(root, 'reexec-args'), GOOD_APISERVER.join('\n'));
    process.kill(api.pid, 'SIGUSR1');
    const deadline = Date.now() + 5000;
    while (!readFileSync(`/proc/${api.pid}/cmdline`, 'utf8').includes('--authorization-mode=Node,RBAC')) {
      if (Date.now() > deadline) throw new Error('stand-in did not re-exec');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(readFileSync(`/proc/${api.pid}/comm`, 'utf8').trim()).toBe('kube-apiserver');
    engine.scanAll();
    for (const id of ['1.2.2', '1.2.6', '1.2.7', '1.2.8', '1.2.15', '1.2.17']) {
      expect(changes.find((c) => c.benchmark === 'cis-1.12' && c.id === id), id).toMatchObject({ from: 'FAIL', to: 'PASS' });
    }
    expect(changes.find((c) => c.benchmark === 'cis-1.12' && c.id === '1.2.28')).toMatchObject({ from: 'WARN', to: 'PASS' });
    expect(changes.find((c) => c.benchmark === 'cis-1.24' && c.id === '1.2.17')).toMatchObject({ from: 'FAIL', to: 'PASS' });
    const scored = engine.allResults().filter((r) => r.benchmark === 'cis-1.12' && r.group === '1.2' && r.scored);
    expect(scored.filter((r) => r.status !== 'PASS').map((r) => r.id)).toEqual([]);
    expect(status('1.2.29')).toBe('PASS');
    expect(status('1.2.16')).toBe('PASS'); // audit log and audit policy
    expect(status('3.2.1')).toBe('PASS');
    expect(engine.result('cis-1.12', '3.2.1')?.actual).toMatch(/Policy with 1 rule/);
    expect(engine.result('cis-1.12', '1.2.6')?.subject).toBe(`kube-apiserver (pid ${api.pid})`);
  });

  it('evaluateProcess from an exec event gives the same verdicts as the /proc scan', () => {
    const api = running[0]!;
    changes.length = 0;
    const bin = standIns['kube-apiserver']!;
    const results = engine.evaluateProcess({ pid: api.pid, exePath: bin, comm: 'kube-apiserver', argv: [bin, ...GOOD_APISERVER] });
    expect(results.length).toBeGreaterThan(30);
    expect(changes.filter((c) => c.id.startsWith('1.2.'))).toEqual([]);
  });

  it('a component that stops running turns its results to INFO on the next scan', async () => {
    changes.length = 0;
    const cm = running.find((s) => s.child.spawnfile.endsWith('kube-controller-manager'))!;
    await cm.stop();
    pids.delete(cm.pid);
    engine.scanAll();
    expect(status('1.3.7')).toBe('INFO');
    expect(changes.find((c) => c.id === '1.3.7')).toMatchObject({ from: 'FAIL', to: 'INFO', actual: 'kube-controller-manager not running' });
    expect(status('1.2.6')).toBe('PASS'); // the API server still runs
  });

  it('the one-shot report has kube-bench totals and a text rendering', () => {
    const kb = runPostureReport({ config: postureConfig(root), engine });
    // One benchmark per document: the top level is cis-1.12 only, cis-1.24 is a document of its own.
    expect(kb.benchmark).toBe('cis-1.12');
    expect(kb.benchmarks).toEqual(['cis-1.12', 'cis-1.24']);
    const results = engine.allResults().filter((r) => r.benchmark === 'cis-1.12');
    const sum = kb.Controls.reduce((n, c) => n + c.total_pass + c.total_fail + c.total_warn + c.total_info, 0);
    expect(sum).toBe(results.length);
    expect(kb.Controls.every((c) => c.version === 'cis-1.12')).toBe(true);
    expect(kb.Totals.total_fail).toBe(results.filter((r) => r.status === 'FAIL').length);
    expect(kb.totals_by_benchmark['cis-1.12']!.FAIL).toBe(kb.Totals.total_fail);
    const other = kb.other_reports.find((d) => d.benchmark === 'cis-1.24')!;
    expect(other.note).toMatch(/partial/);
    expect(other.Totals.total_fail).toBe(kb.totals_by_benchmark['cis-1.24']!.FAIL);
    expect(other.Controls.every((c) => c.version === 'cis-1.24')).toBe(true);
    // The report serialises as a kube-bench --json document.
    const json = JSON.parse(JSON.stringify(kb)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['Controls', 'Totals']));
    const master = kb.Controls.find((c) => c.version === 'cis-1.12' && c.id === '1')!;
    expect(master.node_type).toBe('master');
    expect(master.tests.map((t) => t.section)).toEqual(['1.1', '1.2', '1.3']);
    const r1111 = master.tests[0]!.results.find((r) => r.test_number === '1.1.11')!;
    expect(r1111).toMatchObject({ status: 'FAIL', scored: true, actual_value: '/var/lib/etcd/data mode 755' });
    for (const c of kb.Controls) for (const t of c.tests) expect(t.pass + t.fail + t.warn + t.info).toBe(t.results.length);
    const text = renderPostureText(kb);
    expect(text).toContain('[FAIL] 1.1.11 etcd data directory permissions are 700 or more restrictive');
    expect(text).toMatch(/fix: Run chmod 700/);
  });
});
