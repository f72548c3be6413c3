/**
 * Symbolic rendering of syscall parameters, the way Falco prints them in `evt.arg.<name>` and
 * `evt.args` (flags as `O_WRONLY|O_CREAT`, errno as `ENOENT`, requests as `PTRACE_ATTACH`), so stock
 * rules such as `evt.arg.flags contains O_TRUNC` keep working. Linux x86-64/arm64 generic values.
 */
import { EXE_FROM_MEMFD, EXE_UPPER_LAYER, EXE_WRITABLE } from '../probe/event';
import * as linux from '../probe/linux';

type FlagTable = readonly (readonly [name: string, bit: number])[];

/** Names of the numeric constants in src/probe/linux.ts. */
type LinuxConstant = { [K in keyof typeof linux]: (typeof linux)[K] extends number ? K : never }[keyof typeof linux];

/** A flag table over linux.ts constants, in rendering order: each name is its value's key. */
function linuxFlags(names: readonly LinuxConstant[]): FlagTable {
  return names.map((name) => [name, linux[name]] as const);
}

const ERRNO_NAMES: readonly string[] = [
  '', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT',
  'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC',
  'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP', '', 'ENOMSG',
  'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC',
  'EBADSLT', '', 'EBFONT', 'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM', 'EPROTO',
  'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC',
  'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT',
  'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN', 'ENETUNREACH', 'ENETRESET',
  'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN',
  'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE',
];

/** `ENOENT` for 2 (or -2); `E<n>` for numbers without a name. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return ERRNO_NAMES[n] || `E${n}`;
}

/** Falco's `evt.res`: `SUCCESS` or the errno name. */
export function renderResult(ret: number): string {
  return ret >= 0 ? 'SUCCESS' : errnoName(ret);
}

function renderFlags(value: number, table: FlagTable, zeroName?: string): string {
  if (value === 0 && zeroName !== undefined) return zeroName;
  let out = '';
  let rest = value >>> 0;
  for (const [name, bit] of table) {
    if (bit !== 0 && (rest & bit) === bit) {
      out += out ? `|${name}` : name;
      rest &= ~bit >>> 0;
    }
  }
  if (rest !== 0) out += out ? `|0x${rest.toString(16)}` : `0x${rest.toString(16)}`;
  return out || '0';
}

const OPEN_FLAG_BITS = linuxFlags([
  'O_CREAT', 'O_EXCL', 'O_NOCTTY', 'O_TRUNC', 'O_APPEND', 'O_NONBLOCK', 'O_DSYNC', 'O_ASYNC', 'O_DIRECT', 'O_LARGEFILE', 'O_DIRECTORY',
  'O_NOFOLLOW', 'O_NOATIME', 'O_CLOEXEC', 'O_SYNC', 'O_PATH', 'O_TMPFILE',
]);

/** Renders repeat a handful of values; a bounded memo keeps the hot path allocation-free. */
function memoized(render: (v: number) => string): (v: number) => string {
  const cache = new Map<number, string>();
  return (v) => {
    let s = cache.get(v);
    if (s === undefined) {
      if (cache.size >= 1024) cache.clear();
      cache.set(v, (s = render(v)));
    }
    return s;
  };
}

/** `O_WRONLY|O_CREAT|O_TRUNC`: access mode first, then the other bits. */
export const renderOpenFlags = memoized(renderOpenFlagsUncached);

function renderOpenFlagsUncached(flags: number): string {
  const acc = flags & linux.O_ACCMODE;
  const mode = acc === linux.O_RDONLY ? 'O_RDONLY' : acc === linux.O_WRONLY ? 'O_WRONLY' : acc === linux.O_RDWR ? 'O_RDWR' : 'O_ACCMODE';
  let out = mode;
  let rest = (flags & ~linux.O_ACCMODE) >>> 0;
  for (const [name, bit] of OPEN_FLAG_BITS) {
    if ((rest & bit) === bit) {
      out += `|${name}`;
      rest &= ~bit >>> 0;
    }
  }
  if (rest !== 0) out += `|0x${rest.toString(16)}`;
  return out;
}

const MODE_BITS = linuxFlags(['S_IXOTH', 'S_IWOTH', 'S_IROTH', 'S_IXGRP', 'S_IWGRP', 'S_IRGRP', 'S_IXUSR', 'S_IWUSR', 'S_IRUSR', 'S_ISVTX', 'S_ISGID', 'S_ISUID']);

/**
 * The mode bits a rendered mode (below) holds `text` for: those whose names contain it. undefined
 * when the text could also match the octal digits or span names (a test no bit mask decides).
 */
export function modeBitsNamedBy(text: string): number | undefined {
  if (!/^[A-Z_]+$/.test(text)) return undefined;
  return MODE_BITS.filter(([name]) => name.includes(text)).reduce((mask, [, bit]) => mask | bit, 0);
}

/** `0755(S_IXOTH|S_IROTH|…)`: octal for humans, names for `contains S_ISUID` rules. */
export const renderMode = memoized(renderModeUncached);

function renderModeUncached(mode: number): string {
  const bits = mode & linux.S_IALLUGO;
  const names = MODE_BITS.filter(([, b]) => (bits & b) !== 0).map(([n]) => n);
  const octal = bits === 0 ? '0' : '0' + bits.toString(8);
  return names.length ? `${octal}(${names.join('|')})` : octal;
}

const PTRACE: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSR', 4: 'PTRACE_POKETEXT', 5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSR', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP', 12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS',
  14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH', 17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 0x4200: 'PTRACE_SETOPTIONS',
  0x4201: 'PTRACE_GETEVENTMSG', 0x4202: 'PTRACE_GETSIGINFO', 0x4203: 'PTRACE_SETSIGINFO', 0x4204: 'PTRACE_GETREGSET', 0x4205: 'PTRACE_SETREGSET',
  0x4206: 'PTRACE_SEIZE', 0x4207: 'PTRACE_INTERRUPT', 0x4208: 'PTRACE_LISTEN',
};

// Values src/probe/linux.ts has come from there; the others are only ever rendered, so they are written here.
const AF: Record<number, string> = {
  0: 'AF_UNSPEC', [linux.AF_UNIX]: 'AF_UNIX', [linux.AF_INET]: 'AF_INET', 3: 'AF_AX25', 4: 'AF_IPX', 5: 'AF_APPLETALK', 9: 'AF_X25', [linux.AF_INET6]: 'AF_INET6',
  [linux.AF_NETLINK]: 'AF_NETLINK', 17: 'AF_PACKET', 29: 'AF_CAN', 31: 'AF_BLUETOOTH', 38: 'AF_ALG', 40: 'AF_VSOCK', 44: 'AF_XDP',
};

const SOCK_TYPE: Record<number, string> = {
  [linux.SOCK_STREAM]: 'SOCK_STREAM', [linux.SOCK_DGRAM]: 'SOCK_DGRAM', [linux.SOCK_RAW]: 'SOCK_RAW', 4: 'SOCK_RDM', 5: 'SOCK_SEQPACKET', 6: 'SOCK_DCCP', 10: 'SOCK_PACKET',
};

const CLONE_BITS = linuxFlags([
  'CLONE_VM', 'CLONE_FS', 'CLONE_FILES', 'CLONE_SIGHAND', 'CLONE_PIDFD', 'CLONE_PTRACE', 'CLONE_VFORK', 'CLONE_PARENT', 'CLONE_THREAD', 'CLONE_NEWNS',
  'CLONE_SYSVSEM', 'CLONE_SETTLS', 'CLONE_PARENT_SETTID', 'CLONE_CHILD_CLEARTID', 'CLONE_UNTRACED', 'CLONE_CHILD_SETTID', 'CLONE_NEWCGROUP',
  'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWUSER', 'CLONE_NEWPID', 'CLONE_NEWNET', 'CLONE_IO',
]);

const NS_BITS: FlagTable = CLONE_BITS.filter(([n]) => n.startsWith('CLONE_NEW') || n === 'CLONE_FS' || n === 'CLONE_FILES' || n === 'CLONE_SYSVSEM');

const MOUNT_BITS: FlagTable = [
  ['MS_RDONLY', 1], ['MS_NOSUID', 2], ['MS_NODEV', 4], ['MS_NOEXEC', 8], ['MS_SYNCHRONOUS', 16], ['MS_REMOUNT', 32], ['MS_MANDLOCK', 64],
  ['MS_DIRSYNC', 128], ['MS_NOATIME', 1024], ['MS_NODIRATIME', 2048], ['MS_BIND', 4096], ['MS_MOVE', 8192], ['MS_REC', 16384],
  ['MS_SILENT', 32768], ['MS_POSIXACL', 1 << 16], ['MS_UNBINDABLE', 1 << 17], ['MS_PRIVATE', 1 << 18], ['MS_SLAVE', 1 << 19],
  ['MS_SHARED', 1 << 20], ['MS_RELATIME', 1 << 21], ['MS_KERNMOUNT', 1 << 22], ['MS_I_VERSION', 1 << 23], ['MS_STRICTATIME', 1 << 24],
  ['MS_LAZYTIME', 1 << 25],
];

const UMOUNT_BITS: FlagTable = [['MNT_FORCE', 1], ['MNT_DETACH', 2], ['MNT_EXPIRE', 4], ['UMOUNT_NOFOLLOW', 8]];

const BPF_CMD: readonly string[] = [
  'BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_MAP_UPDATE_ELEM', 'BPF_MAP_DELETE_ELEM', 'BPF_MAP_GET_NEXT_KEY', 'BPF_PROG_LOAD',
  'BPF_OBJ_PIN', 'BPF_OBJ_GET', 'BPF_PROG_ATTACH', 'BPF_PROG_DETACH', 'BPF_PROG_TEST_RUN', 'BPF_PROG_GET_NEXT_ID', 'BPF_MAP_GET_NEXT_ID',
  'BPF_PROG_GET_FD_BY_ID', 'BPF_MAP_GET_FD_BY_ID', 'BPF_OBJ_GET_INFO_BY_FD', 'BPF_PROG_QUERY', 'BPF_RAW_TRACEPOINT_OPEN', 'BPF_BTF_LOAD',
  'BPF_BTF_GET_FD_BY_ID', 'BPF_TASK_FD_QUERY', 'BPF_MAP_LOOKUP_AND_DELETE_ELEM', 'BPF_MAP_FREEZE', 'BPF_BTF_GET_NEXT_ID',
  'BPF_MAP_LOOKUP_BATCH', 'BPF_MAP_LOOKUP_AND_DELETE_BATCH', 'BPF_MAP_UPDATE_BATCH', 'BPF_MAP_DELETE_BATCH', 'BPF_LINK_CREATE',
  'BPF_LINK_UPDATE', 'BPF_LINK_GET_FD_BY_ID', 'BPF_LINK_GET_NEXT_ID', 'BPF_ENABLE_STATS', 'BPF_ITER_CREATE', 'BPF_LINK_DETACH', 'BPF_PROG_BIND_MAP',
];

const PRCTL: Record<number, string> = {
  1: 'PR_SET_PDEATHSIG', 2: 'PR_GET_PDEATHSIG', 3: 'PR_GET_DUMPABLE', 4: 'PR_SET_DUMPABLE', 8: 'PR_SET_KEEPCAPS', [linux.PR_SET_NAME]: 'PR_SET_NAME',
  16: 'PR_GET_NAME', 22: 'PR_SET_SECCOMP', 23: 'PR_CAPBSET_READ', 24: 'PR_CAPBSET_DROP', 36: 'PR_SET_CHILD_SUBREAPER', 38: 'PR_SET_NO_NEW_PRIVS',
  47: 'PR_CAP_AMBIENT',
};

const SIGNALS: readonly string[] = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE',
  'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ',
  'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

const MEMFD_BITS: FlagTable = [['MFD_CLOEXEC', linux.MFD_CLOEXEC], ['MFD_ALLOW_SEALING', 2], ['MFD_HUGETLB', 4], ['MFD_NOEXEC_SEAL', 8], ['MFD_EXEC', 16]];
const FCNTL: Record<number, string> = {
  [linux.F_DUPFD]: 'F_DUPFD', [linux.F_GETFD]: 'F_GETFD', [linux.F_SETFD]: 'F_SETFD', [linux.F_GETFL]: 'F_GETFL', [linux.F_SETFL]: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK', 7: 'F_SETLKW',
  [linux.F_DUPFD_CLOEXEC]: 'F_DUPFD_CLOEXEC',
};
const AT_BITS: FlagTable = [['AT_SYMLINK_NOFOLLOW', 0x100], ['AT_REMOVEDIR', 0x200], ['AT_SYMLINK_FOLLOW', 0x400], ['AT_NO_AUTOMOUNT', 0x800], ['AT_EMPTY_PATH', 0x1000]];
const RENAME_BITS: FlagTable = [['RENAME_NOREPLACE', 1], ['RENAME_EXCHANGE', 2], ['RENAME_WHITEOUT', 4]];
const MODULE_BITS: FlagTable = [['MODULE_INIT_IGNORE_MODVERSIONS', 1], ['MODULE_INIT_IGNORE_VERMAGIC', 2], ['MODULE_INIT_COMPRESSED_FILE', 4]];
const PROT_BITS = linuxFlags(['PROT_READ', 'PROT_WRITE', 'PROT_EXEC']);
const MMAP_BITS: FlagTable = [
  ...linuxFlags(['MAP_SHARED', 'MAP_PRIVATE', 'MAP_FIXED', 'MAP_ANONYMOUS']),
  ['MAP_GROWSDOWN', 0x100], ['MAP_DENYWRITE', 0x800], ['MAP_EXECUTABLE', 0x1000], ['MAP_LOCKED', 0x2000], ['MAP_NORESERVE', 0x4000],
  ['MAP_POPULATE', 0x8000], ['MAP_NONBLOCK', 0x10000], ['MAP_STACK', 0x20000], ['MAP_HUGETLB', 0x40000], ['MAP_FIXED_NOREPLACE', 0x100000],
];
const KEYCTL: readonly string[] = [
  'KEYCTL_GET_KEYRING_ID', 'KEYCTL_JOIN_SESSION_KEYRING', 'KEYCTL_UPDATE', 'KEYCTL_REVOKE', 'KEYCTL_CHOWN', 'KEYCTL_SETPERM', 'KEYCTL_DESCRIBE',
  'KEYCTL_CLEAR', 'KEYCTL_LINK', 'KEYCTL_UNLINK', 'KEYCTL_SEARCH', 'KEYCTL_READ', 'KEYCTL_INSTANTIATE', 'KEYCTL_NEGATE',
  'KEYCTL_SET_REQKEY_KEYRING', 'KEYCTL_SET_TIMEOUT', 'KEYCTL_ASSUME_AUTHORITY', 'KEYCTL_GET_SECURITY', 'KEYCTL_SESSION_TO_PARENT',
  'KEYCTL_REJECT', 'KEYCTL_INSTANTIATE_IOV', 'KEYCTL_INVALIDATE', 'KEYCTL_GET_PERSISTENT', 'KEYCTL_DH_COMPUTE', 'KEYCTL_PKEY_QUERY',
  'KEYCTL_PKEY_ENCRYPT', 'KEYCTL_PKEY_DECRYPT', 'KEYCTL_PKEY_SIGN', 'KEYCTL_PKEY_VERIFY', 'KEYCTL_RESTRICT_KEYRING', 'KEYCTL_MOVE',
  'KEYCTL_CAPABILITIES', 'KEYCTL_WATCH_KEY',
];
const EXE_BITS: FlagTable = [['EXE_WRITABLE', EXE_WRITABLE], ['EXE_UPPER_LAYER', EXE_UPPER_LAYER], ['EXE_FROM_MEMFD', EXE_FROM_MEMFD]];

const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Space-separated capability names, as Falco prints `thread.cap_effective`. */
export function renderCapabilities(mask: bigint): string {
  let out = '';
  for (let i = 0; i < CAPABILITY_NAMES.length; i++) {
    if ((mask >> BigInt(i)) & 1n) out += out ? ` ${CAPABILITY_NAMES[i]}` : CAPABILITY_NAMES[i];
  }
  return out;
}

/** Flag sets render on every test of a rule like `evt.arg.flags contains X`: memoized per kind. */
const FLAG_RENDERERS = {
  clone_flags: memoized((v) => renderFlags(v & ~linux.CSIGNAL, CLONE_BITS, '0')),
  ns_flags: memoized((v) => renderFlags(v, NS_BITS, '0')),
  mount_flags: memoized((v) => renderFlags(v, MOUNT_BITS, '0')),
  umount_flags: memoized((v) => renderFlags(v, UMOUNT_BITS, '0')),
  memfd_flags: memoized((v) => renderFlags(v, MEMFD_BITS, '0')),
  at_flags: memoized((v) => renderFlags(v, AT_BITS, '0')),
  rename_flags: memoized((v) => renderFlags(v, RENAME_BITS, '0')),
  module_flags: memoized((v) => renderFlags(v, MODULE_BITS, '0')),
  exe_flags: memoized((v) => renderFlags(v, EXE_BITS, '0')),
  prot_flags: memoized((v) => renderFlags(v, PROT_BITS, 'PROT_NONE')),
  mmap_flags: memoized((v) => renderFlags(v, MMAP_BITS, '0')),
};

/** Renders a non-fd, non-address numeric parameter of the given kind. */
export function renderNumericParam(kind: string, v: number): string {
  switch (kind) {
    case 'open_flags':
      return renderOpenFlags(v);
    case 'mode':
      return renderMode(v);
    case 'ptrace_request':
      return PTRACE[v] ?? String(v);
    case 'socket_family':
      return AF[v] ?? String(v);
    case 'socket_type':
      // SOCK_NONBLOCK/SOCK_CLOEXEC ride in the same argument.
      return SOCK_TYPE[v & linux.SOCK_TYPE_MASK] ?? String(v);
    case 'clone_flags':
      return FLAG_RENDERERS.clone_flags(v);
    case 'ns_flags':
      return FLAG_RENDERERS.ns_flags(v);
    case 'mount_flags':
      return FLAG_RENDERERS.mount_flags(v);
    case 'umount_flags':
      return FLAG_RENDERERS.umount_flags(v);
    case 'bpf_cmd':
      return BPF_CMD[v] ?? String(v);
    case 'prctl_option':
      return PRCTL[v] ?? String(v);
    case 'signal':
      return SIGNALS[v] || String(v);
    case 'memfd_flags':
      return FLAG_RENDERERS.memfd_flags(v);
    case 'fcntl_cmd':
      return FCNTL[v] ?? String(v);
    case 'at_flags':
      return FLAG_RENDERERS.at_flags(v);
    case 'rename_flags':
      return FLAG_RENDERERS.rename_flags(v);
    case 'module_flags':
      return FLAG_RENDERERS.module_flags(v);
    case 'exe_flags':
      return FLAG_RENDERERS.exe_flags(v);
    case 'prot_flags':
      return FLAG_RENDERERS.prot_flags(v);
    case 'mmap_flags':
      return FLAG_RENDERERS.mmap_flags(v);
    case 'keyctl_op':
      return KEYCTL[v] ?? String(v);
    case 'hex':
      return v < 0 ? String(v) : `0x${v.toString(16)}`;
    case 'errno':
      return v >= 0 ? String(v) : `${v}(${errnoName(v)})`;
    default:
      return String(v);
  }
}
