/**
 * Linux ABI constants the agent interprets in user space (x86-64 and arm64 generic values). The one
 * place they are written down: state, rules, posture and the renderers import them from here, so a
 * flag is never tested as a magic number. The kernel side has its own copy of the few it needs in
 * native/bpf (from vmlinux.h and the uapi headers).
 */

// open(2) flags.
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;
/** creat(2) is open(2) with exactly these flags. */
export const CREAT_FLAGS = O_CREAT | O_WRONLY | O_TRUNC;

// Mode bits (stat(2), chmod(2), open(2)'s mode).
export const S_IXOTH = 0o1;
export const S_IWOTH = 0o2;
export const S_IROTH = 0o4;
export const S_IXGRP = 0o10;
export const S_IWGRP = 0o20;
export const S_IRGRP = 0o40;
export const S_IXUSR = 0o100;
export const S_IWUSR = 0o200;
export const S_IRUSR = 0o400;
export const S_ISVTX = 0o1000;
export const S_ISGID = 0o2000;
export const S_ISUID = 0o4000;
/** Any execute bit. */
export const S_IXUGO = S_IXUSR | S_IXGRP | S_IXOTH;
/** Permission and special bits of a mode (what chmod sets). */
export const S_IALLUGO = 0o7777;

// clone(2) flags.
export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_SIGHAND = 0x800;
export const CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000;
export const CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000;
export const CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000;
export const CLONE_SYSVSEM = 0x40000;
export const CLONE_SETTLS = 0x80000;
export const CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
export const CLONE_NEWCGROUP = 0x2000000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_IO = 0x80000000;

// fcntl(2).
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;

// memfd_create(2).
export const MFD_CLOEXEC = 1;

// prctl(2).
export const PR_SET_NAME = 15;

// errno values as a syscall returns them (negated).
export const EBADF = -9;
export const EINPROGRESS = -115;

// Socket address families and types.
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
/** SOCK_CLOEXEC shares its value with O_CLOEXEC. */
export const SOCK_CLOEXEC = O_CLOEXEC;
/** /proc/net/tcp's state for a listening socket. */
export const TCP_LISTEN = 0x0a;

/** bpf(2) commands whose return value is a new fd. */
export const BPF_FD_COMMANDS: ReadonlySet<number> = new Set([0, 5, 7, 13, 14, 17, 18, 19, 28, 30, 32, 33, 36]);

// *at(2) calls: the dirfd meaning "relative to the working directory" (an int32; it arrives as an
// unsigned register value, so compare after `| 0`).
export const AT_FDCWD = -100;

// IP protocol numbers (socket(2)'s third argument).
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;

// statfs(2) f_type of pseudo filesystems: kernel interfaces, never a place for a file the agent writes.
export const PROC_SUPER_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;
export const CGROUP_SUPER_MAGIC = 0x27e0eb;
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const DEBUGFS_MAGIC = 0x64626720;
export const TRACEFS_MAGIC = 0x74726163;
export const SECURITYFS_MAGIC = 0x73636673;
export const BPF_FS_MAGIC = 0xcafe4a11;

/** The audit login uid of a process no login set one for ((uid_t)-1 in /proc/<pid>/loginuid). */
export const AUDIT_UID_UNSET = 0xffffffff;

// clone(2)'s low byte: the signal sent to the parent when the child exits, not a flag.
export const CSIGNAL = 0xff;

/**
 * The kernel's internal dev_t (major << 20 | minor, what inode->i_sb->s_dev holds) from the
 * st_dev that stat(2) returns (glibc's 64-bit encoding: minor's low byte, major's low 12 bits,
 * then the high bits of both).
 */
export const MINORBITS = 20;
export function kernelDevFromStat(stDev: bigint): number {
  const major = Number(((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & ~0xfffn));
  const minor = Number((stDev & 0xffn) | ((stDev >> 12n) & ~0xffn));
  return ((major << MINORBITS) | minor) >>> 0;
}

// mmap(2) and mprotect(2): protection and mapping bits.
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x1;
export const MAP_PRIVATE = 0x2;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;

// include/linux/sched.h: task_struct.flags bit of kernel threads (field 9 of /proc/<pid>/stat).
export const PF_KTHREAD = 0x00200000;
