/**
 * The event type table: ids (shared with the kernel probe through native/bpf/events.h), Falco names
 * and parameter layouts. One table drives kernel-side filtering, decoding, `evt.arg.*` extraction and
 * rule indexing, so the three can never disagree.
 */
import type { EventTypeSpec, ParamKind, ParamSource, ParamSpec } from './event';

const RET: ParamSource = { from: 'ret' };
const arg = (index: number): ParamSource => ({ from: 'arg', index });
const STR0: ParamSource = { from: 'str', slot: 0 };
const STR1: ParamSource = { from: 'str', slot: 1 };
const SOCK: ParamSource = { from: 'sockaddr' };
const p = (name: string, kind: ParamKind, source: ParamSource): ParamSpec => ({ name, kind, source });

const res = p('res', 'errno', RET);
const fdRet = p('fd', 'fd', RET);

type Def = readonly [name: string, category: EventTypeSpec['category'], params: readonly ParamSpec[]];

/**
 * Order is the ABI: the index is the event type id used by the kernel probe. Append only; never
 * reorder (captures store ids). `native/bpf/events.h` mirrors these ids (a test checks it).
 */
const DEFS: readonly Def[] = [
  ['unknown', 'meta', []],
  // Process lifecycle and exec.
  ['execve', 'syscall', [res, p('exe', 'path', STR0), p('flags', 'exe_flags', { from: 'exe_flags' })]],
  ['execveat', 'syscall', [res, p('dirfd', 'fd', arg(0)), p('pathname', 'path', STR0), p('flags', 'exe_flags', { from: 'exe_flags' })]],
  ['clone', 'syscall', [res, p('flags', 'clone_flags', arg(0))]],
  ['clone3', 'syscall', [res]],
  ['fork', 'syscall', [res]],
  ['vfork', 'syscall', [res]],
  ['procexit', 'process', [p('status', 'int', RET)]],
  // Files.
  ['open', 'syscall', [fdRet, p('name', 'path', STR0), p('flags', 'open_flags', arg(1)), p('mode', 'mode', arg(2))]],
  ['openat', 'syscall', [fdRet, p('dirfd', 'fd', arg(0)), p('name', 'path', STR0), p('flags', 'open_flags', arg(2)), p('mode', 'mode', arg(3))]],
  ['openat2', 'syscall', [fdRet, p('dirfd', 'fd', arg(0)), p('name', 'path', STR0), p('flags', 'open_flags', arg(2)), p('mode', 'mode', arg(3))]],
  ['creat', 'syscall', [fdRet, p('name', 'path', STR0), p('mode', 'mode', arg(1))]],
  ['close', 'syscall', [res, p('fd', 'fd', arg(0))]],
  ['dup', 'syscall', [res, p('oldfd', 'fd', arg(0))]],
  ['dup2', 'syscall', [res, p('oldfd', 'fd', arg(0)), p('newfd', 'fd', arg(1))]],
  ['dup3', 'syscall', [res, p('oldfd', 'fd', arg(0)), p('newfd', 'fd', arg(1)), p('flags', 'open_flags', arg(2))]],
  ['fcntl', 'syscall', [res, p('fd', 'fd', arg(0)), p('cmd', 'fcntl_cmd', arg(1))]],
  ['chdir', 'syscall', [res, p('path', 'path', STR0)]],
  ['fchdir', 'syscall', [res, p('fd', 'fd', arg(0))]],
  ['symlink', 'syscall', [res, p('target', 'string', STR0), p('linkpath', 'path', STR1)]],
  ['symlinkat', 'syscall', [res, p('target', 'string', STR0), p('linkdirfd', 'fd', arg(1)), p('linkpath', 'path', STR1)]],
  ['link', 'syscall', [res, p('oldpath', 'path', STR0), p('newpath', 'path', STR1)]],
  ['linkat', 'syscall', [res, p('olddir', 'fd', arg(0)), p('oldpath', 'path', STR0), p('newdir', 'fd', arg(2)), p('newpath', 'path', STR1), p('flags', 'at_flags', arg(4))]],
  ['unlink', 'syscall', [res, p('path', 'path', STR0)]],
  ['unlinkat', 'syscall', [res, p('dirfd', 'fd', arg(0)), p('name', 'path', STR0), p('flags', 'at_flags', arg(2))]],
  ['rename', 'syscall', [res, p('oldpath', 'path', STR0), p('newpath', 'path', STR1)]],
  ['renameat', 'syscall', [res, p('olddirfd', 'fd', arg(0)), p('oldpath', 'path', STR0), p('newdirfd', 'fd', arg(2)), p('newpath', 'path', STR1)]],
  ['renameat2', 'syscall', [res, p('olddirfd', 'fd', arg(0)), p('oldpath', 'path', STR0), p('newdirfd', 'fd', arg(2)), p('newpath', 'path', STR1), p('flags', 'rename_flags', arg(4))]],
  ['mkdir', 'syscall', [res, p('path', 'path', STR0), p('mode', 'mode', arg(1))]],
  ['mkdirat', 'syscall', [res, p('dirfd', 'fd', arg(0)), p('path', 'path', STR0), p('mode', 'mode', arg(2))]],
  ['rmdir', 'syscall', [res, p('path', 'path', STR0)]],
  ['chmod', 'syscall', [res, p('filename', 'path', STR0), p('mode', 'mode', arg(1))]],
  ['fchmod', 'syscall', [res, p('fd', 'fd', arg(0)), p('mode', 'mode', arg(1))]],
  ['fchmodat', 'syscall', [res, p('dirfd', 'fd', arg(0)), p('filename', 'path', STR0), p('mode', 'mode', arg(2))]],
  ['truncate', 'syscall', [res, p('path', 'path', STR0), p('length', 'int', arg(1))]],
  ['ftruncate', 'syscall', [res, p('fd', 'fd', arg(0)), p('length', 'int', arg(1))]],
  ['memfd_create', 'syscall', [fdRet, p('name', 'string', STR0), p('flags', 'memfd_flags', arg(1))]],
  // Network.
  ['socket', 'syscall', [fdRet, p('domain', 'socket_family', arg(0)), p('type', 'socket_type', arg(1)), p('proto', 'int', arg(2))]],
  ['connect', 'syscall', [res, p('tuple', 'sockaddr', SOCK), p('fd', 'fd', arg(0))]],
  ['accept', 'syscall', [fdRet, p('tuple', 'sockaddr', SOCK)]],
  ['accept4', 'syscall', [fdRet, p('tuple', 'sockaddr', SOCK), p('flags', 'open_flags', arg(3))]],
  ['bind', 'syscall', [res, p('addr', 'sockaddr', SOCK), p('fd', 'fd', arg(0))]],
  ['listen', 'syscall', [res, p('fd', 'fd', arg(0)), p('backlog', 'int', arg(1))]],
  ['sendto', 'syscall', [res, p('fd', 'fd', arg(0)), p('size', 'uint', arg(2)), p('tuple', 'sockaddr', SOCK)]],
  ['sendmsg', 'syscall', [res, p('fd', 'fd', arg(0)), p('tuple', 'sockaddr', SOCK)]],
  ['recvfrom', 'syscall', [res, p('fd', 'fd', arg(0)), p('size', 'uint', arg(2)), p('tuple', 'sockaddr', SOCK)]],
  ['recvmsg', 'syscall', [res, p('fd', 'fd', arg(0)), p('tuple', 'sockaddr', SOCK)]],
  // Privilege, namespaces, kernel.
  ['setuid', 'syscall', [res, p('uid', 'uid', arg(0))]],
  ['setgid', 'syscall', [res, p('gid', 'gid', arg(0))]],
  ['setresuid', 'syscall', [res, p('ruid', 'uid', arg(0)), p('euid', 'uid', arg(1)), p('suid', 'uid', arg(2))]],
  ['setresgid', 'syscall', [res, p('rgid', 'gid', arg(0)), p('egid', 'gid', arg(1)), p('sgid', 'gid', arg(2))]],
  ['capset', 'syscall', [res]],
  ['prctl', 'syscall', [res, p('option', 'prctl_option', arg(0)), p('arg2_int', 'int', arg(1))]],
  ['chroot', 'syscall', [res, p('path', 'path', STR0)]],
  ['unshare', 'syscall', [res, p('flags', 'ns_flags', arg(0))]],
  ['setns', 'syscall', [res, p('fd', 'fd', arg(0)), p('nstype', 'ns_flags', arg(1))]],
  ['mount', 'syscall', [res, p('dev', 'string', STR1), p('dir', 'path', STR0), p('flags', 'mount_flags', arg(3))]],
  ['umount2', 'syscall', [res, p('name', 'path', STR0), p('flags', 'umount_flags', arg(1))]],
  ['init_module', 'syscall', [res, p('length', 'uint', arg(1))]],
  ['finit_module', 'syscall', [res, p('fd', 'fd', arg(0)), p('flags', 'module_flags', arg(2))]],
  ['bpf', 'syscall', [res, p('cmd', 'bpf_cmd', arg(0))]],
  ['userfaultfd', 'syscall', [res, p('flags', 'open_flags', arg(0))]],
  ['ptrace', 'syscall', [res, p('request', 'ptrace_request', arg(0)), p('pid', 'pid', arg(1))]],
  ['process_vm_writev', 'syscall', [res, p('pid', 'pid', arg(0))]],
  ['kill', 'syscall', [res, p('pid', 'pid', arg(0)), p('sig', 'signal', arg(1))]],
  // Synthesized in user space when drop counters move; never produced by BPF.
  ['drop', 'meta', []],
  // Ownership. fchown's record also carries the fd's path in str0 (not a libsinsp parameter).
  ['chown', 'syscall', [res, p('path', 'path', STR0), p('uid', 'uint32', arg(1)), p('gid', 'uint32', arg(2))]],
  ['lchown', 'syscall', [res, p('path', 'path', STR0), p('uid', 'uint32', arg(1)), p('gid', 'uint32', arg(2))]],
  ['fchown', 'syscall', [res, p('fd', 'fd', arg(0)), p('uid', 'uint32', arg(1)), p('gid', 'uint32', arg(2))]],
  ['fchownat', 'syscall', [res, p('dirfd', 'fd', arg(0)), p('pathname', 'path', STR0), p('uid', 'uint32', arg(2)), p('gid', 'uint32', arg(3)), p('flags', 'at_flags', arg(4))]],
  // Memory made executable: the kernel ships only mprotect with PROT_EXEC, and mmap with PROT_EXEC
  // that is also writable or anonymous (native/bpf/lib/mem_exec.h).
  ['mprotect', 'syscall', [res, p('addr', 'hex', arg(0)), p('length', 'uint', arg(1)), p('prot', 'prot_flags', arg(2))]],
  ['mmap', 'syscall', [res, p('addr', 'hex', arg(0)), p('length', 'uint', arg(1)), p('prot', 'prot_flags', arg(2)), p('flags', 'mmap_flags', arg(3)), p('fd', 'fd', arg(4)), p('offset', 'uint', arg(5))]],
  // Other processes' descriptors and memory.
  ['pidfd_open', 'syscall', [fdRet, p('pid', 'pid', arg(0)), p('flags', 'open_flags', arg(1))]],
  // target_fd is a number in the other process's table, so it renders as a plain number.
  ['pidfd_getfd', 'syscall', [fdRet, p('pid_fd', 'fd', arg(0)), p('target_fd', 'int', arg(1)), p('flags', 'uint32', arg(2))]],
  ['process_vm_readv', 'syscall', [res, p('pid', 'pid', arg(0))]],
  // Kernel replacement and keys. libsinsp has no parameters for kexec: these are the syscall's own names.
  ['kexec_load', 'syscall', [res, p('entry', 'hex', arg(0)), p('nr_segments', 'uint', arg(1)), p('flags', 'hex', arg(3))]],
  ['kexec_file_load', 'syscall', [res, p('kernel_fd', 'fd', arg(0)), p('initrd_fd', 'fd', arg(1)), p('cmdline', 'string', STR0), p('flags', 'hex', arg(4))]],
  ['keyctl', 'syscall', [res, p('operation', 'keyctl_op', arg(0)), p('arg2', 'int', arg(1)), p('arg3', 'uint', arg(2)), p('arg4', 'uint', arg(3)), p('arg5', 'uint', arg(4))]],
  // The new mount API (libsinsp has no parameters for these either: the syscall's own names).
  ['fsopen', 'syscall', [fdRet, p('fs_name', 'string', STR0), p('flags', 'hex', arg(1))]],
  ['fsmount', 'syscall', [fdRet, p('fs_fd', 'fd', arg(0)), p('flags', 'hex', arg(1)), p('attr_flags', 'hex', arg(2))]],
  ['move_mount', 'syscall', [res, p('from_dfd', 'fd', arg(0)), p('from_pathname', 'path', STR0), p('to_dfd', 'fd', arg(2)), p('to_pathname', 'path', STR1), p('flags', 'hex', arg(4))]],
  // The opened file's path is walked in the kernel from the new fd.
  ['open_by_handle_at', 'syscall', [fdRet, p('mountfd', 'fd', arg(0)), p('flags', 'open_flags', arg(2)), p('path', 'path', STR0)]],
  // io_uring: setup's record carries the filled-in io_uring_params in argument slots 2..5 (events.h).
  ['io_uring_setup', 'syscall', [res, p('entries', 'uint32', arg(0)), p('sq_entries', 'uint32', arg(3)), p('cq_entries', 'uint32', arg(4)), p('flags', 'hex', arg(2)), p('features', 'hex', arg(5))]],
  ['io_uring_enter', 'syscall', [res, p('fd', 'fd', arg(0)), p('to_submit', 'uint32', arg(1)), p('min_complete', 'uint32', arg(2)), p('flags', 'hex', arg(3))]],
  ['io_uring_register', 'syscall', [res, p('fd', 'fd', arg(0)), p('opcode', 'uint32', arg(1)), p('arg', 'hex', arg(2)), p('nr_args', 'uint32', arg(3))]],
  // Sessions and process groups: the process table keeps proc.sid and proc.vpgid current with them.
  ['setsid', 'syscall', [p('res', 'pid', RET)]],
  ['setpgid', 'syscall', [res, p('pid', 'pid', arg(0)), p('pgid', 'pid', arg(1))]],
];

export const EVENT_TYPES: readonly EventTypeSpec[] = DEFS.map(([name, category, params], id) => ({ id, name, category, params }));

const byName = new Map<string, EventTypeSpec>(EVENT_TYPES.map((t) => [t.name, t]));

export function eventTypeByName(name: string): EventTypeSpec | undefined {
  return byName.get(name);
}

/** Names a rule condition may use in `evt.type` (all real event types, not meta ones). */
export const RULE_EVENT_TYPE_NAMES: readonly string[] = EVENT_TYPES.filter((t) => t.category !== 'meta').map((t) => t.name);

export const EVENT_TYPE_COUNT = EVENT_TYPES.length;

/**
 * Event type families: the names that share one meaning for state, rules and the kernel filters.
 * Written once here; every consumer asks for the family instead of listing its members.
 */
export const EVENT_FAMILIES = {
  /** A new process or thread: the child's side always ships, the caller's only on demand. */
  fork: ['clone', 'clone3', 'fork', 'vfork'],
  exec: ['execve', 'execveat'],
  /** Calls that open a path and return an fd (creat is open with O_CREAT|O_WRONLY|O_TRUNC). */
  open: ['open', 'openat', 'openat2', 'creat'],
  dup: ['dup', 'dup2', 'dup3'],
  accept: ['accept', 'accept4'],
  link: ['link', 'linkat'],
  symlink: ['symlink', 'symlinkat'],
  unlink: ['unlink', 'unlinkat'],
  rename: ['rename', 'renameat', 'renameat2'],
  mkdir: ['mkdir', 'mkdirat'],
  chmod: ['chmod', 'fchmod', 'fchmodat'],
  /** Ownership changes; every member's record carries the file's path in str0 (fchown's walked from its fd). */
  chown: ['chown', 'lchown', 'fchown', 'fchownat'],
  /** Credential changes that refresh the process's capability sets. */
  creds: ['setuid', 'setgid', 'setresuid', 'setresgid', 'capset'],
  /** I/O that reads or writes data (evt.is_io_read / evt.is_io_write, evt.buflen). */
  io_read: ['recvfrom', 'recvmsg'],
  io_write: ['sendto', 'sendmsg'],
} as const satisfies Record<string, readonly string[]>;

export type EventFamily = keyof typeof EVENT_FAMILIES;

/** Ids of a family's members, for O(1) membership tests on the hot path. */
export function familyTypeIds(family: EventFamily): ReadonlySet<number> {
  return new Set(EVENT_FAMILIES[family].map((name) => eventTypeByName(name)!.id));
}

/** One byte per event type id, 1 for members of the family. */
export function familyMask(family: EventFamily): Uint8Array {
  const mask = new Uint8Array(EVENT_TYPE_COUNT);
  for (const name of EVENT_FAMILIES[family]) mask[eventTypeByName(name)!.id] = 1;
  return mask;
}

/**
 * Per event type id, the raw-argument index of the parameter named `param` (as the type table
 * lays it out), or -1 where the type has no such parameter or keeps it elsewhere. The one place
 * argument positions are looked up: consumers never hard-code them.
 */
export function argIndexOf(param: string): Int8Array {
  const out = new Int8Array(EVENT_TYPE_COUNT).fill(-1);
  for (const t of EVENT_TYPES) {
    const p = t.params.find((q) => q.name === param);
    if (p && p.source.from === 'arg') out[t.id] = p.source.index;
  }
  return out;
}

/** The raw-argument index of a type's parameter; throws at load time if the table has none. */
export function argIndex(typeName: string, param: string): number {
  const t = eventTypeByName(typeName);
  const index = t === undefined ? -1 : argIndexOf(param)[t.id]!;
  if (index < 0) throw new Error(`event type ${typeName} has no argument parameter ${param}`);
  return index;
}

/**
 * Event names libsinsp knows (its event table and its syscall names) that this probe does not
 * trace. A rule may name them: it loads with a warning instead of an error (`lanner list-events`).
 */
export const UNTRACED_EVENT_NAMES: readonly string[] = [
  '_llseek _newselect _sysctl access acct add_key adjtimex alarm arch_prctl asyncevent bdflush brk',
  'cachestat capget clock_adjtime clock_getres clock_gettime clock_nanosleep clock_settime',
  'close_range container copy_file_range cpu_hotplug create_module delete_module epoll_create',
  'epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd',
  'eventfd2 exit exit_group faccessat faccessat2 fadvise64 fallocate fanotify_init fanotify_mark',
  'fchmodat2 fcntl64 fdatasync fgetxattr file_getattr file_setattr flistxattr flock',
  'fremovexattr fsconfig fsetxattr fspick fstat fstat64 fstatat64 fstatfs fstatfs64',
  'fsync futex futex_requeue futex_wait futex_waitv futex_wake futimesat get_kernel_syms',
  'get_mempolicy get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid',
  'getegid32 geteuid geteuid32 getgid getgid32 getgroups getitimer getpeername getpgid getpgrp',
  'getpid getpmsg getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32',
  'getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday getuid getuid32 getxattr',
  'getxattrat groupadded groupdeleted idle infra inotify_add_watch inotify_init inotify_init1',
  'inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents io_setup io_submit',
  'ioctl ioperm iopl ioprio_get ioprio_set ipc k8s',
  'kcmp landlock_add_rule landlock_create_ruleset',
  'landlock_restrict_self lgetxattr listmount listns listxattr listxattrat llistxattr llseek',
  'lookup_dcookie lremovexattr lseek lsetxattr lsm_get_self_attr lsm_list_modules lsm_set_self_attr',
  'lstat lstat64 madvise map_shadow_stack mbind membarrier memfd_secret mesos migrate_pages mincore',
  'mknod mknodat mlock mlock2 mlockall mmap2 modify_ldt mount_setattr move_pages',
  'mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend mq_unlink mremap mseal',
  'msgctl msgget msgrcv msgsnd msync multiplexer munlock munlockall munmap name_to_handle_at',
  'nanosleep newfstatat nfsservctl nice notification oldfstat oldlstat oldolduname oldstat olduname',
  'open_tree open_tree_attr page_fault page_fault_kernel page_fault_user pause',
  'pciconfig_iobase pciconfig_read pciconfig_write perf_event_open personality',
  'pidfd_send_signal pipe pipe2 pivot_root pkey_alloc pkey_free pkey_mprotect',
  'pluginevent poll ppoll pread pread64 preadv preadv2 prlimit prlimit64 process_madvise',
  'process_mrelease procinfo pselect6 pwrite pwrite64 pwritev pwritev2',
  'query_module quotactl quotactl_fd read readahead readdir readlink readlinkat readv reboot recv',
  'recvmmsg remap_file_pages removexattr removexattrat request_key restart_syscall',
  'riscv_flush_icache riscv_hwprobe rseq rseq_slice_yield rt_sigaction rt_sigpending rt_sigprocmask',
  'rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo rtas',
  's390_guarded_storage s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr s390_sthyi',
  'scapevent sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr',
  'sched_getparam sched_getscheduler sched_process_exit sched_rr_get_interval sched_setaffinity',
  'sched_setattr sched_setparam sched_setscheduler sched_switch sched_yield seccomp select semctl',
  'semget semop semtimedop send sendfile sendfile64 sendmmsg set_mempolicy set_mempolicy_home_node',
  'set_robust_list set_thread_area set_tid_address setdomainname setfsgid setfsuid setgid32',
  'setgroups sethostname setitimer setpriority setregid setresgid32 setresuid32 setreuid',
  'setrlimit setsockopt settimeofday setuid32 setxattr setxattrat sgetmask shmat shmctl',
  'shmdt shmget shutdown sigaction sigaltstack signal signal_deliver signaldeliver signalfd',
  'signalfd4 sigpending sigprocmask sigreturn sigsuspend socketcall socketpair splice spu_create',
  'spu_run ssetmask stat stat64 statfs statfs64 statmount statx stime subpage_prot swapcontext',
  'swapoff swapon switch switch_endian sync sync_file_range sync_file_range2 syncfs',
  'sys_debug_setcontext syscall sysfs sysinfo syslog task task_file_directory task_file_memfd',
  'task_file_pipe task_file_regular task_file_socket_inet task_file_socket_inet6',
  'task_file_socket_netlink task_file_socket_unix tee tgkill time timer_create timer_delete',
  'timer_getoverrun timer_gettime timer_settime timerfd timerfd_create timerfd_gettime',
  'timerfd_settime times tkill tracer ugetrlimit umask umount uname uprobe uretprobe uselib',
  'useradded userdeleted ustat utime utimensat utimes vhangup vm86 vmsplice wait4 waitid waitpid',
  'write writev',
]
  .join(' ')
  .split(' ');
