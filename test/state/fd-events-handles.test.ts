/**
 * fd table entries from pidfd_open, pidfd_getfd, io_uring_setup and open_by_handle_at: handled
 * when they arrive, never subscribed to by the state engine itself.
 */
import { describe, expect, it } from 'vitest';
import { syntheticEvent, type SyntheticEventInit } from '../../src/probe/synthetic';
import { createStateEngine } from '../../src/state';
import { testStateConfig } from './helpers';

const PID = 3_900_200_000;
const OTHER = 3_900_200_100;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;

function setup() {
  const st = createStateEngine({ config: testStateConfig({ lazy_proc_reads_per_second: 0 }), seed: false });
  const run = (init: SyntheticEventInit) => {
    const ev = syntheticEvent({ tgid: PID, ...init });
    st.beforeRules(ev);
    st.afterRules(ev);
  };
  run({ type: 'execve', comm: 'inject', argv: ['inject'], exePath: '/tmp/inject', cwd: '/tmp' });
  run({ type: 'execve', tgid: OTHER, comm: 'sshd', argv: ['sshd'], exePath: '/usr/sbin/sshd', cwd: '/' });
  return { st, run };
}

describe('fd table: pidfds, io_uring rings and files opened by handle', () => {
  it('names a pidfd after its process and copies the fd pidfd_getfd takes from that process', () => {
    const { st, run } = setup();
    run({ type: 'socket', tgid: OTHER, ret: 5, args: [2, 1, 0] });
    run({ type: 'connect', tgid: OTHER, args: [5], ret: 0, sockaddr: { family: 'ipv4', address: '198.51.100.9', port: 22 } });
    run({ type: 'pidfd_open', ret: 7, args: [OTHER, 0] });
    expect(st.fd(PID, 7)).toMatchObject({ type: 'pidfd', name: `/proc/${OTHER}`, cloexec: true });
    run({ type: 'pidfd_getfd', ret: 8, args: [7, 5, 0] });
    expect(st.fd(PID, 8)).toMatchObject({ num: 8, type: 'ipv4', name: '0.0.0.0:0->198.51.100.9:22', serverPort: 22, cloexec: true });
    // The other process's own entry is untouched.
    expect(st.fd(OTHER, 5)?.num).toBe(5);
  });

  it('gives pidfd_getfd an unknown entry when the pidfd or the target fd is not known', () => {
    const { st, run } = setup();
    run({ type: 'pidfd_getfd', ret: 9, args: [6, 1, 0] });
    expect(st.fd(PID, 9)).toMatchObject({ type: 'unknown', cloexec: true });
    run({ type: 'pidfd_open', ret: 7, args: [OTHER, 0] });
    run({ type: 'pidfd_getfd', ret: 10, args: [7, 42, 0] });
    expect(st.fd(PID, 10)?.type).toBe('unknown');
    // An fd that is not a pidfd does not name a process.
    run({ type: 'openat', ret: 11, args: [-100 >>> 0, 0, 0], str0: '/etc/hosts' });
    run({ type: 'pidfd_getfd', ret: 12, args: [11, 0, 0] });
    expect(st.fd(PID, 12)?.type).toBe('unknown');
  });

  it('adds the ring of io_uring_setup and the file of open_by_handle_at, and nothing for failed calls', () => {
    const { st, run } = setup();
    run({ type: 'io_uring_setup', ret: 4, args: [8, 0] });
    expect(st.fd(PID, 4)).toMatchObject({ type: 'io_uring', cloexec: true });
    run({ type: 'open_by_handle_at', ret: 5, args: [3, 0, O_CLOEXEC], str0: '/etc/shadow' });
    expect(st.fd(PID, 5)).toMatchObject({ type: 'file', name: '/etc/shadow', nameRaw: '/etc/shadow', openFlags: O_CLOEXEC, cloexec: true });
    run({ type: 'open_by_handle_at', ret: 6, args: [3, 0, O_DIRECTORY], str0: '/root' });
    expect(st.fd(PID, 6)?.type).toBe('directory');
    const before = st.stats().fds;
    run({ type: 'io_uring_setup', ret: -1, args: [8, 0] });
    run({ type: 'pidfd_open', ret: -3, args: [1, 0] });
    run({ type: 'open_by_handle_at', ret: -1, args: [3, 0, 0], str0: '' });
    expect(st.stats().fds).toBe(before);
  });

  it('does not subscribe to these calls: only a rule about them makes the kernel ship them', () => {
    const { st } = setup();
    for (const name of ['pidfd_open', 'pidfd_getfd', 'io_uring_setup', 'open_by_handle_at']) expect(st.requiredEventTypes.has(name), name).toBe(false);
  });
});
