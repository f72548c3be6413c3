import { describe, expect, it } from 'vitest';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { createStateEngine } from '../../src/state';
import { testStateConfig } from './helpers';

const PID = 3_900_100_000;
const AT_FDCWD = -100 >>> 0;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;
const SOCK_CLOEXEC = 0o2000000;

function setup(over: Parameters<typeof testStateConfig>[0] = {}) {
  const st = createStateEngine({ config: testStateConfig({ lazy_proc_reads_per_second: 0, ...over }), seed: false });
  const run = (init: SyntheticEventInit) => {
    const ev = syntheticEvent({ tgid: PID, ...init });
    st.beforeRules(ev);
    st.afterRules(ev);
  };
  run({ type: 'execve', comm: 'nc', argv: ['nc', '-e', '/bin/sh'], exePath: '/usr/bin/nc', cwd: '/home/u' });
  return { st, run };
}

describe('fd table from events', () => {
  it('names files absolute, keeps the raw path, and resolves dirfd-relative opens', () => {
    const { st, run } = setup();
    run({ type: 'openat', ret: 3, args: [AT_FDCWD, 0, 0], str0: 'notes.txt' });
    expect(st.fd(PID, 3)).toMatchObject({ type: 'file', name: '/home/u/notes.txt', nameRaw: 'notes.txt', openFlags: 0 });
    run({ type: 'openat', ret: 4, args: [AT_FDCWD, 0, O_DIRECTORY], str0: '/etc' });
    expect(st.fd(PID, 4)?.type).toBe('directory');
    run({ type: 'openat', ret: 5, args: [4, 0, 1], str0: 'shadow' });
    expect(st.fd(PID, 5)?.name).toBe('/etc/shadow');
    run({ type: 'creat', ret: 6, str0: '../x', args: [0, 0o644] });
    expect(st.fd(PID, 6)).toMatchObject({ name: '/home/x', openFlags: 0o1101 });
    run({ type: 'open', ret: -2, str0: '/missing', args: [0, 0] });
    expect(st.stats().fds).toBe(4);
  });

  it('keeps a closed fd visible to the rules on the close, then frees the number for reuse', () => {
    const { st, run } = setup();
    run({ type: 'openat', ret: 3, args: [AT_FDCWD, 0, 0], str0: '/etc/passwd' });
    const close = syntheticEvent({ type: 'close', tgid: PID, args: [3], ret: 0 });
    st.beforeRules(close);
    expect(st.fd(PID, 3)?.name).toBe('/etc/passwd');
    st.afterRules(close);
    expect(st.fd(PID, 3)).toBeUndefined();
    run({ type: 'socket', ret: 3, args: [2, 1, 6] });
    expect(st.fd(PID, 3)).toMatchObject({ type: 'ipv4', l4proto: 'tcp', name: '' });
    expect(st.stats().fds).toBe(1);
  });

  it('names a connected TCP socket and duplicates it onto stdin, stdout and stderr', () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [2, 1, 0] });
    run({ type: 'connect', args: [3], ret: 0, sockaddr: { family: 'ipv4', address: '203.0.113.7', port: 4444 } });
    expect(st.fd(PID, 3)).toMatchObject({ name: '0.0.0.0:0->203.0.113.7:4444', serverIp: '203.0.113.7', serverPort: 4444, connected: true, isServer: false });
    run({ type: 'dup2', args: [3, 0], ret: 0 });
    run({ type: 'dup3', args: [3, 1, 0], ret: 1 });
    run({ type: 'dup', args: [3], ret: 2 });
    for (const n of [0, 1, 2]) expect(st.fd(PID, n)).toMatchObject({ num: n, type: 'ipv4', l4proto: 'tcp', name: '0.0.0.0:0->203.0.113.7:4444' });
    expect(st.stats().fds).toBe(4);
  });

  it("believes the kernel over a stale socket entry: a dup of a fd the kernel says is no socket is not one", () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [2, 1, 0] });
    run({ type: 'connect', args: [3], ret: 0, sockaddr: { family: 'ipv4', address: '127.0.0.1', port: 35993 } });
    // The socket's close was never shipped and a pipe() (not traced) took fd 3: the kernel says so at the dup.
    run({ type: 'dup2', args: [3, 1], ret: 1, dupTargetIsSocket: false });
    expect(st.fd(PID, 1)?.type).toBe('unknown');
    expect(st.fd(PID, 3)?.type).toBe('unknown');
    // A real socket stays one; a record that does not say (older captures) changes nothing.
    run({ type: 'socket', ret: 4, args: [2, 1, 0] });
    run({ type: 'dup2', args: [4, 0], ret: 0, dupTargetIsSocket: true });
    run({ type: 'dup2', args: [4, 2], ret: 2 });
    expect([st.fd(PID, 0)?.type, st.fd(PID, 2)?.type]).toEqual(['ipv4', 'ipv4']);
  });

  it('uses the bound address as the local side, and builds server-side tuples on accept', () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [10, 1, 0] });
    run({ type: 'bind', args: [3], ret: 0, sockaddr: { family: 'ipv6', address: '::1', port: 8080 } });
    expect(st.fd(PID, 3)?.name).toBe('::1:8080');
    run({ type: 'accept4', args: [3, 0, 0, SOCK_CLOEXEC], ret: 4, sockaddr: { family: 'ipv6', address: '::1', port: 51000 } });
    expect(st.fd(PID, 4)).toMatchObject({ type: 'ipv6', name: '::1:51000->::1:8080', isServer: true, connected: true, clientPort: 51000, serverPort: 8080 });
    run({ type: 'socket', ret: 5, args: [2, 2, 0] });
    run({ type: 'bind', args: [5], ret: 0, sockaddr: { family: 'ipv4', address: '10.0.0.5', port: 5353 } });
    run({ type: 'connect', args: [5], ret: 0, sockaddr: { family: 'ipv4', address: '10.0.0.53', port: 53 } });
    expect(st.fd(PID, 5)).toMatchObject({ l4proto: 'udp', name: '10.0.0.5:5353->10.0.0.53:53' });
    run({ type: 'sendto', args: [5], ret: 10, sockaddr: { family: 'ipv4', address: '10.0.0.54', port: 53 } });
    expect(st.fd(PID, 5)?.name).toBe('10.0.0.5:5353->10.0.0.54:53');
  });

  it('records a failed non-blocking connect as connected (EINPROGRESS) and a refused one as not', () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [2, 1 | 0o4000, 0] });
    run({ type: 'connect', args: [3], ret: -115, sockaddr: { family: 'ipv4', address: '198.51.100.1', port: 22 } });
    expect(st.fd(PID, 3)?.connected).toBe(true);
    run({ type: 'socket', ret: 4, args: [2, 1, 0] });
    run({ type: 'connect', args: [4], ret: -111, sockaddr: { family: 'ipv4', address: '198.51.100.1', port: 2222 } });
    expect(st.fd(PID, 4)).toMatchObject({ connected: false, serverPort: 2222 });
  });

  it('types unix sockets, memfd, userfaultfd and bpf fds', () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [1, 1, 0] });
    run({ type: 'connect', args: [3], ret: 0, sockaddr: { family: 'unix', address: '/run/docker.sock', port: 0 } });
    expect(st.fd(PID, 3)).toMatchObject({ type: 'unix', name: '/run/docker.sock', l4proto: '' });
    run({ type: 'memfd_create', ret: 4, str0: 'payload', args: [0, 1] });
    expect(st.fd(PID, 4)).toMatchObject({ type: 'memfd', name: 'memfd:payload' });
    run({ type: 'userfaultfd', ret: 5, args: [0] });
    expect(st.fd(PID, 5)?.type).toBe('userfaultfd');
    run({ type: 'bpf', ret: 6, args: [5] });
    expect(st.fd(PID, 6)?.type).toBe('bpf');
    run({ type: 'bpf', ret: 0, args: [2] });
    expect(st.fd(PID, 0)).toBeUndefined();
    run({ type: 'socket', ret: 7, args: [2, 3, 1] });
    expect(st.fd(PID, 7)?.l4proto).toBe('icmp');
    run({ type: 'socket', ret: 8, args: [17, 3, 0] });
    expect(st.fd(PID, 8)?.type).toBe('unknown');
  });

  it('drops close-on-exec fds at exec and keeps the rest', () => {
    const { st, run } = setup();
    run({ type: 'openat', ret: 3, args: [AT_FDCWD, 0, O_CLOEXEC], str0: '/a' });
    run({ type: 'openat', ret: 4, args: [AT_FDCWD, 0, 0], str0: '/b' });
    run({ type: 'socket', ret: 5, args: [2, 1 | SOCK_CLOEXEC, 0] });
    run({ type: 'fcntl', args: [4, 1030], ret: 6 }); // F_DUPFD_CLOEXEC
    run({ type: 'openat', ret: 7, args: [AT_FDCWD, 0, 0], str0: '/c' });
    run({ type: 'fcntl', args: [7, 2, 1], ret: 0 }); // F_SETFD FD_CLOEXEC
    run({ type: 'dup3', args: [4, 8, O_CLOEXEC], ret: 8 });
    run({ type: 'execve', comm: 'sh', argv: ['sh'], exePath: '/bin/sh' });
    expect([3, 4, 5, 6, 7, 8].filter((n) => st.fd(PID, n) !== undefined)).toEqual([4]);
    expect(st.stats().fds).toBe(1);
  });

  it('copies the fd table to a forked child, independently afterwards', () => {
    const { st, run } = setup();
    run({ type: 'socket', ret: 3, args: [2, 1, 0] });
    run({ type: 'connect', args: [3], ret: 0, sockaddr: { family: 'ipv4', address: '192.0.2.1', port: 443 } });
    const child = PID + 1;
    run({ type: 'fork', tgid: child, ptgid: PID, ret: 0 });
    expect(st.fd(child, 3)?.name).toBe('0.0.0.0:0->192.0.2.1:443');
    run({ type: 'close', tgid: child, args: [3], ret: 0 });
    expect(st.fd(child, 3)).toBeUndefined();
    expect(st.fd(PID, 3)).toBeDefined();
    run({ type: 'procexit', tgid: child });
    expect(st.stats().fds).toBe(1);
  });

  it("keeps a fork's table and its parent's apart in every direction (shared until one changes)", () => {
    const { st, run } = setup();
    run({ type: 'openat', ret: 3, args: [AT_FDCWD, 0, 0], str0: '/a' });
    run({ type: 'openat', ret: 4, args: [AT_FDCWD, 0, 0], str0: '/b' });
    const child = PID + 1;
    const grandchild = PID + 2;
    run({ type: 'fork', tgid: child, ptgid: PID, ret: 0 });
    run({ type: 'fork', tgid: grandchild, ptgid: child, ret: 0 });
    // The parent changes first: neither descendant sees it.
    run({ type: 'openat', ret: 5, args: [AT_FDCWD, 0, 0], str0: '/parent-only' });
    run({ type: 'close', args: [3], ret: 0 });
    expect(st.fd(child, 5)).toBeUndefined();
    expect(st.fd(child, 3)?.name).toBe('/a');
    expect(st.fd(grandchild, 3)?.name).toBe('/a');
    // Then the child: the grandchild and the parent keep theirs.
    run({ type: 'close', tgid: child, args: [4], ret: 0 });
    expect(st.fd(child, 4)).toBeUndefined();
    expect(st.fd(grandchild, 4)?.name).toBe('/b');
    expect(st.fd(PID, 4)?.name).toBe('/b');
    // Close-on-exec is per table: set in the child, it does not drop the parent's fd at exec.
    run({ type: 'fcntl', tgid: grandchild, args: [3, 2, 1], ret: 0 }); // F_SETFD FD_CLOEXEC
    run({ type: 'execve', tgid: grandchild, comm: 'true', argv: ['true'], exePath: '/bin/true' });
    expect(st.fd(grandchild, 3)).toBeUndefined();
    expect(st.fd(grandchild, 4)?.name).toBe('/b');
    run({ type: 'execve', tgid: child, comm: 'true', argv: ['true'], exePath: '/bin/true' });
    expect(st.fd(child, 3)?.name).toBe('/a');
    // parent: 4, 5; child: 3; grandchild: 4.
    expect(st.stats().fds).toBe(4);
  });

  it('bounds each process table and counts evictions', () => {
    const { st, run } = setup({ max_fds_per_process: 16 });
    for (let fd = 3; fd < 103; fd++) run({ type: 'openat', ret: fd, args: [AT_FDCWD, 0, 0], str0: `/f${fd}` });
    const s = st.stats();
    expect(s.fds).toBe(16);
    expect(s.fdEvictions).toBe(100 - 16);
    expect(st.fd(PID, 102)?.name).toBe('/f102');
    expect(st.fd(PID, 3)).toBeUndefined();
  });

  it('creates an entry for a socket opened before we started when it connects', () => {
    const { st, run } = setup();
    run({ type: 'connect', args: [9], ret: 0, sockaddr: { family: 'ipv4', address: '192.0.2.9', port: 80 } });
    expect(st.fd(PID, 9)).toMatchObject({ type: 'ipv4', l4proto: 'tcp', name: '0.0.0.0:0->192.0.2.9:80' });
  });
});
