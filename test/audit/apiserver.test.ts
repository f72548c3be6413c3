/** Finding the audit log from the running kube-apiserver's --audit-log-path. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findApiserverAuditLog, flagValue } from '../../src/audit/apiserver';
import { tempDir } from './helpers';

function fakeProc(processes: Record<string, { comm: string; argv: string[] }>): string {
  const root = join(tempDir('lanner-proc-'), 'proc');
  for (const [pid, p] of Object.entries(processes)) {
    mkdirSync(join(root, pid), { recursive: true });
    writeFileSync(join(root, pid, 'comm'), p.comm + '\n');
    writeFileSync(join(root, pid, 'cmdline'), p.argv.join('\0') + '\0');
  }
  return root;
}

describe('kube-apiserver audit log discovery', () => {
  it('reads --audit-log-path in both flag forms, the last one winning', () => {
    expect(flagValue(['kube-apiserver', '--audit-log-path=/a', '--v=2'], 'audit-log-path')).toBe('/a');
    expect(flagValue(['kube-apiserver', '--audit-log-path', '/b'], 'audit-log-path')).toBe('/b');
    expect(flagValue(['kube-apiserver', '--audit-log-path=/a', '--audit-log-path=/c'], 'audit-log-path')).toBe('/c');
    expect(flagValue(['kube-apiserver', '--audit-log-maxage=30'], 'audit-log-path')).toBeUndefined();
  });

  it('finds the API server among the processes; a host-visible directory is used as is', () => {
    const dir = tempDir();
    const log = join(dir, 'audit.log');
    const proc = fakeProc({ '10': { comm: 'kubelet', argv: ['/usr/bin/kubelet'] }, '42': { comm: 'kube-apiserver', argv: ['kube-apiserver', '--advertise-address=10.0.0.1', `--audit-log-path=${log}`] } });
    expect(findApiserverAuditLog(proc)).toEqual({ pid: 42, flagValue: log, path: log });
  });

  it('reaches a path only the API server sees through its root', () => {
    const proc = fakeProc({ '42': { comm: 'kube-apiserver', argv: ['kube-apiserver', '--audit-log-path=/var/log/only-inside/audit.log'] } });
    mkdirSync(join(proc, '42', 'root', 'var', 'log', 'only-inside'), { recursive: true });
    expect(findApiserverAuditLog(proc)?.path).toBe(join(proc, '42', 'root', 'var', 'log', 'only-inside', 'audit.log'));
  });

  it('nothing when no API server runs, it logs to stdout (-) or has no audit log', () => {
    expect(findApiserverAuditLog(fakeProc({ '1': { comm: 'systemd', argv: ['/sbin/init'] } }))).toBeUndefined();
    expect(findApiserverAuditLog(fakeProc({ '7': { comm: 'kube-apiserver', argv: ['kube-apiserver', '--audit-log-path=-'] } }))).toBeUndefined();
    expect(findApiserverAuditLog(fakeProc({ '7': { comm: 'kube-apiserver', argv: ['kube-apiserver'] } }))).toBeUndefined();
  });
});
