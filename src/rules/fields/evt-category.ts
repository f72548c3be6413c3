/**
 * Falco's event categories (`evt.category`) for the event types this probe traces, as libsinsp's
 * event table files them. I/O events (close, dup, fcntl, send/recv) take their category from the
 * kind of fd they act on, as libsinsp does.
 */
import { EVENT_TYPES } from '../../probe/event-types';
import type { FdType } from '../../state/types';

type Category = 'file' | 'net' | 'ipc' | 'memory' | 'process' | 'signal' | 'user' | 'other' | 'io';

const BY_NAME: Readonly<Record<string, Category>> = {
  execve: 'process', execveat: 'process', clone: 'process', clone3: 'process', fork: 'process', vfork: 'process', procexit: 'process',
  capset: 'process', prctl: 'process', chroot: 'process', unshare: 'process', setns: 'process', ptrace: 'process',
  setuid: 'user', setgid: 'user', setresuid: 'user', setresgid: 'user',
  socket: 'net', connect: 'net', accept: 'net', accept4: 'net', bind: 'net', listen: 'net',
  close: 'io', dup: 'io', dup2: 'io', dup3: 'io', fcntl: 'io', sendto: 'io', sendmsg: 'io', recvfrom: 'io', recvmsg: 'io',
  memfd_create: 'memory', process_vm_writev: 'ipc', kill: 'signal',
  init_module: 'other', finit_module: 'other', bpf: 'other',
  mprotect: 'memory', mmap: 'memory', pidfd_open: 'process', pidfd_getfd: 'process', process_vm_readv: 'ipc',
  kexec_load: 'other', kexec_file_load: 'other', keyctl: 'other', fsopen: 'other', fsmount: 'other', move_mount: 'other',
  io_uring_setup: 'io', io_uring_enter: 'io', io_uring_register: 'io',
};

/** Per event type id; 'file' for the remaining file-system calls (open, link, mount, …). */
const CATEGORY: readonly Category[] = EVENT_TYPES.map((t) => BY_NAME[t.name] ?? (t.category === 'syscall' ? 'file' : 'other'));

/** The category of an fd for I/O events. */
function ioCategory(fd: FdType | undefined): string {
  switch (fd) {
    case 'ipv4':
    case 'ipv6':
    case 'unix':
    case 'netlink':
      return 'net';
    case 'pipe':
    case 'event':
    case 'signalfd':
      return 'ipc';
    case undefined:
      return 'other';
    default:
      return 'file';
  }
}

export function eventCategory(typeId: number, fdType: () => FdType | undefined): string {
  const c = CATEGORY[typeId] ?? 'other';
  return c === 'io' ? ioCategory(fdType()) : c;
}
