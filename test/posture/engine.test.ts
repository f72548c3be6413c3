import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlertworthy, statusChangeToAlert } from '../../src/posture/alerts';
import { recogniseComponent } from '../../src/posture/components';
import { PostureEngine } from '../../src/posture/evaluator';
import { renderPostureText, runPostureReport } from '../../src/posture/report';
import type { StatusChange } from '../../src/posture/types';
import { postureConfig, put, tempRoot } from './helpers';

const roots: Array<() => void> = [];
afterEach(() => {
  while (roots.length) roots.pop()!();
});
const root = (): string => {
  const t = tempRoot();
  roots.push(t.cleanup);
  return t.root;
};

describe('component recognition and hot-path predicates', () => {
  const engine = new PostureEngine(postureConfig('/'));

  it('recognises components by argv[0], comm (truncated) or exe, and hyperkube', () => {
    expect(recogniseComponent('kube-apiserver', '/usr/local/bin/kube-apiserver', ['kube-apiserver'])?.component).toBe('kube-apiserver');
    expect(recogniseComponent('kube-controller', '/x/y', ['/usr/bin/kube-controller-manager', '--v=2'])?.component).toBe('kube-controller-manager');
    expect(recogniseComponent('kube-controller', '/x/y', ['weird'])?.component).toBe('kube-controller-manager');
    const hk = recogniseComponent('hyperkube', '/hyperkube', ['/hyperkube', 'kubelet', '--config=/c.yaml']);
    expect(hk).toEqual({ component: 'kubelet', argv: ['kubelet', '--config=/c.yaml'] });
    expect(recogniseComponent('kubectl', '/usr/bin/kubectl', ['kubectl'])).toBeUndefined();
    expect(recogniseComponent('etcdctl', '/usr/bin/etcdctl', ['etcdctl'])).toBeUndefined();
  });

  it('isPostureRelevantExec is true only for components', () => {
    expect(engine.isPostureRelevantExec('kubelet', '/usr/bin/kubelet')).toBe(true);
    expect(engine.isPostureRelevantExec('x', '/opt/k8s/kube-scheduler')).toBe(true);
    expect(engine.isPostureRelevantExec('bash', '/bin/bash')).toBe(false);
  });

  it('watches the configured files and the PKI tree, not their neighbours', () => {
    const w = engine.watchedPaths();
    expect(w.has('/etc/kubernetes/manifests/kube-apiserver.yaml')).toBe(true);
    expect(w.has('/var/lib/kubelet/config.yaml')).toBe(true);
    expect(engine.isWatchedPath('/etc/kubernetes/pki/etcd/ca.key')).toBe(true);
    expect(engine.isWatchedPath('/etc/kubernetes/pkix')).toBe(false);
    expect(engine.isWatchedPath('/etc/passwd')).toBe(false);
  });

  it('bounds pending path events and counts the overflow', () => {
    const r = root();
    const e = new PostureEngine(postureConfig(r, { max_pending: 2, debounce_ms: 10_000 }));
    expect(e.notePathEvent('/etc/kubernetes/pki/a.key')).toBe(true);
    expect(e.notePathEvent('/etc/kubernetes/pki/b.key')).toBe(true);
    expect(e.notePathEvent('/etc/kubernetes/pki/c.key')).toBe(false);
    expect(e.notePathEvent('/etc/hostname')).toBe(false);
    expect(e.stats()).toMatchObject({ pathEventsQueued: 2, pathEventsDropped: 1, pendingPaths: 2 });
    e.close();
    expect(e.stats().pendingPaths).toBe(0);
  });
});

describe('evaluation from injected process facts', () => {
  it('evaluateProcess without a pid uses the given env and config under the root prefix', () => {
    const r = root();
    put(r, '/etc/k/kubelet.yaml', 'authentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\nprotectKernelDefaults: true\n');
    const e = new PostureEngine(postureConfig(r));
    const results = e.evaluateProcess({ exePath: '/usr/bin/kubelet', comm: 'kubelet', argv: ['/usr/bin/kubelet', '--config', '/etc/k/kubelet.yaml'] });
    expect(results.length).toBeGreaterThan(10);
    expect(e.result('cis-1.12', '4.2.1')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '4.2.2')?.status).toBe('PASS');
    expect(e.result('cis-1.24', '4.2.6')?.status).toBe('PASS');
    // The config file named by --config is watched and its change re-evaluates the kubelet.
    expect(e.isWatchedPath('/etc/k/kubelet.yaml')).toBe(true);
    put(r, '/etc/k/kubelet.yaml', 'authorization:\n  mode: AlwaysAllow\n');
    e.evaluateFile(join(r, 'etc/k/kubelet.yaml'));
    expect(e.result('cis-1.12', '4.2.2')?.status).toBe('FAIL');
    // The file no longer says anything about anonymous auth: the config file's default (off) applies.
    expect(e.result('cis-1.12', '4.2.1')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '4.2.1')?.actual).toBe('--anonymous-auth not set (default false)');
  });

  it('etcd settings from the environment', () => {
    const e = new PostureEngine(postureConfig(root()));
    e.evaluateProcess({ exePath: '/usr/local/bin/etcd', comm: 'etcd', argv: ['etcd'], env: ['ETCD_CERT_FILE=/a', 'ETCD_KEY_FILE=/b', 'ETCD_AUTO_TLS=true'] });
    expect(e.result('cis-1.12', '2.1')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '2.3')?.status).toBe('FAIL');
    expect(e.result('cis-1.12', '2.3')?.actual).toBe('ETCD_AUTO_TLS=true (environment)');
  });

  it('summary counts per benchmark add up to the results', () => {
    const r = root();
    put(r, '/etc/kubernetes/admin.conf', 'x', 0o644);
    const e = new PostureEngine(postureConfig(r, { benchmarks: ['cis-1.12'] }));
    e.evaluateProcess({ exePath: '/k', comm: 'kube-scheduler', argv: ['kube-scheduler', '--profiling=false'] });
    const s = e.summary();
    expect(Object.keys(s)).toEqual(['cis-1.12']);
    const total = Object.values(s['cis-1.12']!).reduce((a, b) => a + b, 0);
    expect(total).toBe(e.allResults().length);
    expect(e.result('cis-1.12', '1.1.13')?.status).toBe('FAIL');
    expect(e.result('cis-1.24', '1.2.17')).toBeUndefined();
  });

  it('a node with nothing Kubernetes yields an empty report that says so', () => {
    const report = runPostureReport({ config: postureConfig(root(), { proc_root: root() }) });
    expect(report.Controls).toEqual([]);
    expect(report.Totals).toEqual({ total_pass: 0, total_fail: 0, total_warn: 0, total_info: 0 });
    expect(renderPostureText(report)).toMatch(/No Kubernetes components/);
  });

  it('file removal turns a result INFO; a mode change back and forth emits each transition once', () => {
    const r = root();
    const real = put(r, '/etc/kubernetes/scheduler.conf', 'x', 0o600);
    const e = new PostureEngine(postureConfig(r));
    const changes: StatusChange[] = [];
    e.onStatusChange((c) => changes.push(c));
    e.scanAll();
    chmodSync(real, 0o666);
    e.evaluateFile(real);
    e.evaluateFile(real);
    chmodSync(real, 0o400);
    e.evaluateFile(real);
    rmSync(real);
    e.evaluateFile(real);
    expect(changes.filter((c) => c.id === '1.1.15').map((c) => `${c.from}->${c.to}`)).toEqual(['null->PASS', 'PASS->FAIL', 'FAIL->PASS', 'PASS->INFO']);
    expect(e.result('cis-1.12', '1.1.15')?.actual).toBe('/etc/kubernetes/scheduler.conf not present');
  });
});

describe('posture alerts', () => {
  const change = (over: Partial<StatusChange>): StatusChange => ({
    benchmark: 'cis-1.12', id: '1.2.6', text: 'API server --authorization-mode does not include AlwaysAllow', from: 'PASS', to: 'FAIL',
    actual: '--authorization-mode=AlwaysAllow', expected: '--authorization-mode does not contain AlwaysAllow', remediation: 'fix it', scored: true, subject: 'kube-apiserver (pid 1)', ...over,
  });

  it('only news becomes an alert', () => {
    expect(isAlertworthy(change({ from: null, to: 'PASS' }))).toBe(false);
    expect(isAlertworthy(change({ from: null, to: 'FAIL' }))).toBe(true);
    expect(isAlertworthy(change({ from: 'FAIL', to: 'PASS' }))).toBe(true);
    expect(isAlertworthy(change({ from: 'FAIL', to: 'INFO' }))).toBe(false);
  });

  it('renders rule name, priority by scored, and typed fields', () => {
    const a = statusChangeToAlert(change({}), { hostname: 'n1', timeNs: 5n });
    expect(a.rule).toBe('Lanner posture: API server --authorization-mode does not include AlwaysAllow');
    expect(a.priority).toBe(2);
    expect(statusChangeToAlert(change({ scored: false }), { hostname: 'n1', timeNs: 5n }).priority).toBe(4);
    expect(a.outputFields['posture.previous_status']).toBe('PASS');
    expect(a.message).toContain('is FAIL (was PASS)');
    expect(a.tags).toEqual([...a.tags].sort());
  });
});
