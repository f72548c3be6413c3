/**
 * Fields over the chown family, executable-memory calls and the other calls added for node
 * detection: parameters by libsinsp's names and renderings (`evt.arg.uid`, `evt.arg.prot contains
 * PROT_EXEC`), `fs.path.*` for ownership changes, and `evt.category`.
 */
import { describe, expect, it } from 'vitest';
import type { SyntheticEventInit } from '../../src/probe/synthetic';
import { syntheticEvent } from '../../src/probe/synthetic';
import { ExtractContext } from '../../src/rules/context';
import { findField } from '../../src/rules/fields';
import { FakeState, fdInfo } from './fake-state';
import { evalCond } from './helpers';

const TGID = 4242;
const UNCHANGED = 0xffffffff; // (uid_t)-1

function extract(name: string, init: SyntheticEventInit, state = new FakeState()): unknown {
  const f = findField(name)!;
  const get = f.make(undefined) as (c: ExtractContext) => unknown;
  const ctx = new ExtractContext(state, 1, 1, 0n, 'node-1');
  ctx.reset(syntheticEvent({ tgid: TGID, ...init }));
  return get(ctx);
}

describe('chown family fields', () => {
  const chown: SyntheticEventInit = { type: 'chown', tgid: TGID, ret: 0, args: [0, 1234, UNCHANGED], str0: '/etc/kubernetes/pki/../admin.conf' };

  it('names uid and gid as libsinsp does: plain numbers, -1 as its unsigned value', () => {
    expect(evalCond('evt.type = chown and evt.arg.uid = 1234 and evt.rawarg.uid = 1234', chown)).toBe(true);
    expect(evalCond(`evt.rawarg.gid = ${UNCHANGED} and evt.arg.gid = "${UNCHANGED}"`, chown)).toBe(true);
    expect(evalCond('evt.arg.path = /etc/kubernetes/admin.conf', chown)).toBe(true);
    expect(evalCond('evt.args contains "uid=1234"', chown)).toBe(true);
  });

  it('gives fs.path.name for chown, lchown and fchownat, resolved, and the raw path as passed', () => {
    expect(extract('fs.path.name', chown)).toBe('/etc/kubernetes/admin.conf');
    expect(extract('fs.path.nameraw', chown)).toBe('/etc/kubernetes/pki/../admin.conf');
    expect(extract('fs.path.name', { ...chown, type: 'lchown' })).toBe('/etc/kubernetes/admin.conf');
    const at: SyntheticEventInit = { type: 'fchownat', ret: 0, args: [5, 0, 0, 0, 0x1000], str0: '/var/lib/etcd' };
    expect(extract('fs.path.name', at)).toBe('/var/lib/etcd');
    expect(evalCond('evt.arg.flags contains AT_EMPTY_PATH and evt.arg.pathname = /var/lib/etcd', at)).toBe(true);
    // Not for other calls with a str0.
    expect(extract('fs.path.source', chown)).toBeUndefined();
  });

  it("gives fchown the path the kernel walked from its fd, or else the fd's name; no raw path", () => {
    expect(extract('fs.path.name', { type: 'fchown', ret: 0, args: [3, 0, 0], str0: '/etc/shadow' })).toBe('/etc/shadow');
    expect(extract('fs.path.nameraw', { type: 'fchown', ret: 0, args: [3, 0, 0], str0: '/etc/shadow' })).toBeUndefined();
    const state = new FakeState().addFd(TGID, fdInfo({ num: 3, type: 'file', name: '/etc/gshadow', nameRaw: 'gshadow' }));
    expect(extract('fs.path.name', { type: 'fchown', ret: 0, args: [3, 0, 0] }, state)).toBe('/etc/gshadow');
    expect(evalCond('evt.arg.fd = "3(<f>/etc/gshadow)"', { type: 'fchown', tgid: TGID, ret: 0, args: [3, 0, 0] }, state)).toBe(true);
  });
});

describe('executable memory fields', () => {
  const mprotect: SyntheticEventInit = { type: 'mprotect', ret: 0, args: [0x7f0000001000, 4096, 5] };
  const mmap: SyntheticEventInit = { type: 'mmap', ret: 0x7f0000002000, args: [0, 8192, 7, 0x22, -1, 0] };

  it('renders prot and mmap flags symbolically, addresses in hex', () => {
    expect(evalCond('evt.arg.prot contains PROT_EXEC and evt.arg.prot = "PROT_READ|PROT_EXEC"', mprotect)).toBe(true);
    expect(evalCond('evt.arg.prot contains PROT_WRITE', mprotect)).toBe(false);
    expect(evalCond('evt.arg.addr = 0x7f0000001000 and evt.rawarg.length = 4096', mprotect)).toBe(true);
    expect(evalCond('evt.arg.prot = "PROT_READ|PROT_WRITE|PROT_EXEC" and evt.arg.flags = "MAP_PRIVATE|MAP_ANONYMOUS"', mmap)).toBe(true);
    expect(evalCond('evt.rawarg.fd = -1 and evt.rawarg.prot = 7', mmap)).toBe(true);
    expect(evalCond('evt.arg.prot = PROT_NONE', { ...mprotect, args: [0, 4096, 0] })).toBe(true);
  });

  it('files them under memory', () => {
    expect(evalCond('evt.category = memory', mprotect)).toBe(true);
    expect(evalCond('evt.category = memory', mmap)).toBe(true);
  });
});

describe('process, kernel and io_uring call fields', () => {
  it('names the parameters of pidfds, keys, kexec, the mount API and io_uring', () => {
    expect(evalCond('evt.type = pidfd_open and evt.arg.pid = 1 and evt.category = process', { type: 'pidfd_open', ret: 3, args: [1, 0] })).toBe(true);
    expect(evalCond('evt.rawarg.pid_fd = 3 and evt.rawarg.target_fd = 4', { type: 'pidfd_getfd', ret: 5, args: [3, 4, 0] })).toBe(true);
    expect(evalCond('evt.arg.operation = KEYCTL_JOIN_SESSION_KEYRING', { type: 'keyctl', ret: 1, args: [1, 0, 0, 0, 0] })).toBe(true);
    expect(evalCond('evt.arg.cmdline = "console=ttyS0" and evt.rawarg.kernel_fd = 3', { type: 'kexec_file_load', ret: -1, args: [3, -1, 14, 0, 0], str0: 'console=ttyS0' })).toBe(true);
    expect(evalCond('evt.arg.fs_name = overlay', { type: 'fsopen', ret: 3, args: [0, 1], str0: 'overlay' })).toBe(true);
    expect(evalCond('evt.arg.to_pathname = /etc and evt.arg.from_pathname = ""', { type: 'move_mount', ret: 0, args: [4, 0, -100, 0, 4], str0: '', str1: '/etc' })).toBe(true);
    expect(evalCond('evt.arg.path = /etc/shadow and evt.rawarg.mountfd = 3', { type: 'open_by_handle_at', ret: 5, args: [3, 0, 0], str0: '/etc/shadow' })).toBe(true);
    const setup: SyntheticEventInit = { type: 'io_uring_setup', ret: 3, args: [8, 0, 0, 8, 16, 0x3fff] };
    expect(evalCond('evt.rawarg.entries = 8 and evt.rawarg.sq_entries = 8 and evt.rawarg.cq_entries = 16 and evt.arg.features = 0x3fff', setup)).toBe(true);
    expect(evalCond('evt.rawarg.to_submit = 2 and evt.rawarg.min_complete = 1', { type: 'io_uring_enter', ret: 2, args: [3, 2, 1, 1, 0, 0] })).toBe(true);
  });
});
