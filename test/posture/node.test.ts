/**
 * Lanner's node section (benchmark lanner-node, not CIS) and the corrected CIS file checks: sshd
 * (parsed under a root prefix, and the real `sshd -T`), AppArmor/SELinux from sysfs, the kernel
 * sysctls the kubelet protects, the encryption key file, the audit policy (3.2.1), kubelet units
 * in every systemd directory, and the report/exit status. Each in both directions, and each
 * re-evaluated when the file it reads changes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { statusChangeToAlert } from '../../src/posture/alerts';
import { judgeAuditPolicy } from '../../src/posture/audit-policy';
import { judgeEncryptionKeys } from '../../src/posture/encryption';
import { PostureEngine } from '../../src/posture/evaluator';
import { postureExitCode, renderPostureText, runPostureReport } from '../../src/posture/report';
import type { StatusChange } from '../../src/posture/types';
import { isRoot, postureConfig, put, requireOrSkip, tempRoot } from './helpers';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function root(): string {
  const t = tempRoot();
  cleanups.push(t.cleanup);
  put(t.root, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n', 0o644);
  put(t.root, '/etc/group', 'root:x:0:\n', 0o644);
  return t.root;
}
const node = (r: string, over: Parameters<typeof postureConfig>[1] = {}): PostureEngine => {
  const e = new PostureEngine(postureConfig(r, { node_checks: true, proc_root: r, debounce_ms: 10, ...over }));
  cleanups.push(() => e.close());
  return e;
};
const settle = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('sshd settings parsed from sshd_config and its includes (no sshd -T under a root prefix)', () => {
  it('OpenSSH defaults: passwords and root key logins allowed, so both checks fail', () => {
    const r = root();
    put(r, '/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n');
    const e = node(r);
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining('passwordauthentication yes') });
    expect(e.result('lanner-node', 'L.1.2')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining('permitrootlogin prohibit-password') });
  });

  it('key-only and no root login pass; the first value read wins, includes first; Match blocks do not count', () => {
    const r = root();
    put(r, '/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\nPermitRootLogin yes\nMatch User backup\n  PasswordAuthentication yes\n');
    put(r, '/etc/ssh/sshd_config.d/10-harden.conf', 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin=no\n');
    put(r, '/etc/ssh/sshd_config.d/20-late.conf', 'PermitRootLogin yes\n');
    const e = node(r);
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')?.status).toBe('PASS');
    expect(e.result('lanner-node', 'L.1.2')?.status).toBe('PASS');
  });

  it('ChallengeResponseAuthentication is the old name of KbdInteractiveAuthentication; AuthenticationMethods publickey makes passwords moot', () => {
    const r = root();
    put(r, '/etc/ssh/sshd_config', 'PasswordAuthentication no\nChallengeResponseAuthentication yes\n');
    const e = node(r);
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')?.status).toBe('FAIL');
    put(r, '/etc/ssh/sshd_config', 'AuthenticationMethods publickey,password publickey\n');
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')?.status).toBe('PASS');
  });

  it('a new drop-in in sshd_config.d re-evaluates after the debounce', async () => {
    const r = root();
    put(r, '/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n');
    const e = node(r);
    const changes: StatusChange[] = [];
    e.onStatusChange((c) => changes.push(c));
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.2')?.status).toBe('PASS');
    const drop = put(r, '/etc/ssh/sshd_config.d/00-oops.conf', 'PermitRootLogin yes\n');
    expect(e.isWatchedPath(drop)).toBe(true);
    expect(e.isWatchedPath('/etc/ssh/sshd_config.d/00-oops.conf')).toBe(true);
    expect(e.notePathEvent(drop)).toBe(true);
    await settle(60);
    expect(changes.find((c) => c.id === 'L.1.2' && c.from === 'PASS')).toMatchObject({ to: 'FAIL', benchmark: 'lanner-node' });
  });

  it('no sshd installed: no SSH results', () => {
    const e = node(root());
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')).toBeUndefined();
  });
});

const SSHD = '/usr/sbin/sshd';
const sshdSkip = requireOrSkip(existsSync(SSHD) && isRoot(), 'the real sshd (openssh-server) and root are needed for sshd -T');

describe.skipIf(sshdSkip !== undefined)('sshd -T: the real sshd reports its effective settings', () => {
  function realSshd(config: string): PostureEngine {
    const t = tempRoot('lanner-sshd-');
    cleanups.push(t.cleanup);
    const key = join(t.root, 'hostkey');
    const k = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    if (k.status !== 0) throw new Error(`ssh-keygen failed: ${k.stderr}`);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    put(t.root, '/sshd_config.d/10-x.conf', config);
    const main = put(t.root, '/sshd_config', `HostKey ${key}\nInclude ${t.root}/sshd_config.d/*.conf\n`);
    // Root '/': sshd -T runs on the real file; the paths point into the temp dir.
    const e = new PostureEngine(postureConfig('/', { node_checks: true, paths: { ...postureConfig('/').paths, sshd_config: main } }));
    cleanups.push(() => e.close());
    return e;
  }

  it('hardened settings pass, read by sshd -T', () => {
    const e = realSshd('PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\n');
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')).toMatchObject({ status: 'PASS', actual: expect.stringContaining('(sshd -T)') });
    expect(e.result('lanner-node', 'L.1.2')?.status).toBe('PASS');
    expect(e.result('lanner-node', 'L.1.1')?.note).toBeUndefined();
  });

  it('sshd -T fills in what the files leave out: the defaults fail', () => {
    const e = realSshd('PermitRootLogin without-password\n');
    e.scanAll();
    expect(e.result('lanner-node', 'L.1.1')).toMatchObject({ status: 'FAIL', actual: expect.stringMatching(/passwordauthentication yes.*\(sshd -T\)/) });
    expect(e.result('lanner-node', 'L.1.2')).toMatchObject({ status: 'FAIL', actual: 'permitrootlogin without-password (sshd -T)' });
  });
});

describe('mandatory access control from sysfs', () => {
  it('AppArmor enabled passes, disabled or absent fails; SELinux enforcing passes, permissive fails; re-evaluated on a write to enforce', async () => {
    const r = root();
    mkdirSync(join(r, 'sys/module'), { recursive: true });
    const e = node(r);
    e.scanAll();
    expect(e.result('lanner-node', 'L.2.1')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining('AppArmor not in the kernel') });
    put(r, '/sys/module/apparmor/parameters/enabled', 'Y\n', 0o644);
    e.scanAll();
    expect(e.result('lanner-node', 'L.2.1')?.status).toBe('PASS');
    put(r, '/sys/module/apparmor/parameters/enabled', 'N\n', 0o644);
    const enforce = put(r, '/sys/fs/selinux/enforce', '1', 0o644);
    e.scanAll();
    expect(e.result('lanner-node', 'L.2.1')).toMatchObject({ status: 'PASS', actual: expect.stringContaining('SELinux enforcing') });
    writeFileSync(enforce, '0'); // setenforce 0
    expect(e.notePathEvent(enforce)).toBe(true);
    await settle(60);
    expect(e.result('lanner-node', 'L.2.1')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining('SELinux permissive') });
  });

  it('no visible /sys: no result rather than a guess', () => {
    const e = node(root());
    e.scanAll();
    expect(e.result('lanner-node', 'L.2.1')).toBeUndefined();
  });
});

describe('kernel sysctls the kubelet protects', () => {
  const GOOD: Record<string, string> = { 'vm/overcommit_memory': '1', 'vm/panic_on_oom': '0', 'kernel/panic': '10', 'kernel/panic_on_oops': '1', 'kernel/keys/root_maxkeys': '1000000', 'kernel/keys/root_maxbytes': '25000000' };

  it('judged while a kubelet runs, both ways, and re-evaluated on a write under /proc/sys', async () => {
    const r = root();
    const proc = join(r, 'proc');
    for (const [k, v] of Object.entries(GOOD)) put(proc, `/sys/${k}`, `${v}\n`, 0o644);
    const e = node(r, { proc_root: proc });
    e.evaluateProcess({ exePath: '/usr/bin/kubelet', comm: 'kubelet', argv: ['kubelet', '--protect-kernel-defaults=true'] });
    expect(e.result('lanner-node', 'L.5.1')?.status).toBe('PASS');
    expect(e.result('lanner-node', 'L.5.2')?.status).toBe('PASS');
    expect(e.isWatchedPath('/proc/sys/vm/overcommit_memory')).toBe(true);
    writeFileSync(join(proc, 'sys/vm/overcommit_memory'), '0\n');
    expect(e.notePathEvent(join(proc, 'sys/vm/overcommit_memory'))).toBe(true);
    await settle(60);
    expect(e.result('lanner-node', 'L.5.2')).toMatchObject({ status: 'FAIL', actual: 'vm.overcommit_memory=0 (kubelet expects 1)' });
  });

  it('no kubelet, no sysctl result', () => {
    const e = node(root());
    e.scanAll();
    expect(e.result('lanner-node', 'L.5.2')).toBeUndefined();
  });
});

const KEY32 = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const ZERO32 = Buffer.alloc(32).toString('base64');
const enc = (first: string, key = KEY32): string =>
  `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n${first === 'identity' ? '      - identity: {}\n' : ''}      - ${first === 'identity' ? 'aescbc' : first}:\n          keys:\n            - name: k1\n              secret: ${key}\n      - identity: {}\n`;

describe('the encryption provider config file', () => {
  it('judges keys: real keys pass; identity first, placeholder, wrong size and non-base64 fail', () => {
    expect(judgeEncryptionKeys(enc('aescbc')).passed).toBe(true);
    expect(judgeEncryptionKeys(enc('secretbox')).passed).toBe(true);
    expect(judgeEncryptionKeys(enc('identity'))).toMatchObject({ passed: false, actual: expect.stringContaining('identity is the first provider') });
    expect(judgeEncryptionKeys(enc('aescbc', ZERO32))).toMatchObject({ passed: false, actual: expect.stringContaining('placeholder') });
    expect(judgeEncryptionKeys(enc('secretbox', Buffer.alloc(16, 7).toString('base64')))).toMatchObject({ passed: false });
    expect(judgeEncryptionKeys(enc('aescbc', Buffer.from('0123456789abcdef0123').toString('base64')))).toMatchObject({ passed: false, actual: expect.stringContaining('20 bytes') });
    expect(judgeEncryptionKeys(enc('aescbc', 'not*base64'))).toMatchObject({ passed: false, actual: expect.stringContaining('not base64') });
  });

  it('600 root:root passes, 644 fails after a chmod event; the CIS providers check stays unscored (WARN on failure)', async () => {
    const r = root();
    const file = put(r, '/etc/kubernetes/enc.yaml', enc('aescbc'), 0o600);
    const e = node(r);
    e.evaluateProcess({ exePath: '/usr/bin/kube-apiserver', comm: 'kube-apiserver', argv: ['kube-apiserver', '--encryption-provider-config=/etc/kubernetes/enc.yaml'] });
    expect(e.result('lanner-node', 'L.3.1')).toMatchObject({ status: 'PASS', actual: '/etc/kubernetes/enc.yaml mode 600 owner root:root' });
    expect(e.result('lanner-node', 'L.3.2')?.status).toBe('PASS');
    chmodSync(file, 0o644);
    writeFileSync(file, enc('identity'));
    expect(e.notePathEvent(file)).toBe(true);
    await settle(60);
    expect(e.result('lanner-node', 'L.3.1')?.status).toBe('FAIL');
    expect(e.result('lanner-node', 'L.3.2')?.status).toBe('FAIL');
    expect(e.result('cis-1.12', '1.2.28')?.status).toBe('WARN');
  });
});

describe('3.2.1 audit policy', () => {
  it('judges the policy file', () => {
    expect(judgeAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n').passed).toBe(true);
    expect(judgeAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n')).toMatchObject({ passed: false, actual: expect.stringContaining('no rules') });
    expect(judgeAuditPolicy('apiVersion: v1\nkind: ConfigMap\n').passed).toBe(false);
    expect(judgeAuditPolicy('rules: [unclosed').passed).toBe(false);
  });

  it('WARN without the flag or with a bad file, PASS with a policy; a rewrite of the file re-evaluates', async () => {
    const r = root();
    const e = node(r);
    const api = (args: string[]): void => void e.evaluateProcess({ exePath: '/k', comm: 'kube-apiserver', argv: ['kube-apiserver', ...args] });
    api([]);
    expect(e.result('cis-1.12', '3.2.1')).toMatchObject({ status: 'WARN', actual: '--audit-policy-file not set' });
    const file = put(r, '/etc/kubernetes/audit.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n');
    api(['--audit-policy-file=/etc/kubernetes/audit.yaml']);
    expect(e.result('cis-1.12', '3.2.1')?.status).toBe('PASS');
    writeFileSync(file, 'apiVersion: audit.k8s.io/v1\nkind: Policy\n');
    e.notePathEvent(file);
    await settle(60);
    expect(e.result('cis-1.12', '3.2.1')?.status).toBe('WARN');
  });
});

describe('kubelet unit files in every systemd directory', () => {
  it('a package drop-in under /usr/lib/systemd/system is audited (644 fails), and watched', () => {
    const r = root();
    put(r, '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\n', 0o644);
    put(r, '/lib/systemd/system/kubelet.service', '[Unit]\n', 0o600);
    const e = node(r, { node_checks: false });
    e.scanAll();
    expect(e.result('cis-1.12', '4.1.1')).toMatchObject({ status: 'FAIL', actual: '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf mode 644' });
    expect(e.result('cis-1.12', '4.1.2')?.status).toBe('PASS');
    expect(e.isWatchedPath('/usr/lib/systemd/system/kubelet.service.d/20-extra.conf')).toBe(true);
    expect(e.isWatchedPath('/lib/systemd/system/kubelet.service')).toBe(true);
    chmodSync(join(r, 'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf'), 0o600);
    e.evaluateFile(join(r, 'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf'));
    expect(e.result('cis-1.12', '4.1.1')?.status).toBe('PASS');
    expect(e.result('cis-1.12', '4.1.1')?.actual).toBe('2 files, all compliant');
  });
});

describe('report documents and exit status', () => {
  it('Lanner node results are their own document, never in the CIS totals; the exit code follows any FAIL', () => {
    const r = root();
    put(r, '/etc/ssh/sshd_config', 'PermitRootLogin yes\n');
    put(r, '/etc/kubernetes/admin.conf', 'x', 0o600);
    const report = runPostureReport({ config: postureConfig(r, { node_checks: true, proc_root: r, benchmarks: ['cis-1.12'] }) });
    expect(report.benchmark).toBe('cis-1.12');
    expect(report.Totals).toMatchObject({ total_pass: 2, total_fail: 0 });
    const lanner = report.other_reports.find((d) => d.benchmark === 'lanner-node')!;
    expect(lanner.Controls).toHaveLength(1);
    expect(lanner.Controls[0]).toMatchObject({ id: 'L', node_type: 'lanner', version: 'lanner-node', text: expect.stringContaining('not part of the CIS') });
    expect(lanner.Controls[0]!.tests.map((t) => t.section)).toEqual(['L.1']);
    expect(lanner.Totals.total_fail).toBe(2);
    expect(postureExitCode(report, 3)).toBe(3);
    expect(renderPostureText(report)).toMatch(/== Summary lanner-node: 0 pass, 2 fail/);
    const clean = runPostureReport({ config: postureConfig(r, { node_checks: false, proc_root: r }) });
    expect(postureExitCode(clean, 3)).toBe(0);
  });

  it('alerts of the Lanner section are not tagged cis', () => {
    const change: StatusChange = { benchmark: 'lanner-node', id: 'L.1.2', text: 't', from: null, to: 'FAIL', actual: 'a', expected: 'e', remediation: 'r', scored: true, subject: 's' };
    const a = statusChangeToAlert(change, { hostname: 'h', timeNs: 1n });
    expect(a.tags).not.toContain('cis');
    expect(a.tags).toContain('lanner-node');
  });
});
