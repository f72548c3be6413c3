/**
 * File descriptor events: the entries open, dup, fcntl, socket, connect, accept, bind, sendto,
 * memfd_create, userfaultfd, bpf, pidfd_open, pidfd_getfd, io_uring_setup, open_by_handle_at and
 * close add, change or remove in a process's fd table. Each
 * handler is given a successful call (the dispatcher tests the return value) and the engine's fd
 * counters; none keeps state of its own.
 */
import type { EventView } from '../probe/event';
import { argIndex, argIndexOf, eventTypeByName } from '../probe/event-types';
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_UNIX,
  BPF_FD_COMMANDS,
  CREAT_FLAGS,
  EINPROGRESS,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_SETFD,
  FD_CLOEXEC,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  MFD_CLOEXEC,
  O_CLOEXEC,
  O_DIRECTORY,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  SOCK_TYPE_MASK,
} from '../probe/linux';
import { atBase, type FdCounters, FdEntry, resolvePath, unspecifiedAddress } from './fd-table';
import type { ProcessEntry } from './process-table';
import type { FdType } from './types';

const OPEN_FLAGS_ARG = argIndexOf('flags');
const DIRFD_ARG = argIndexOf('dirfd');
const T_DUP3 = eventTypeByName('dup3')!.id;
const T_ACCEPT4 = eventTypeByName('accept4')!.id;
// Argument positions, from the event type table.
const DUP_OLDFD = argIndex('dup', 'oldfd');
const DUP3_FLAGS = argIndex('dup3', 'flags');
const FCNTL_FD = argIndex('fcntl', 'fd');
const FCNTL_CMD = argIndex('fcntl', 'cmd');
/** fcntl's third argument (F_SETFD's flags): not a parameter Falco reports, so not in the table. */
const FCNTL_ARG = 2;
const CLOSE_FD = argIndex('close', 'fd');
const SOCKET_DOMAIN = argIndex('socket', 'domain');
const SOCKET_TYPE = argIndex('socket', 'type');
const SOCKET_PROTO = argIndex('socket', 'proto');
const CONNECT_FD = argIndex('connect', 'fd');
/** accept's listening socket: Falco reports only the new fd and the tuple. */
const ACCEPT_LISTENER = 0;
const ACCEPT4_FLAGS = argIndex('accept4', 'flags');
const BIND_FD = argIndex('bind', 'fd');
const SENDTO_FD = argIndex('sendto', 'fd');
const MEMFD_FLAGS = argIndex('memfd_create', 'flags');
const USERFAULTFD_FLAGS = argIndex('userfaultfd', 'flags');
const BPF_CMD = argIndex('bpf', 'cmd');
const PIDFD_OPEN_PID = argIndex('pidfd_open', 'pid');
const PIDFD_GETFD_PIDFD = argIndex('pidfd_getfd', 'pid_fd');
const PIDFD_GETFD_TARGET = argIndex('pidfd_getfd', 'target_fd');
const OPEN_BY_HANDLE_FLAGS = argIndex('open_by_handle_at', 'flags');

/** open/openat/openat2/creat: a file or directory entry under the resolved path. */
export function onOpen(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const t = ev.typeId;
  // creat has no flags argument: it is open with CREAT_FLAGS. open and creat have no dirfd.
  const fi = OPEN_FLAGS_ARG[t]!;
  const flags = fi >= 0 ? ev.rawArg(fi) : CREAT_FLAGS;
  // The name is normalised and absolute; the raw name keeps what the probe captured ('..' and all).
  const path = ev.str(0) ?? '';
  const raw = ev.strRaw(0) ?? path;
  // The kernel found the file among the paths the rules name (a symlink, hard link or
  // /proc/<pid>/root reached it): the fd is named by that path, as the rules know it.
  const alias = ev.strRaw(1);
  let name = alias ?? path;
  if (alias === undefined && path !== '' && !path.startsWith('/')) {
    const di = DIRFD_ARG[t]!;
    const base = di < 0 ? p.cwd || undefined : atBase(ev.rawArg(di), p.cwd, p.fds);
    if (base !== undefined) name = resolvePath(base, path);
  }
  p.fds.set(new FdEntry(ev.ret, (flags & O_DIRECTORY) !== 0 ? 'directory' : 'file', name, raw, '', flags, (flags & O_CLOEXEC) !== 0), counters);
}

/** dup/dup2/dup3: the new number describes what the old one does. */
export function onDup(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  dupFd(p, ev.rawArg(DUP_OLDFD) | 0, ev.ret, ev.typeId === T_DUP3 && (ev.rawArg(DUP3_FLAGS) & O_CLOEXEC) !== 0, counters, ev.dupTargetIsSocket());
}

/** fcntl: only F_DUPFD(_CLOEXEC) and F_SETFD change what we track. */
export function onFcntl(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  if (ev.ret < 0) return;
  const cmd = ev.rawArg(FCNTL_CMD);
  if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) {
    dupFd(p, ev.rawArg(FCNTL_FD) | 0, ev.ret, cmd === F_DUPFD_CLOEXEC, counters);
  } else if (cmd === F_SETFD) {
    const fd = ev.rawArg(FCNTL_FD) | 0;
    const e = p.fds.get(fd);
    const cloexec = (ev.rawArg(FCNTL_ARG) & FD_CLOEXEC) !== 0;
    // The flag belongs to this process's table, the entry may be shared with a fork: replace it.
    if (e && e.cloexec !== cloexec) p.fds.set(e.dupAs(fd, cloexec), counters);
  }
}

/** close (after the rules, which may still read the entry): it releases the number even on EINTR/EIO. */
export function onClose(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  p.fds.delete(ev.rawArg(CLOSE_FD) | 0, counters);
}

export function onSocket(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const type = socketFdType(ev.rawArg(SOCKET_DOMAIN));
  const sockType = ev.rawArg(SOCKET_TYPE);
  p.fds.set(new FdEntry(ev.ret, type, '', '', socketL4(type, sockType, ev.rawArg(SOCKET_PROTO)), 0, (sockType & SOCK_CLOEXEC) !== 0), counters);
}

/** connect (also while in progress, and failed: `connected` says which). */
export function onConnect(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const sa = ev.sockaddr();
  if (sa === undefined || sa.family === 'other') return;
  const e = socketEntry(p, ev.rawArg(CONNECT_FD) | 0, sa.family, counters);
  if (sa.family === 'unix') {
    e.name = sa.address;
  } else {
    // The local end as the kernel bound it (connect picks one itself), else what a bind we saw said.
    const local = ev.localSockaddr();
    if (local !== undefined && local.family === sa.family) e.setTuple(local.address, local.port, sa.address, sa.port, false);
    else e.setTuple(e.boundIp || unspecifiedAddress(sa.family), e.boundPort, sa.address, sa.port, false);
  }
  e.connected = ev.ret === 0 || ev.ret === EINPROGRESS;
}

export function onAccept(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const listener = p.fds.get(ev.rawArg(ACCEPT_LISTENER) | 0);
  const sa = ev.sockaddr();
  const family: FdType = sa && sa.family !== 'other' ? sa.family : listener?.type ?? 'unknown';
  const cloexec = ev.typeId === T_ACCEPT4 && (ev.rawArg(ACCEPT4_FLAGS) & SOCK_CLOEXEC) !== 0;
  const e = new FdEntry(ev.ret, family, '', '', family === 'ipv4' || family === 'ipv6' ? listener?.l4proto || 'tcp' : '', 0, cloexec);
  if ((family === 'ipv4' || family === 'ipv6') && sa) {
    // The accepted socket's own local end names the address a wildcard listener was reached on.
    const local = ev.localSockaddr();
    if (local !== undefined && local.family === family) e.setTuple(sa.address, sa.port, local.address, local.port, true);
    else e.setTuple(sa.address, sa.port, listener?.boundIp || unspecifiedAddress(family), listener?.boundPort ?? 0, true);
  } else if (family === 'unix') {
    e.name = listener?.name ?? '';
    e.isServer = true;
  }
  e.connected = true;
  p.fds.set(e, counters);
}

export function onBind(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const sa = ev.sockaddr();
  if (sa === undefined || sa.family === 'other') return;
  const e = socketEntry(p, ev.rawArg(BIND_FD) | 0, sa.family, counters);
  if (sa.family === 'unix') {
    e.name = sa.address;
    return;
  }
  e.boundIp = sa.address;
  e.boundPort = sa.port;
  if (!e.connected) {
    e.serverIp = sa.address;
    e.serverPort = sa.port;
    e.name = `${sa.address}:${sa.port}`;
  }
}

/** Unconnected UDP: each datagram may go elsewhere; the tuple follows the last destination. */
export function onSendto(p: ProcessEntry, ev: EventView): void {
  const e = p.fds.get(ev.rawArg(SENDTO_FD) | 0);
  if (e === undefined || e.l4proto !== 'udp') return;
  const sa = ev.sockaddr();
  if (sa === undefined || (sa.family !== 'ipv4' && sa.family !== 'ipv6')) return;
  if (e.serverIp === sa.address && e.serverPort === sa.port && e.name !== '') return;
  e.setTuple(e.boundIp || unspecifiedAddress(sa.family), e.boundPort, sa.address, sa.port, false);
}

export function onMemfd(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  p.fds.set(new FdEntry(ev.ret, 'memfd', `memfd:${ev.str(0) ?? ''}`, ev.str(0) ?? '', '', 0, (ev.rawArg(MEMFD_FLAGS) & MFD_CLOEXEC) !== 0), counters);
}

export function onUserfaultfd(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  // UFFD_CLOEXEC is O_CLOEXEC.
  p.fds.set(new FdEntry(ev.ret, 'userfaultfd', '', '', '', 0, (ev.rawArg(USERFAULTFD_FLAGS) & O_CLOEXEC) !== 0), counters);
}

/** bpf: only the commands that return a new fd (maps, programs, links, BTF…) add one. */
export function onBpf(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  // The kernel always sets O_CLOEXEC on bpf fds.
  if (BPF_FD_COMMANDS.has(ev.rawArg(BPF_CMD))) p.fds.set(new FdEntry(ev.ret, 'bpf', '', '', '', 0, true), counters);
}

/** pidfd_open: named as libsinsp names it, after the process's /proc directory. */
export function onPidfdOpen(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const pid = ev.rawArg(PIDFD_OPEN_PID);
  // pidfds are always close-on-exec.
  const e = new FdEntry(ev.ret, 'pidfd', `/proc/${pid}`, '', '', 0, true);
  e.pid = pid;
  p.fds.set(e, counters);
}

/**
 * pidfd_getfd: the new fd is the other process's open file, so it gets a copy of that process's
 * entry when both are known (the pidfd names the process), close-on-exec as the kernel makes it.
 */
export function onPidfdGetfd(p: ProcessEntry, ev: EventView, counters: FdCounters, processOf: (tgid: number) => ProcessEntry | undefined): void {
  const pidfd = p.fds.get(ev.rawArg(PIDFD_GETFD_PIDFD) | 0);
  const target = pidfd !== undefined && pidfd.type === 'pidfd' ? processOf(pidfd.pid)?.fds.get(ev.rawArg(PIDFD_GETFD_TARGET) | 0) : undefined;
  p.fds.set(target ? target.dupAs(ev.ret, true) : new FdEntry(ev.ret, 'unknown', '', '', '', 0, true), counters);
}

/** io_uring_setup: the ring's fd (close-on-exec, as the kernel creates it). */
export function onIoUringSetup(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  p.fds.set(new FdEntry(ev.ret, 'io_uring', '', '', '', 0, true), counters);
}

/** open_by_handle_at: a file opened without a path; the probe walked the path from the new fd. */
export function onOpenByHandle(p: ProcessEntry, ev: EventView, counters: FdCounters): void {
  const flags = ev.rawArg(OPEN_BY_HANDLE_FLAGS);
  const path = ev.str(0) ?? '';
  p.fds.set(new FdEntry(ev.ret, (flags & O_DIRECTORY) !== 0 ? 'directory' : 'file', path, path, '', flags, (flags & O_CLOEXEC) !== 0), counters);
}

/**
 * The new number describes what the old one does. `kernelSaysSocket` is the kernel's look at the
 * fd's inode (dup family): an entry the table still holds as a socket when the fd is not one is
 * stale (a close the probe did not ship, then a pipe() it does not trace took the number), so both
 * numbers become unknown rather than a socket a rule would alert on.
 */
function dupFd(p: ProcessEntry, oldFd: number, newFd: number, cloexec: boolean, counters: FdCounters, kernelSaysSocket?: boolean): void {
  if (oldFd === newFd) return;
  let src = p.fds.get(oldFd);
  if (src !== undefined && kernelSaysSocket === false && SOCKET_TYPES.has(src.type)) {
    src = new FdEntry(oldFd, 'unknown', '', '', '', 0, src.cloexec);
    p.fds.set(src, counters);
  }
  p.fds.set(src ? src.dupAs(newFd, cloexec) : new FdEntry(newFd, 'unknown', '', '', '', 0, cloexec), counters);
}

const SOCKET_TYPES: ReadonlySet<FdType> = new Set<FdType>(['ipv4', 'ipv6', 'unix']);

/** The socket's entry, created when the socket predates what we saw (opened before start). */
function socketEntry(p: ProcessEntry, fd: number, family: 'ipv4' | 'ipv6' | 'unix', counters: FdCounters): FdEntry {
  let e = p.fds.get(fd);
  if (e === undefined || (e.type !== family && e.type !== 'unknown' && e.type !== 'ipv4' && e.type !== 'ipv6' && e.type !== 'unix')) {
    e = new FdEntry(fd, family, '', '', family === 'unix' ? '' : 'tcp', 0, false);
    p.fds.set(e, counters);
  } else if (e.type === 'unknown') {
    e.type = family;
    if (family !== 'unix' && e.l4proto === '') e.l4proto = 'tcp';
  }
  return e;
}

function socketFdType(domain: number): FdType {
  switch (domain) {
    case AF_UNIX:
      return 'unix';
    case AF_INET:
      return 'ipv4';
    case AF_INET6:
      return 'ipv6';
    case AF_NETLINK:
      return 'netlink';
    default:
      return 'unknown';
  }
}

function socketL4(fdType: FdType, sockType: number, proto: number): string {
  if (fdType !== 'ipv4' && fdType !== 'ipv6') return '';
  const icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
  switch (sockType & SOCK_TYPE_MASK) {
    case SOCK_STREAM:
      return 'tcp';
    case SOCK_DGRAM:
      return icmp ? 'icmp' : 'udp';
    case SOCK_RAW:
      return icmp ? 'icmp' : 'raw';
    default:
      return '';
  }
}
