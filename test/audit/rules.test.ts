/**
 * Falco's k8s_audit_rules.yaml, unchanged, against realistic audit events: it loads with zero
 * errors, and each scenario fires the stock rules written for it.
 */
import { describe, expect, it } from 'vitest';
import { compileRules, loadRules } from '../../src/rules/ruleset';
import { STOCK_K8S_AUDIT, STOCK_STABLE } from '../support/stock-rules';
import { anonymousAllowed, bindingToClusterAdmin, execIntoPod, healthCheck, podCreated, secretReadBy, wildcardClusterRole } from './events';
import { auditConfig, stockAuditRules, stockSource, tempDir } from './helpers';

describe('stock k8s_audit_rules.yaml', () => {
  it('loads with zero errors and every rule compiles for the k8s_audit source', () => {
    const rs = stockAuditRules();
    expect(rs.errors).toEqual([]);
    expect(rs.warnings.filter((w) => w.code === 'LOAD_UNKNOWN_SOURCE' || w.code === 'LOAD_NO_EVTTYPE')).toEqual([]);
    expect(rs.rules.length).toBe(48);
    expect(rs.rules.every((r) => r.source === 'k8s_audit' && r.evttypes.length === 0)).toBe(true);
    const own = rs.sources?.get('k8s_audit');
    expect(own?.rules.length).toBe(rs.rules.filter((r) => r.enabled).length);
    // No syscall rule comes out of it: the kernel is asked for nothing on its account.
    expect(rs.byType.every((b) => b.length === 0)).toBe(true);
  });

  it('loads beside the syscall rules: each source keeps its own rules and fields', () => {
    const rs = loadRules([STOCK_STABLE, STOCK_K8S_AUDIT]);
    expect(rs.errors).toEqual([]);
    expect(rs.rules.filter((r) => r.source === 'syscall').length).toBe(25);
    expect(rs.sources?.get('k8s_audit')?.rules.length).toBeGreaterThan(40);
  });

  it('keeps the sources apart: ka.* is unknown to syscall rules and proc.* to k8s_audit rules', () => {
    const doc = (source: string, cond: string): string => `- rule: R\n  desc: d\n  condition: ${cond}\n  output: o\n  priority: INFO\n  source: ${source}\n`;
    expect(compileRules([{ name: 'a.yaml', content: doc('syscall', 'evt.type = open and ka.verb = get') }]).errors.map((e) => e.message).join()).toMatch(/nonexistent field ka\.verb/);
    expect(compileRules([{ name: 'b.yaml', content: doc('k8s_audit', 'proc.name = bash') }]).errors.map((e) => e.message).join()).toMatch(/nonexistent field proc\.name/);
  });

  it('requires the k8saudit and json plugins that Lanner provides natively', () => {
    const req = (name: string, version: string): string => `- required_plugin_versions:\n    - name: ${name}\n      version: ${version}\n`;
    expect(compileRules([{ name: 'a.yaml', content: req('k8saudit', '0.18.0') + req('json', '0.7.0') }]).errors).toEqual([]);
    expect(compileRules([{ name: 'b.yaml', content: req('k8saudit', '1.0.0') }]).errors[0]?.message).toMatch(/k8saudit/);
  });
});

describe('stock rules fire on the audit events they were written for', () => {
  const run = (event: Record<string, unknown>): string[] => {
    const t = stockSource(auditConfig(tempDir()));
    expect(t.source.ingest(JSON.stringify(event), 'file')).toBe(1);
    return t.fired();
  };

  it('kubectl exec into a pod → Attach/Exec Pod, with the command from the URI', () => {
    const t = stockSource(auditConfig(tempDir()));
    t.source.ingest(JSON.stringify(execIntoPod()), 'file');
    expect(t.fired()).toEqual(['Attach/Exec Pod']);
    const a = t.alerts[0]!;
    expect(a.source).toBe('k8s_audit');
    expect(a.priority).toBe(5);
    expect(a.outputFields['ka.uri.param[command]']).toBe('sh');
    expect(a.message).toBe('Attach/Exec to pod (user=kubernetes-admin pod=nginx resource=pods ns=default action=exec command=sh)');
  });

  it('a ClusterRoleBinding to cluster-admin → Attach to cluster-admin Role (and the activity rule)', () => {
    const t = stockSource(auditConfig(tempDir()));
    t.source.ingest(JSON.stringify(bindingToClusterAdmin()), 'file');
    expect(t.fired()).toEqual(['Attach to cluster-admin Role', 'K8s ClusterRoleBinding Created']);
    expect(t.alerts[0]!.outputFields['ka.req.binding.subjects']).toBe('{"kind":"ServiceAccount","name":"default","namespace":"default"}');
    expect(t.alerts[1]!.outputFields['ka.req.binding.role']).toBe('cluster-admin');
    expect(t.alerts[1]!.outputFields['ka.response.code']).toBe('201');
  });

  it('a secret read by an unexpected user → Disallowed K8s User and K8s Secret Get Successfully', () => {
    expect(run(secretReadBy('mallory'))).toEqual(['Disallowed K8s User', 'K8s Secret Get Successfully']);
  });

  it('a privileged pod created → Create Privileged Pod; a known privileged image is exempt', () => {
    expect(run(podCreated({ privileged: true }))).toEqual(['Create Privileged Pod']);
    expect(run(podCreated({ privileged: true, image: 'docker.io/calico/node:v3.28.0' }))).toEqual([]);
    expect(run(podCreated({}))).toEqual([]);
  });

  it('host network and a sensitive host path → their rules; a pod in kube-system → Pod Created in Kube Namespace', () => {
    expect(run(podCreated({ hostNetwork: true, hostPath: '/etc' }))).toEqual(['Create Sensitive Mount Pod', 'Create HostNetwork Pod']);
    expect(run(podCreated({ namespace: 'kube-system' }))).toEqual(['Pod Created in Kube Namespace']);
  });

  it('an allowed anonymous request → Anonymous Request Allowed', () => {
    expect(run(anonymousAllowed())).toContain('Anonymous Request Allowed');
  });

  it('a wildcard ClusterRole → ClusterRole With Wildcard Created (and the activity rule)', () => {
    expect(run(wildcardClusterRole())).toEqual(['ClusterRole With Wildcard Created', 'K8s ClusterRole Created']);
  });

  it('routine traffic fires nothing', () => {
    expect(run(healthCheck())).toEqual([]);
  });

  it('rule_matching first stops at the first matching rule, as for syscalls', () => {
    const t = stockSource(auditConfig(tempDir()), 'first');
    t.source.ingest(JSON.stringify(secretReadBy('mallory')), 'file');
    expect(t.fired()).toEqual(['Disallowed K8s User']);
  });

  it('alerts carry the event time (stageTimestamp) and render Falco-style outputs', () => {
    const t = stockSource(auditConfig(tempDir()));
    const ev = secretReadBy('mallory');
    ev.stageTimestamp = '2026-12-02T07:00:01.123456789Z';
    t.source.ingest(JSON.stringify(ev), 'file');
    expect(t.alerts[0]!.timeNs).toBe(1796194801123456789n);
    expect(t.alerts[0]!.hostname).toBe('cp-1');
    expect(t.alerts[0]!.outputFields).toMatchObject({ 'ka.user.name': 'mallory', 'ka.verb': 'get', 'ka.response.code': '200' });
  });
});
