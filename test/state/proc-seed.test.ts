import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticEvent } from '../../src/probe/synthetic';
import { createStateEngine } from '../../src/state';
import { testStateConfig } from './helpers';

const children: ChildProcess[] = [];
let workDir = '';

function uptimeNs(): number {
  return Number.parseFloat(readFileSync('/proc/uptime', 'utf8').split(' ')[0]!) * 1e9;
}

/** Polls until `fn` returns a value (the spawned tree needs a moment to exec). */
async function waitFor<T>(fn: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pid of the live process whose cmdline is exactly `argv`. */
function pidOf(argv: readonly string[]): number | undefined {
  const want = `${argv.join('\0')}\0`;
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8') === want) return Number(n);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** Starts `cmd` as the leader of its own process group, so `stop` ends its whole tree. */
function start(cmd: string, args: string[], cwd: string): ChildProcess {
  const c = spawn(cmd, args, { cwd, stdio: 'ignore', detached: true });
  children.push(c);
  return c;
}

function stop(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

beforeAll(() => {
  workDir = realpathSync(mkdtempSync(join(tmpdir(), 'lanner-seed-')));
});

afterAll(() => {
  for (const c of children) stop(c);
  rmSync(workDir, { recursive: true, force: true });
});

describe('seed from /proc', () => {
  it('sees a real process tree with ancestry, argv, cwd, uids and start time', async () => {
    const tag = String(3000 + Math.floor(Math.random() * 900));
    const outer = start('sh', ['-c', `sh -c 'sleep ${tag}1 & sleep ${tag}2; wait'; true`], workDir);
    const leaf = await waitFor(() => pidOf(['sleep', `${tag}1`]), 'leaf sleep');
    const st = createStateEngine({ config: testStateConfig(), seed: true });
    try {
      const p = st.process(leaf)!;
      expect(p).toBeDefined();
      expect(p.name).toBe('sleep');
      expect(p.exe).toBe('sleep');
      expect(p.args).toEqual([`${tag}1`]);
      expect(p.exePath).toBe(realpathSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim()));
      expect(p.cwd).toBe(workDir);
      expect(p.uid).toBe(process.getuid!());
      expect(p.containerId).toBe('host');
      expect(p.vpid).toBe(leaf);
      expect(p.pidNs).toBe(statSync(`/proc/${leaf}/ns/pid`).ino);
      expect(Math.abs(p.startNs - uptimeNs())).toBeLessThan(15e9);
      // leaf sleep → inner sh → outer sh → this test process.
      const inner = st.process(p.ptgid)!;
      expect(inner.name).toBe('sh');
      expect(inner.args).toEqual(['-c', `sleep ${tag}1 & sleep ${tag}2; wait`]);
      expect(inner.ptgid).toBe(outer.pid);
      expect(st.process(outer.pid!)!.ptgid).toBe(process.pid);
      expect(st.process(process.pid)!.exePath).toBe(realpathSync(process.execPath));
      expect(st.process(1)).toBeDefined();
      expect(st.stats().processes).toBeGreaterThan(5);
      expect(st.stats().processMisses).toBe(0);
    } finally {
      await st.close();
      stop(outer);
    }
  });

  it('records the controlling terminal of a process running under a pty', async (ctx) => {
    if (!existsSync('/usr/bin/script')) {
      if (process.env.CI === 'true') throw new Error('cannot run: util-linux script(1) is missing');
      ctx.skip();
    }
    const tag = String(4000 + Math.floor(Math.random() * 900));
    const holder = start('script', ['-qfec', `sleep ${tag}3`, '/dev/null'], workDir);
    const pid = await waitFor(() => pidOf(['sleep', `${tag}3`]), 'sleep under script');
    const st = createStateEngine({ config: testStateConfig(), seed: true });
    try {
      const ttyPath = readlinkSync(`/proc/${pid}/fd/0`);
      expect(ttyPath).toMatch(/^\/dev\/pts\/\d+$/);
      const rdev = statSync(ttyPath).rdev;
      // /proc stat's tty_nr and stat's rdev share the kernel's encoding for small minors.
      expect(st.process(pid)!.tty).toBe(rdev);
      expect(st.process(pid)!.tty).not.toBe(0);
      expect(st.process(process.pid)!.tty).toBe(Number(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[4]));
    } finally {
      await st.close();
      stop(holder);
    }
  });

  it('reads /proc lazily for a live process first seen on an event', async () => {
    const st = createStateEngine({ config: testStateConfig(), seed: false });
    const tag = String(5000 + Math.floor(Math.random() * 900));
    const c = start('sleep', [`${tag}4`], workDir);
    try {
      await waitFor(() => (pidOf(['sleep', `${tag}4`]) === c.pid ? true : undefined), 'sleep exec');
      st.beforeRules(syntheticEvent({ type: 'openat', tgid: c.pid!, ptgid: process.pid, ret: -2, comm: 'sleep', args: [0, 0, 0], str0: '/x' }));
      const p = st.process(c.pid!)!;
      expect(p.args).toEqual([`${tag}4`]);
      expect(p.cwd).toBe(workDir);
      expect(p.exePath).toBe(realpathSync(readlinkSync(`/proc/${c.pid}/exe`)));
      expect(st.stats()).toMatchObject({ processMisses: 1, lazyProcReads: 1 });
    } finally {
      await st.close();
      stop(c);
    }
  });

  it('keeps what /proc showed for a child whose own events came before its parent-side fork report', async () => {
    const st = createStateEngine({ config: testStateConfig(), seed: false });
    const tag = String(6000 + Math.floor(Math.random() * 900));
    const c = start('sleep', [`${tag}5`], workDir);
    try {
      await waitFor(() => (pidOf(['sleep', `${tag}5`]) === c.pid ? true : undefined), 'sleep exec');
      const now = uptimeNs();
      // The child's first event: a miss, read from /proc (it has exec'd sleep already).
      st.beforeRules(syntheticEvent({ type: 'openat', tgid: c.pid!, ptgid: process.pid, ret: -2, comm: 'sleep', args: [0, 0, 0], str0: '/x', tsNs: now }));
      // Then the parent's clone returns: the entry must stay sleep, not become a copy of the parent.
      st.beforeRules(syntheticEvent({ type: 'clone', tgid: process.pid, ptgid: process.ppid, ret: c.pid!, args: [0x1200011], tsNs: now - 1e6 }));
      expect(st.process(c.pid!)).toMatchObject({ name: 'sleep', args: [`${tag}5`] });
      // A seeded process long past its start whose pid a new fork reuses is replaced.
      st.beforeRules(syntheticEvent({ type: 'clone', tgid: process.pid, ptgid: process.ppid, ret: c.pid!, args: [0x1200011], tsNs: now + 30e9 }));
      expect(st.process(c.pid!)!.name).toBe(st.process(process.pid)!.name);
    } finally {
      await st.close();
      stop(c);
    }
  });

  it('heals a seed taken during process churn: after a sweep only live processes remain', async () => {
    const churn = start('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done'], workDir);
    await new Promise((r) => setTimeout(r, 100));
    const st = createStateEngine({ config: testStateConfig(), seed: true });
    try {
      await new Promise<void>((resolve) => {
        if (churn.exitCode !== null) resolve();
        else churn.once('exit', () => resolve());
      });
      st.sweep();
      const live = new Set(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number));
      const s = st.stats();
      expect(s.processes).toBeGreaterThan(5);
      expect(s.processes).toBeLessThanOrEqual(live.size);
      // Nothing the seed caught mid-churn survives the sweep once it has exited.
      expect(st.process(churn.pid!)).toBeUndefined();
    } finally {
      await st.close();
    }
  }, 120_000);
});
