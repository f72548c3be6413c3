/**
 * Proves that the DaemonSet's capability set is applied by the harness and is enough for what the
 * agent does, while each capability left out breaks the step it is there for.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCapMask, deployCapsUnavailable, deployPrivileges, runWithDeployCaps, setprivArgs } from './caps-harness';
import { REPO_ROOT, kubectlUnavailable } from './render';

const unavailable = deployCapsUnavailable() ?? kubectlUnavailable();
if (unavailable && process.env.CI !== 'true') console.warn(`skipping capability tests: ${unavailable}`);
const describeCaps = describe.skipIf(unavailable !== undefined && process.env.CI !== 'true');

function status(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => l.split(':\t').map((s) => s.trim()) as [string, string]));
}

describe('setprivArgs', () => {
  it('maps the manifest to setpriv options', () => {
    const priv = { capabilities: ['BPF', 'SYS_PTRACE'], uid: 0, gid: 0, noNewPrivs: true };
    expect(setprivArgs(priv)).toEqual(['--bounding-set', '-all,+bpf,+sys_ptrace', '--inh-caps', '-all', '--reuid', '0', '--regid', '0', '--clear-groups', '--no-new-privs']);
    expect(setprivArgs(priv, { asUid: 1000, without: ['CAP_BPF'] })).toEqual([
      '--bounding-set', '-all,+sys_ptrace', '--inh-caps', '-all,+sys_ptrace', '--ambient-caps', '-all,+sys_ptrace', '--reuid', '1000', '--regid', '1000', '--clear-groups', '--no-new-privs',
    ]);
  });
});

describeCaps('the DaemonSet capability set', () => {
  beforeAll(() => {
    if (unavailable) throw new Error(`CI=true and capability tests cannot run: ${unavailable}`);
  });
  const priv = unavailable ? { capabilities: [], uid: 0, gid: 0, noNewPrivs: true } : deployPrivileges();
  const expected = [...priv.capabilities].sort();

  it('is read from the rendered manifest', () => {
    expect(expected).toEqual(['BPF', 'DAC_READ_SEARCH', 'PERFMON', 'SYS_PTRACE']);
    expect(priv).toMatchObject({ uid: 0, gid: 0, noNewPrivs: true });
  });

  it('is exactly what a process run by the harness holds (as the manifest uid 0)', () => {
    const r = runWithDeployCaps('/bin/grep', ['-E', '^(Uid|Gid|Cap|NoNewPrivs)', '/proc/self/status']);
    expect(r.status, r.stderr).toBe(0);
    const s = status(r.stdout);
    expect(s.Uid!.split(/\s+/)[0]).toBe('0');
    expect(decodeCapMask(s.CapEff!)).toEqual(expected);
    expect(decodeCapMask(s.CapPrm!)).toEqual(expected);
    expect(decodeCapMask(s.CapBnd!)).toEqual(expected);
    expect(decodeCapMask(s.CapAmb!)).toEqual([]);
    expect(decodeCapMask(s.CapInh!)).toEqual([]);
    expect(s.NoNewPrivs).toBe('1');
  });

  it('can be held by a non-root uid as ambient capabilities', () => {
    const r = runWithDeployCaps('/bin/grep', ['-E', '^(Uid|CapEff|CapAmb)', '/proc/self/status'], { asUid: 65532 });
    expect(r.status, r.stderr).toBe(0);
    const s = status(r.stdout);
    expect(s.Uid!.split(/\s+/)[0]).toBe('65532');
    expect(decodeCapMask(s.CapEff!)).toEqual(expected);
    expect(decodeCapMask(s.CapAmb!)).toEqual(expected);
  });

  describe('loading and attaching a tracing BPF program', () => {
    let dir = '';
    let loader = '';
    let object = '';
    const buildError: string[] = [];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lanner-caps-'));
      loader = join(dir, 'bpf-loader');
      object = join(dir, 'count.bpf.o');
      const fixtures = join(REPO_ROOT, 'test', 'deploy', 'fixtures');
      const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
      try {
        execFileSync('clang', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', join(fixtures, 'count.bpf.c'), '-o', object], { stdio: 'pipe' });
        execFileSync('cc', ['-O2', join(fixtures, 'bpf-loader.c'), '-o', loader, '-lbpf', '-lelf', '-lz'], { stdio: 'pipe' });
      } catch (err) {
        buildError.push(String((err as { stderr?: Buffer }).stderr ?? err));
      }
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const load = (opts: Parameters<typeof runWithDeployCaps>[2] = {}) => {
      if (buildError.length) throw new Error(`cannot build the BPF fixture (clang, libbpf-dev): ${buildError[0]}`);
      return runWithDeployCaps(loader, [object], opts, priv);
    };

    it('works with the set (CAP_BPF + CAP_PERFMON, no CAP_SYS_ADMIN or CAP_SYS_RESOURCE)', () => {
      const r = load();
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/attached, sys_enter hits=[1-9]/);
    });

    it('works for a non-root uid holding the set as ambient capabilities', () => {
      const r = load({ asUid: 65532 });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    });

    it.each([['PERFMON'], ['BPF']])('fails to load without CAP_%s', (cap) => {
      const r = load({ without: [cap] });
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/load: Operation not permitted/);
    });
  });

  describe('the real probe addon (build/Release/lanner.node)', () => {
    const addon = join(REPO_ROOT, 'build', 'Release', 'lanner.node');
    const script = join(REPO_ROOT, 'test', 'deploy', 'fixtures', 'addon-attach.js');
    const missing = existsSync(addon) ? undefined : `${addon} is not built (npm run build:native)`;
    if (missing && process.env.CI !== 'true') console.warn(`skipping addon capability test: ${missing}`);
    const attach = (opts: Parameters<typeof runWithDeployCaps>[2] = {}) => {
      if (missing) throw new Error(`CI=true and ${missing}`);
      return runWithDeployCaps(process.execPath, [script, addon], opts, priv);
    };

    it.skipIf(missing !== undefined && process.env.CI !== 'true')('attaches and delivers events with exactly the set', () => {
      const r = attach();
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout) as { drained: number; seen: number };
      expect(out.drained).toBeGreaterThan(0);
    });

    it.skipIf(missing !== undefined && process.env.CI !== 'true')('refuses to attach without CAP_PERFMON', () => {
      const r = attach({ without: ['PERFMON'] });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/EPERM|not permitted|CAP_PERFMON/);
    });
  });

  describe('reading other processes and other users\' files', () => {
    let dir = '';
    let target: ReturnType<typeof spawn> | undefined;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lanner-caps-'));
      chmodSync(dir, 0o755);
      // A posture-style file: owned by another user, in a directory only that user may search.
      mkdirSync(join(dir, 'etcd'));
      writeFileSync(join(dir, 'etcd', 'member'), 'data\n');
      chownSync(join(dir, 'etcd'), 12345, 12345);
      chownSync(join(dir, 'etcd', 'member'), 12345, 12345);
      chmodSync(join(dir, 'etcd'), 0o700);
      chmodSync(join(dir, 'etcd', 'member'), 0o600);
      // A process of another user whose exe/cwd the agent must resolve.
      target = spawn('/usr/bin/setpriv', ['--reuid', '12345', '--regid', '12345', '--clear-groups', '/bin/sleep', '30'], { cwd: dir, stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 200));
    });
    afterAll(() => {
      target?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    const readlinkExe = (opts: Parameters<typeof runWithDeployCaps>[2] = {}) => runWithDeployCaps('/bin/readlink', [`/proc/${target!.pid}/exe`, `/proc/${target!.pid}/cwd`], opts, priv);

    it('resolves another user\'s /proc/<pid>/exe and cwd with CAP_SYS_PTRACE, not without', () => {
      expect(existsSync(`/proc/${target!.pid}`)).toBe(true);
      const ok = readlinkExe();
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout.split('\n')[0]).toMatch(/\/sleep$/);
      expect(readlinkExe({ without: ['SYS_PTRACE'] }).status).not.toBe(0);
    });

    it('reads a file in another user\'s 0700 directory with CAP_DAC_READ_SEARCH, not without', () => {
      const file = join(dir, 'etcd', 'member');
      const ok = runWithDeployCaps('/bin/cat', [file], {}, priv);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('data\n');
      const denied = runWithDeployCaps('/bin/cat', [file], { without: ['DAC_READ_SEARCH'] }, priv);
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toMatch(/Permission denied/);
    });

    it('cannot write that file: the set grants no DAC_OVERRIDE or FOWNER', () => {
      const r = runWithDeployCaps('/bin/sh', ['-c', `echo x >> ${join(dir, 'etcd', 'member')}`], {}, priv);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
    });
  });
});
