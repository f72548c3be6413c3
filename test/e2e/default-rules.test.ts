/**
 * The default rules as a ruleset: they load without errors or warnings, every rule is bounded to
 * a few event types, carries MITRE tags and ends its output with process context; and the
 * trickier conditions (ordering under first-match, pmatch paths, mode bits, val(), entrypoint
 * exclusion, CIDR lists) pick the right rule on synthetic events. The kernel path is covered by
 * the other files in this directory.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/rule-engine';
import type { Alert } from '../../src/outputs/alert';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { compileRules } from '../../src/rules/ruleset';
import type { FdInfo, ProcessInfo } from '../../src/state/types';
import { FakeState, fdInfo, proc } from '../rules/fake-state';
import { DEFAULT_RULES } from './agent-harness';

const files = DEFAULT_RULES.map((p) => ({ name: p, content: readFileSync(p, 'utf8') }));
const ruleset = compileRules(files);

describe('default rules load cleanly', () => {
  it('no errors, no warnings', () => {
    expect(ruleset.errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
    expect(ruleset.warnings.map((e) => `${e.code} ${e.itemName}: ${e.message}`)).toEqual([]);
    expect(ruleset.rules.length).toBeGreaterThanOrEqual(30);
  });

  it('every rule: a few event types, a MITRE technique and tactic, process context at the end of the output', () => {
    for (const r of ruleset.rules) {
      expect(r.evttypes.length, r.name).toBeGreaterThan(0);
      expect(r.evttypes.length, r.name).toBeLessThanOrEqual(12);
      expect(r.tags.some((t) => /^T\d{4}(\.\d{3})?$/.test(t)), r.name).toBe(true);
      expect(r.tags.some((t) => t.startsWith('mitre_')), r.name).toBe(true);
      expect(r.desc.length, r.name).toBeGreaterThan(40);
    }
    const yaml = files.map((f) => f.content).join('\n');
    const outputs = [...yaml.matchAll(/^  output: >\n((?: {4}.*\n)+)/gm)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
    expect(outputs.length).toBe(ruleset.rules.length);
    for (const o of outputs) {
      expect(o, o).toMatch(/user_uid=%user\.uid/);
      expect(o, o).toMatch(/command=%proc\.cmdline pid=%proc\.pid/);
    }
  });
});

describe('default rules on synthetic events', () => {
  const HOST = 'host';
  const CTR = 'c0ffee123456';

  function evaluate(setup: (s: FakeState) => void, ev: SyntheticEventInit): Alert[] {
    const state = new FakeState();
    setup(state);
    const alerts: Alert[] = [];
    const engine = new Engine({ reader: state, hooks: [state], onAlert: (a) => alerts.push(a), matching: 'first', bootOffsetNs: 0n, hostname: 'n' });
    engine.setRuleset(ruleset);
    engine.process(syntheticEvent(ev));
    return alerts;
  }
  const withProc = (p: Partial<ProcessInfo> & { tgid: number }, fd?: FdInfo) => (s: FakeState): void => {
    s.addProcess(proc(p));
    if (p.ptgid) s.addProcess(proc({ tgid: p.ptgid, name: 'parent', containerId: p.containerId ?? HOST }));
    if (fd) s.addFd(p.tgid, fd);
  };
  const rulesOf = (alerts: Alert[]): string[] => alerts.map((a) => a.rule);
  const openWrite = (tgid: number, path: string): SyntheticEventInit => ({ type: 'openat', tgid, ret: 3, str0: path, args: [-100, 0, 0o1101, 0o644] });

  it('first match: a manifest write is control-plane tampering, not the generic /etc write; kubeadm is neither', () => {
    const file = fdInfo({ num: 3, type: 'file', name: '/etc/kubernetes/manifests/x.yaml', openFlags: 0o1101 });
    expect(rulesOf(evaluate(withProc({ tgid: 10, name: 'sh' }, file), openWrite(10, file.name)))).toEqual(['Kubernetes control plane configuration modified']);
    expect(rulesOf(evaluate(withProc({ tgid: 10, name: 'kubeadm' }, file), openWrite(10, file.name)))).toEqual([]);
    const etc = fdInfo({ num: 3, type: 'file', name: '/etc/ld.so.preload', openFlags: 0o1101 });
    expect(rulesOf(evaluate(withProc({ tgid: 10, name: 'sh' }, etc), openWrite(10, etc.name)))).toEqual(['Write below /etc']);
    // A cron file is a write below /etc too, but the cron rule comes first and names it.
    const cron = fdInfo({ num: 3, type: 'file', name: '/etc/cron.d/evil', openFlags: 0o1101 });
    expect(rulesOf(evaluate(withProc({ tgid: 10, name: 'sh' }, cron), openWrite(10, cron.name)))).toEqual(['Cron job scheduled']);
  });

  it('pmatch: /etc/kubernetes/manifests-old is not the manifests directory', () => {
    const near = fdInfo({ num: 3, type: 'file', name: '/etc/kubernetes/manifests-old/x.yaml', openFlags: 0o1101 });
    expect(rulesOf(evaluate(withProc({ tgid: 10, name: 'sh' }, near), openWrite(10, near.name)))).toEqual(['Write below /etc']);
  });

  it('setuid/setgid bits in chmod modes', () => {
    const chmod = (mode: number): SyntheticEventInit => ({ type: 'fchmodat', tgid: 11, ret: 0, str0: '/tmp/x', args: [-100, 0, mode] });
    expect(rulesOf(evaluate(withProc({ tgid: 11, name: 'chmod' }), chmod(0o4755)))).toEqual(['Setuid or setgid bit set on a file']);
    expect(rulesOf(evaluate(withProc({ tgid: 11, name: 'chmod' }), chmod(0o2775)))).toEqual(['Setuid or setgid bit set on a file']);
    expect(rulesOf(evaluate(withProc({ tgid: 11, name: 'chmod' }), chmod(0o1777)))).toEqual([]);
    expect(rulesOf(evaluate(withProc({ tgid: 11, name: 'dpkg' }), chmod(0o4755)))).toEqual([]);
  });

  it('process_vm_writev: into another process alerts, into itself does not', () => {
    expect(rulesOf(evaluate(withProc({ tgid: 12, name: 'x' }), { type: 'process_vm_writev', tgid: 12, ret: 8, args: [99] }))).toEqual(['Memory of another process written']);
    expect(rulesOf(evaluate(withProc({ tgid: 12, name: 'x' }), { type: 'process_vm_writev', tgid: 12, ret: 8, args: [12] }))).toEqual([]);
  });

  it('shells in containers: nested shell alerts, the entrypoint does not, a tty shell is interactive', () => {
    const exec = (tgid: number, vpid: number, tty = 0): SyntheticEventInit => ({ type: 'execve', tgid, vpid, tty, ret: 0, comm: 'sh', argv: ['sh', '-c', 'id'], exePath: '/bin/busybox' });
    expect(rulesOf(evaluate(withProc({ tgid: 20, ptgid: 19, name: 'sh', vpid: 7, containerId: CTR }), exec(20, 7)))).toEqual(['Shell spawned in container']);
    expect(rulesOf(evaluate(withProc({ tgid: 20, ptgid: 19, name: 'sh', vpid: 1, containerId: CTR }), exec(20, 1)))).toEqual([]);
    expect(rulesOf(evaluate(withProc({ tgid: 20, ptgid: 19, name: 'sh', vpid: 1, tty: 34816, containerId: CTR }), exec(20, 1, 34816)))).toEqual(['Interactive shell in container']);
    expect(rulesOf(evaluate(withProc({ tgid: 20, ptgid: 19, name: 'sh', vpid: 7, containerId: HOST }), exec(20, 7)))).toEqual([]);
  });

  it('control plane egress: outside the cluster networks alerts, inside does not', () => {
    const sock = (ip: string): FdInfo => fdInfo({ num: 5, type: 'ipv4', name: `0.0.0.0:0->${ip}:2380`, l4proto: 'tcp', serverIp: ip, serverPort: 2380, clientIp: '0.0.0.0' });
    const connect = (ip: string): SyntheticEventInit => ({ type: 'connect', tgid: 30, ret: -115, args: [5], sockaddr: { family: 'ipv4', address: ip, port: 2380 } });
    expect(rulesOf(evaluate(withProc({ tgid: 30, name: 'etcd' }, sock('203.0.113.7')), connect('203.0.113.7')))).toEqual(['Control plane component connected outside the cluster']);
    expect(rulesOf(evaluate(withProc({ tgid: 30, name: 'etcd' }, sock('10.96.0.1')), connect('10.96.0.1')))).toEqual([]);
    expect(rulesOf(evaluate(withProc({ tgid: 30, name: 'curl' }, sock('203.0.113.7')), connect('203.0.113.7')))).toEqual([]);
  });

  it('reverse shell: a socket duplicated onto stdout alerts, a file does not', () => {
    const sock = fdInfo({ num: 3, type: 'ipv4', name: '10.0.0.2:40000->10.0.0.9:4444', l4proto: 'tcp', serverIp: '10.0.0.9', serverPort: 4444 });
    const file = fdInfo({ num: 3, type: 'file', name: '/tmp/out' });
    const dup2 = { type: 'dup2', tgid: 40, ret: 1, args: [3, 1] } as SyntheticEventInit;
    expect(rulesOf(evaluate(withProc({ tgid: 40, name: 'bash' }, sock), dup2))).toEqual(['Network socket redirected to standard input or output']);
    expect(rulesOf(evaluate(withProc({ tgid: 40, name: 'bash' }, file), dup2))).toEqual([]);
    expect(rulesOf(evaluate(withProc({ tgid: 40, name: 'bash' }, sock), { ...dup2, ret: 5, args: [3, 5] }))).toEqual([]);
  });

  it('credential reads: untrusted reader alerts, the owner does not', () => {
    const shadow = fdInfo({ num: 3, type: 'file', name: '/etc/shadow' });
    const open = { type: 'openat', tgid: 50, ret: 3, str0: '/etc/shadow', args: [-100, 0, 0, 0] } as SyntheticEventInit;
    expect(rulesOf(evaluate(withProc({ tgid: 50, name: 'cat' }, shadow), open))).toEqual(['Password hashes read by untrusted program']);
    expect(rulesOf(evaluate(withProc({ tgid: 50, name: 'sshd' }, shadow), open))).toEqual([]);
    const token = fdInfo({ num: 3, type: 'file', name: '/run/secrets/kubernetes.io/serviceaccount/..2026_11_22/token' });
    const openTok = { ...open, str0: token.name } as SyntheticEventInit;
    expect(rulesOf(evaluate(withProc({ tgid: 50, name: 'cat', containerId: CTR }, token), openTok))).toEqual(['Service account token read by shell or inspection tool']);
    expect(rulesOf(evaluate(withProc({ tgid: 50, name: 'myapp', containerId: CTR }, token), openTok))).toEqual([]);
  });
});
