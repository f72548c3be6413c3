import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitNulSeparated } from '../../src/probe/event';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { createStateEngine } from '../../src/state';
import { argsLineOf } from '../../src/state/process-table';
import { testStateConfig } from './helpers';

// Pids far above any real pid_max default so /proc never answers for them.
const BASE = 3_900_000_000;

function engine(over: Parameters<typeof testStateConfig>[0] = {}) {
  // lazy reads off: synthetic pids must come from events only.
  return createStateEngine({ config: testStateConfig({ lazy_proc_reads_per_second: 0, ...over }), seed: false });
}

function run(st: ReturnType<typeof engine>, init: SyntheticEventInit) {
  const ev = syntheticEvent(init);
  st.beforeRules(ev);
  st.afterRules(ev);
}

const SHELL = BASE + 1;

function withShell(st: ReturnType<typeof engine>) {
  run(st, {
    type: 'execve',
    tgid: SHELL,
    ptgid: 1,
    comm: 'bash',
    argv: ['bash', '-l'],
    exePath: '/usr/bin/bash',
    cwd: '/root',
    uid: 0,
    tsNs: 1_000,
    tty: 34816,
    capEffective: 0x1ffffffffffn,
    env: ['HOME=/root', 'TERM=xterm'],
  });
}

describe('process table from events', () => {
  it('records an exec with argv, exe path, cwd, caps, env and tty', () => {
    const st = engine();
    withShell(st);
    const p = st.process(SHELL)!;
    expect(p).toMatchObject({ name: 'bash', exe: 'bash', exePath: '/usr/bin/bash', cwd: '/root', ptgid: 1, tty: 34816 });
    expect(p.args).toEqual(['-l']);
    expect(p.capEffective).toBe(0x1ffffffffffn);
    expect(p.env).toEqual(['HOME=/root', 'TERM=xterm']);
    // An exec for a process never seen start is a miss.
    expect(st.stats().processMisses).toBe(1);
  });

  it('keeps argv and env exact through a fork and a later exec, whole env entries within the byte budget', () => {
    const st = engine({ max_env_bytes: 22 });
    withShell(st);
    const child = SHELL + 50;
    run(st, { type: 'clone', tgid: SHELL, ptgid: 1, ret: child, args: [0x11] });
    // The child inherits what its parent ran, argv and env alike.
    expect(st.process(child)).toMatchObject({ exe: 'bash', args: ['-l'], argsLine: '-l', env: ['HOME=/root', 'TERM=xterm'] });
    // 'A=1\0' + 'LONGER=12345678\0' is 20 of the 22 bytes; 'C=3\0' would pass the budget: left out whole.
    run(st, { type: 'execve', tgid: child, ptgid: SHELL, comm: 'ls', argv: ['ls', '', '-a b'], exePath: '/usr/bin/ls', env: ['A=1', 'LONGER=12345678', 'C=3'] });
    const p = st.process(child)!;
    // proc.args from the unsplit argv area, then the same after a split.
    expect(p.argsLine).toBe(' -a b');
    expect(p.exe).toBe('ls');
    expect(p.args).toEqual(['', '-a b']);
    expect(p.env).toEqual(['A=1', 'LONGER=12345678']);
    // An empty argv names the process by its executable; an exec without env keeps the old one.
    run(st, { type: 'execve', tgid: child, ptgid: SHELL, comm: 'sh', argv: [], exePath: '/bin/sh' });
    expect(st.process(child)).toMatchObject({ exe: '/bin/sh', args: [], argsLine: undefined, env: ['A=1', 'LONGER=12345678'] });
    // The parent was not touched by its child's execs.
    expect(st.process(SHELL)).toMatchObject({ exe: 'bash', args: ['-l'], env: ['HOME=/root', 'TERM=xterm'] });
  });

  it('joins argv[1..] without splitting the argv area, as a split and a join would', () => {
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const pieces = ['', ' ', 'a', '-l', 'x y', 'é', '\u{1F600}', '--opt=1'];
    for (let i = 0; i < 500; i++) {
      const argv = Array.from({ length: rnd(5) }, () => pieces[rnd(pieces.length)]!);
      const text = argv.map((a) => a + '\0').join('');
      const split = splitNulSeparated(text).slice(1);
      const want = split.length > 0 ? split.join(' ') : undefined;
      expect(argsLineOf(text)).toBe(want);
      // An area cut without its final NUL reads the same way.
      const cut = text.endsWith('\0') ? text.slice(0, -1) : text;
      const splitCut = splitNulSeparated(cut).slice(1);
      expect(argsLineOf(cut)).toBe(splitCut.length > 0 ? splitCut.join(' ') : undefined);
    }
  });

  it('keeps session and process group current: setsid, setpgid by the child and by its shell', () => {
    const st = engine();
    withShell(st);
    // A pid that fits the int32 the kernel's pid arguments are read as (and no real pid_max reaches).
    const child = 2_000_000_021;
    run(st, { type: 'clone', tgid: child, ptgid: SHELL, ret: 0 });
    const before = st.process(child)!;
    expect(before.vpgid).toBe(st.process(SHELL)!.vpgid); // inherited at fork
    // The shell puts the job in a group of its own (setpgid(child, child)); the child does too.
    run(st, { type: 'setpgid', tgid: SHELL, ret: 0, args: [child, child] });
    expect(st.process(child)!.vpgid).toBe(child);
    run(st, { type: 'setpgid', tgid: child, ret: 0, args: [0, 0] });
    expect(st.process(child)!.vpgid).toBe(child);
    // A failed call changes nothing; setsid makes a session and group leader.
    run(st, { type: 'setpgid', tgid: child, ret: -1, args: [0, SHELL] });
    expect(st.process(child)!.vpgid).toBe(child);
    run(st, { type: 'setsid', tgid: SHELL, ret: SHELL });
    expect(st.process(SHELL)).toMatchObject({ sid: SHELL, vpgid: SHELL });
  });

  it('creates a forked child once whether parent side, child side or both report it', () => {
    for (const order of [['parent', 'child'], ['child', 'parent'], ['parent'], ['child']] as const) {
      const st = engine();
      withShell(st);
      const child = SHELL + 10;
      for (const side of order) {
        if (side === 'parent') run(st, { type: 'clone', tgid: SHELL, ptgid: 1, ret: child, args: [0x1200011], tsNs: 2_000 });
        else run(st, { type: 'clone', tgid: child, ptgid: SHELL, ret: 0, comm: 'bash', tsNs: 2_001 });
      }
      const c = st.process(child)!;
      expect(c, order.join(',')).toBeDefined();
      expect(c.ptgid).toBe(SHELL);
      expect(c.exePath).toBe('/usr/bin/bash');
      expect(c.cwd).toBe('/root');
      expect(c.args).toEqual(['-l']);
      expect(st.stats().processForks, order.join(',')).toBe(1);
      expect(st.stats().processes).toBe(2);
    }
  });

  it("does not name a child after the reaper it was handed to before its first event", () => {
    const st = engine();
    run(st, { type: 'execve', tgid: 1, ptgid: 0, comm: 'systemd', argv: ['/sbin/init', 'splash'], exePath: '/usr/lib/systemd/systemd', tsNs: 500 });
    withShell(st);
    // conmon's daemonizing fork: the middle process is gone, so the child's header names pid 1.
    const orphan = SHELL + 20;
    run(st, { type: 'clone', tgid: orphan, ptgid: 1, ret: 0, comm: 'conmon', tsNs: 3_000 });
    const o = st.process(orphan)!;
    expect(o.name).toBe('conmon');
    expect(o.exePath).not.toBe('/usr/lib/systemd/systemd');
    expect(o.args).toEqual([]);
    expect(o.ptgid).toBe(1);
    expect(st.stats().processForks).toBe(1);
    // A child of init that init forked itself still inherits its image.
    const own = SHELL + 21;
    run(st, { type: 'clone', tgid: own, ptgid: 1, ret: 0, comm: 'systemd', tsNs: 3_001 });
    expect(st.process(own)!.exePath).toBe('/usr/lib/systemd/systemd');
  });

  it('does not let a late parent-side report undo an exec seen on the child side', () => {
    const st = engine();
    withShell(st);
    const child = SHELL + 11;
    run(st, { type: 'fork', tgid: child, ptgid: SHELL, ret: 0, tsNs: 2_000 });
    run(st, { type: 'execve', tgid: child, ptgid: SHELL, comm: 'cat', argv: ['cat', '/etc/shadow'], exePath: '/usr/bin/cat', tsNs: 2_100 });
    run(st, { type: 'fork', tgid: SHELL, ptgid: 1, ret: child, tsNs: 2_200 });
    expect(st.process(child)).toMatchObject({ name: 'cat', exePath: '/usr/bin/cat', args: ['/etc/shadow'] });
  });

  it("does not re-create a child that exited before its parent's clone returned", () => {
    const st = engine();
    withShell(st);
    // Caller-side reports are arriving (a rule matches clone), so exits are remembered.
    const first = SHELL + 12;
    run(st, { type: 'fork', tgid: SHELL, ptgid: 1, ret: first, tsNs: 1_900 });
    const child = SHELL + 13;
    run(st, { type: 'fork', tgid: child, ptgid: SHELL, ret: 0, tsNs: 2_000 });
    run(st, { type: 'procexit', tgid: child, tsNs: 2_100 });
    run(st, { type: 'fork', tgid: SHELL, ptgid: 1, ret: child, tsNs: 2_200 });
    expect(st.process(child)).toBeUndefined();
    expect(st.stats().processes).toBe(2); // the shell and `first`
  });

  it('ignores thread creation (CLONE_THREAD, clone3 parent side, child thread side)', () => {
    const st = engine();
    withShell(st);
    run(st, { type: 'clone', tgid: SHELL, ret: SHELL + 20, args: [0x10000 | 0x100 | 0x800] });
    run(st, { type: 'clone3', tgid: SHELL, ret: SHELL + 21 });
    run(st, { type: 'clone3', tgid: SHELL, tid: SHELL + 21, ptgid: 1, ret: 0 });
    expect(st.stats().processes).toBe(1);
    expect(st.stats().processForks).toBe(0);
  });

  it('takes clone3 children from the child side only', () => {
    const st = engine();
    withShell(st);
    run(st, { type: 'clone3', tgid: SHELL, ret: SHELL + 30 });
    expect(st.process(SHELL + 30)).toBeUndefined();
    run(st, { type: 'clone3', tgid: SHELL + 30, ptgid: SHELL, ret: 0 });
    expect(st.process(SHELL + 30)?.exePath).toBe('/usr/bin/bash');
  });

  it('leaves a child of a process inside a pid namespace to the child-side event', () => {
    const st = engine();
    withShell(st);
    // The caller sees its child as pid 7 of its namespace; host pid 7 must not be touched.
    run(st, { type: 'fork', tgid: SHELL, vpid: 3, ret: 7 });
    expect(st.process(7)).toBeUndefined();
  });

  it('removes the process after rules ran on its exit, not before', () => {
    const st = engine();
    withShell(st);
    const exit = syntheticEvent({ type: 'procexit', tgid: SHELL });
    st.beforeRules(exit);
    expect(st.process(SHELL)?.name).toBe('bash');
    st.afterRules(exit);
    expect(st.process(SHELL)).toBeUndefined();
    expect(st.stats().processExits).toBe(1);
  });

  it('frees the process when the last thread to leave is not the leader', () => {
    // The probe emits procexit once per thread group, from its last exiting thread (Go programs,
    // e.g. runc and podman, often end on another thread than the leader).
    const st = engine();
    withShell(st);
    run(st, { type: 'procexit', tgid: SHELL, tid: SHELL + 5 });
    expect(st.process(SHELL)).toBeUndefined();
    expect(st.stats().processExits).toBe(1);
  });

  it('follows chdir (absolute and relative), fchdir, setuid and prctl(PR_SET_NAME)', () => {
    const st = engine();
    withShell(st);
    run(st, { type: 'chdir', tgid: SHELL, str0: '/var/log', ret: 0 });
    expect(st.process(SHELL)!.cwd).toBe('/var/log');
    run(st, { type: 'chdir', tgid: SHELL, str0: '../lib/./apt', ret: 0 });
    expect(st.process(SHELL)!.cwd).toBe('/var/lib/apt');
    run(st, { type: 'chdir', tgid: SHELL, str0: '/nope', ret: -2 });
    expect(st.process(SHELL)!.cwd).toBe('/var/lib/apt');
    run(st, { type: 'openat', tgid: SHELL, ret: 5, args: [-100 >>> 0, 0, 0o200000], str0: '/etc' });
    run(st, { type: 'fchdir', tgid: SHELL, args: [5], ret: 0 });
    expect(st.process(SHELL)!.cwd).toBe('/etc');
    run(st, { type: 'setuid', tgid: SHELL, args: [1000], uid: 1000, euid: 1000, ret: 0, capEffective: 0n });
    expect(st.process(SHELL)).toMatchObject({ uid: 1000, euid: 1000, capEffective: 0n });
    run(st, { type: 'prctl', tgid: SHELL, args: [15], comm: 'renamed', ret: 0 });
    expect(st.process(SHELL)!.name).toBe('renamed');
  });

  it('creates a minimal entry from the header for an unknown pid and counts a miss', () => {
    const st = engine();
    run(st, { type: 'unlink', tgid: BASE + 99, ptgid: SHELL, comm: 'rm', uid: 33, vpid: 12, str0: '/tmp/x' });
    const p = st.process(BASE + 99)!;
    expect(p).toMatchObject({ name: 'rm', ptgid: SHELL, uid: 33, vpid: 12, containerId: 'host' });
    expect(st.stats().processMisses).toBe(1);
    run(st, { type: 'unlink', tgid: BASE + 99, str0: '/tmp/y' });
    expect(st.stats().processMisses).toBe(1);
  });

  it('follows reparenting from the event header', () => {
    const st = engine();
    withShell(st);
    run(st, { type: 'fork', tgid: SHELL + 40, ptgid: SHELL, ret: 0 });
    run(st, { type: 'unlink', tgid: SHELL + 40, ptgid: 1 });
    expect(st.process(SHELL + 40)!.ptgid).toBe(1);
  });

  it('does not grow under churn of 10,000 short-lived processes', () => {
    const st = engine();
    withShell(st);
    const before = st.stats();
    let ts = 10_000;
    for (let i = 0; i < 10_000; i++) {
      const child = BASE + 1000 + i;
      const childSideFirst = i % 3 === 0;
      if (childSideFirst) run(st, { type: 'clone', tgid: child, ptgid: SHELL, ret: 0, tsNs: ts++ });
      run(st, { type: 'clone', tgid: SHELL, ptgid: 1, ret: child, args: [0x1200011], tsNs: ts++ });
      if (!childSideFirst && i % 2 === 0) run(st, { type: 'clone', tgid: child, ptgid: SHELL, ret: 0, tsNs: ts++ });
      run(st, { type: 'execve', tgid: child, ptgid: SHELL, comm: 'true', argv: ['true'], exePath: '/usr/bin/true', tsNs: ts++ });
      run(st, { type: 'openat', tgid: child, ret: 3, args: [-100 >>> 0, 0, 0], str0: '/etc/ld.so.cache', tsNs: ts++ });
      run(st, { type: 'procexit', tgid: child, tsNs: ts++ });
      // Every fifth child's parent-side report arrives after the child is gone.
      if (i % 5 === 4) run(st, { type: 'clone', tgid: SHELL, ptgid: 1, ret: child + 500_000, args: [0x1200011], tsNs: ts - 10 });
      if (i % 5 === 4) {
        run(st, { type: 'clone', tgid: child + 500_000, ptgid: SHELL, ret: 0, tsNs: ts++ });
        run(st, { type: 'procexit', tgid: child + 500_000, tsNs: ts++ });
        run(st, { type: 'clone', tgid: SHELL, ptgid: 1, ret: child + 500_000, args: [0x1200011], tsNs: ts++ });
      }
    }
    const after = st.stats();
    expect(after.processes).toBe(before.processes);
    expect(after.fds).toBe(before.fds);
    expect(after.processForks - before.processForks).toBe(12_000);
    expect(after.processExits - before.processExits).toBe(12_000);
    expect(after.processEvictions).toBe(0);
  });

  it('respects the capacity bound, evicting header-only and dead entries before live ones', () => {
    // A fake procfs in which only the shell and its 40 children are alive.
    const procRoot = mkdtempSync(join(tmpdir(), 'lanner-proc-'));
    try {
      mkdirSync(join(procRoot, String(SHELL)));
      for (let i = 0; i < 40; i++) mkdirSync(join(procRoot, String(BASE + 100 + i)));
      const st = engine({ max_processes: 64, proc_root: procRoot });
      // Oldest: 23 processes whose exits were lost (absent from procfs).
      for (let i = 0; i < 23; i++) run(st, { type: 'fork', tgid: BASE + 300 + i, ptgid: SHELL, ret: 0 });
      withShell(st);
      for (let i = 0; i < 40; i++) run(st, { type: 'fork', tgid: BASE + 100 + i, ptgid: SHELL, ret: 0 });
      expect(st.stats().processes).toBe(64);
      // Full: five more forks push out dead entries, never live ones.
      for (let i = 0; i < 5; i++) run(st, { type: 'fork', tgid: BASE + 400 + i, ptgid: SHELL, ret: 0 });
      for (let i = 0; i < 5; i++) expect(st.process(BASE + 300 + i)).toBeUndefined();
      expect(st.process(BASE + 305)).toBeDefined();
      // 200 pids seen only through their headers displace each other first.
      for (let i = 0; i < 200; i++) run(st, { type: 'unlink', tgid: BASE + 5000 + i, ptgid: 1, comm: 'x' });
      const s = st.stats();
      expect(s.processes).toBe(64);
      expect(s.processCapacity).toBe(64);
      expect(s.processEvictions).toBe(5 + 200);
      for (let i = 0; i < 40; i++) expect(st.process(BASE + 100 + i)).toBeDefined();
      expect(st.process(SHELL)).toBeDefined();
      expect(st.process(BASE + 5199)).toBeDefined();
      // The sweep drops everything procfs no longer has.
      expect(st.sweep()).toBe(64 - 41);
      expect(st.stats().processes).toBe(41);
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});

describe('meta events', () => {
  it('creates no process for a drop marker, and sweeps vanished processes after one', () => {
    const procRoot = mkdtempSync(join(tmpdir(), 'lanner-proc-'));
    try {
      mkdirSync(join(procRoot, String(SHELL)));
      const st = engine({ proc_root: procRoot });
      withShell(st);
      run(st, { type: 'fork', tgid: SHELL + 1, ptgid: SHELL, ret: 0 }); // its exit will be lost
      run(st, { type: 'drop', tgid: 0 });
      expect(st.process(0)).toBeUndefined();
      expect(st.process(SHELL + 1)).toBeUndefined();
      expect(st.process(SHELL)).toBeDefined();
      expect(st.stats().processEvictionsExpired).toBe(1);
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});
