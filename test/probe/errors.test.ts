import { spawnSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { ADDON_PATH } from '../../src/probe/native';
import { kernelIt } from './support';

describe('probe load errors', () => {
  kernelIt('without CAP_BPF/CAP_PERFMON the addon refuses with EPERM and says why', () => {
    const script = `const a = require(${JSON.stringify(ADDON_PATH)});
      try { new a.Probe({}); console.log(JSON.stringify({ opened: true })); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync('setpriv', ['--bounding-set=-bpf,-perfmon,-sys_admin', '--inh-caps=-bpf,-perfmon,-sys_admin', process.execPath, '-e', script], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { code?: string; message?: string; opened?: boolean };
    expect(out.opened).toBeUndefined();
    expect(out.code).toBe('EPERM');
    expect(out.message).toMatch(/CAP_BPF and CAP_PERFMON/);
  });

  kernelIt('without kernel BTF the addon refuses with ENOBTF', () => {
    const script = `const a = require(${JSON.stringify(ADDON_PATH)});
      try { new a.Probe({}); console.log(JSON.stringify({ opened: true })); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    // A private mount namespace with an empty tmpfs over /sys/kernel/btf hides vmlinux from the child only.
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /sys/kernel/btf && exec "$0" -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { code?: string; message?: string; opened?: boolean };
    expect(out.code).toBe('ENOBTF');
    expect(out.message).toMatch(/BTF/);
  });
});
