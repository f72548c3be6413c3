/*
 * Lanner probe ABI: the record layout shared by the BPF program (probe.bpf.c), the addon and the
 * TypeScript decoder (src/probe/layout.ts). Included from BPF (after vmlinux.h) and from C++.
 *
 * Records are little-endian, 8-byte aligned and never packed, so JS reads them with typed arrays
 * at fixed offsets. `size` is the whole record (header + variable part) rounded up to 8, so a
 * reader steps by it and can skip types it does not know. Variable parts are addressed by
 * {u16 off, u16 len} descriptors relative to the record start; 0/0 means absent. Strings are
 * NUL-terminated in the record but `len` excludes the NUL.
 *
 * Bump LNR_ABI_VERSION on any layout change; captures record it and refuse to replay a mismatch.
 */
#ifndef LANNER_EVENTS_H
#define LANNER_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LNR_ABI_VERSION 1

/* Event type ids: the index in src/probe/event-types.ts (append-only; a test compares both). */
enum lnr_event_type {
	LNR_EVT_UNKNOWN = 0,
	LNR_EVT_EXECVE = 1,
	LNR_EVT_EXECVEAT = 2,
	LNR_EVT_CLONE = 3,
	LNR_EVT_CLONE3 = 4,
	LNR_EVT_FORK = 5,
	LNR_EVT_VFORK = 6,
	LNR_EVT_PROCEXIT = 7,
	LNR_EVT_OPEN = 8,
	LNR_EVT_OPENAT = 9,
	LNR_EVT_OPENAT2 = 10,
	LNR_EVT_CREAT = 11,
	LNR_EVT_CLOSE = 12,
	LNR_EVT_DUP = 13,
	LNR_EVT_DUP2 = 14,
	LNR_EVT_DUP3 = 15,
	LNR_EVT_FCNTL = 16,
	LNR_EVT_CHDIR = 17,
	LNR_EVT_FCHDIR = 18,
	LNR_EVT_SYMLINK = 19,
	LNR_EVT_SYMLINKAT = 20,
	LNR_EVT_LINK = 21,
	LNR_EVT_LINKAT = 22,
	LNR_EVT_UNLINK = 23,
	LNR_EVT_UNLINKAT = 24,
	LNR_EVT_RENAME = 25,
	LNR_EVT_RENAMEAT = 26,
	LNR_EVT_RENAMEAT2 = 27,
	LNR_EVT_MKDIR = 28,
	LNR_EVT_MKDIRAT = 29,
	LNR_EVT_RMDIR = 30,
	LNR_EVT_CHMOD = 31,
	LNR_EVT_FCHMOD = 32,
	LNR_EVT_FCHMODAT = 33,
	LNR_EVT_TRUNCATE = 34,
	LNR_EVT_FTRUNCATE = 35,
	LNR_EVT_MEMFD_CREATE = 36,
	LNR_EVT_SOCKET = 37,
	LNR_EVT_CONNECT = 38,
	LNR_EVT_ACCEPT = 39,
	LNR_EVT_ACCEPT4 = 40,
	LNR_EVT_BIND = 41,
	LNR_EVT_LISTEN = 42,
	LNR_EVT_SENDTO = 43,
	LNR_EVT_SENDMSG = 44,
	LNR_EVT_RECVFROM = 45,
	LNR_EVT_RECVMSG = 46,
	LNR_EVT_SETUID = 47,
	LNR_EVT_SETGID = 48,
	LNR_EVT_SETRESUID = 49,
	LNR_EVT_SETRESGID = 50,
	LNR_EVT_CAPSET = 51,
	LNR_EVT_PRCTL = 52,
	LNR_EVT_CHROOT = 53,
	LNR_EVT_UNSHARE = 54,
	LNR_EVT_SETNS = 55,
	LNR_EVT_MOUNT = 56,
	LNR_EVT_UMOUNT2 = 57,
	LNR_EVT_INIT_MODULE = 58,
	LNR_EVT_FINIT_MODULE = 59,
	LNR_EVT_BPF = 60,
	LNR_EVT_USERFAULTFD = 61,
	LNR_EVT_PTRACE = 62,
	LNR_EVT_PROCESS_VM_WRITEV = 63,
	LNR_EVT_KILL = 64,
	LNR_EVT_DROP = 65, /* synthesized in user space only */
	LNR_EVT_CHOWN = 66,
	LNR_EVT_LCHOWN = 67,
	LNR_EVT_FCHOWN = 68, /* str0: the path of the fd's file, walked in the kernel */
	LNR_EVT_FCHOWNAT = 69,
	LNR_EVT_MPROTECT = 70, /* shipped only when prot has PROT_EXEC (native/bpf/lib/mem_exec.h) */
	LNR_EVT_MMAP = 71, /* shipped only for PROT_EXEC with PROT_WRITE or MAP_ANONYMOUS (mem_exec.h) */
	LNR_EVT_PIDFD_OPEN = 72,
	LNR_EVT_PIDFD_GETFD = 73,
	LNR_EVT_PROCESS_VM_READV = 74,
	LNR_EVT_KEXEC_LOAD = 75,
	LNR_EVT_KEXEC_FILE_LOAD = 76,
	LNR_EVT_KEYCTL = 77,
	LNR_EVT_FSOPEN = 78,
	LNR_EVT_FSMOUNT = 79,
	LNR_EVT_MOVE_MOUNT = 80,
	LNR_EVT_OPEN_BY_HANDLE_AT = 81, /* str0: the opened file's path, walked from the new fd */
	LNR_EVT_IO_URING_SETUP = 82, /* args[2..5]: params.flags, sq_entries, cq_entries, features */
	LNR_EVT_IO_URING_ENTER = 83,
	LNR_EVT_IO_URING_REGISTER = 84,
	LNR_EVT_SETSID = 85,
	LNR_EVT_SETPGID = 86,
	LNR_EVT_COUNT = 87,
};

/* Record flags. */
#define LNR_F_TRUNCATED 0x1 /* some string/argv/path was cut to its cap */
#define LNR_F_ENTER_STASH 0x2 /* str0/sockaddr was captured at syscall entry (TOCTOU-safe) */
#define LNR_F_ARGV_TRUNC 0x4 /* argv hit max_argv_bytes */
#define LNR_F_ALIASED 0x8 /* open: str1 holds the path of an alias target the opened file is, or is under */
/* Enforcement (lib/enforce.h): a kill rule matched this open in the kernel and the task was sent
 * SIGKILL, or held back (a safeguard or the rule's rate limit), or the signal could not be sent. */
#define LNR_F_KILLED 0x10
#define LNR_F_KILL_HELD 0x20
#define LNR_F_KILL_FAILED 0x40
/* dup family: the kernel looked at what the new fd is (FD_CHECKED), and it is a socket (FD_SOCKET).
 * User space's fd table can be stale (a close it never saw, then a pipe() it does not trace reusing
 * the number): what the kernel says the fd is wins. */
#define LNR_F_FD_CHECKED 0x80
#define LNR_F_FD_SOCKET 0x100

/* exe_flags (same bits as EXE_* in src/probe/event.ts). */
#define LNR_EXE_WRITABLE 0x1
#define LNR_EXE_UPPER_LAYER 0x2
#define LNR_EXE_FROM_MEMFD 0x4

/* Variable-part descriptor slots. */
enum lnr_slot {
	LNR_SLOT_STR0 = 0,
	LNR_SLOT_DATA = 0, /* recvfrom/sendto (no path there): the first LNR_SNAPLEN bytes of the payload */
	LNR_SLOT_STR1 = 1, /* second path; for a successful exec: the environment, NUL separated */
	LNR_SLOT_LOCAL_SOCKADDR = 1, /* connect/accept (no second path there): the socket's local end, raw sockaddr */
	LNR_SLOT_SOCKADDR = 2, /* raw struct sockaddr bytes (family first) */
	LNR_SLOT_ARGV = 3, /* NUL-separated argv as in mm->arg_start..arg_end */
	LNR_SLOT_EXE = 4, /* absolute path of mm->exe_file */
	LNR_SLOT_CWD = 5, /* absolute cwd */
	LNR_SLOT_COUNT = 6,
};

struct lnr_desc {
	__u16 off;
	__u16 len;
};

/* The fixed header every record starts with: 192 bytes. Offsets are asserted below. */
struct lnr_hdr {
	__u64 ts_ns; /* bpf_ktime_get_boot_ns() */
	__u32 size; /* whole record incl. padding, multiple of 8 */
	__u16 type; /* enum lnr_event_type */
	__u16 flags; /* LNR_F_* */
	__u32 tid;
	__u32 tgid;
	__u32 ptgid; /* real_parent's tgid */
	__u32 cpu;
	__u64 cgroup_id; /* cgroup v2 id (unified hierarchy) */
	__s64 ret; /* syscall return value; exit status for procexit */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;
	__u32 vpid; /* tgid in the task's own pid namespace */
	__u32 pid_ns; /* inode of the task's active pid namespace */
	__u32 mnt_ns;
	__u32 tty; /* new_encode_dev() of the controlling tty, 0 = none */
	__u32 exe_flags; /* LNR_EXE_*, exec only */
	__u64 cap_eff;
	__u64 cap_prm;
	__s64 args[6]; /* raw syscall args */
	char comm[16];
	struct lnr_desc desc[LNR_SLOT_COUNT];
};

#define LNR_HDR_SIZE 192

/* Caps that bound every record; the scratch buffer is sized so that masked offsets stay in it. */
#define LNR_MAX_RECORD 32768
#define LNR_MAX_STR 4096 /* one string or path, incl. NUL */
#define LNR_MAX_SOCKADDR 128 /* sizeof(struct sockaddr_storage) */
#define LNR_MAX_ARGV 16384
/* Payload bytes kept from an I/O call (Falco's default snaplen): enough for a magic number or a
 * protocol greeting (evt.buffer), not for the data. */
#define LNR_SNAPLEN 80

/*
 * The kernel's interesting-syscall table: x86-64 syscall ids at [0, LNR_IA32_BASE), ia32 ids
 * (int 0x80 / compat tasks, their own numbering) at LNR_IA32_BASE + id. Not part of the record
 * layout (the ABI version does not cover it): only the probe and the addon index it.
 */
#define LNR_IA32_BASE 512
#define LNR_SYSCALL_TABLE 1024

/* Per-type counter slots: a power of two so BPF can bound the index with a mask. */
#define LNR_TYPE_SLOTS 128

/* Per-CPU kernel counters (summed by the addon). */
struct lnr_counters {
	__u64 seen; /* wanted after in-kernel filtering */
	__u64 emitted; /* written to the ring */
	__u64 drop_full; /* ring full (or above the pressure mark for low-priority types) */
	__u64 drop_big; /* record would exceed LNR_MAX_RECORD */
	__u64 drop_other; /* scratch/read failures */
	__u64 stash_miss; /* exit found no entry stash (e.g. attached mid-syscall) */
	__u64 seen_by_type[LNR_TYPE_SLOTS];
	__u64 drop_by_type[LNR_TYPE_SLOTS];
	/* Events the path filters (opens and path changes) kept in the kernel. Not a drop, and not in
	 * `seen`: seen == emitted + drop_* stays true for what is shipped. */
	__u64 filtered_path;
};

/*
 * Optional in-kernel path filters, compiled from the loaded rules (src/rules/path-filter.ts):
 *   - opens (open/openat/openat2/creat): an open ships when its path matches one of the open atoms
 *     (some only for opens that can write);
 *   - path changes (unlink, rename, link, symlink, mkdir, rmdir, chmod, chown, truncate and their
 *     *at forms), per event type: a call ships when one of its paths matches a change atom.
 * An atom is a prefix, an exact path, a suffix or a substring of the path as passed (as copied at syscall entry
 * for opens). Either filter also ships a call by a task whose name (its comm, or its thread group
 * leader's) is one of the names. Paths the kernel cannot judge byte by byte always ship. Each is
 * off while its .bss switch is 0.
 * Prefix bytes past `len` are zero so the kernel compares whole 8-byte words.
 */
#define LNR_PATH_PREFIX_MAX 128
#define LNR_PATH_PREFIX_LEN 128
#define LNR_PATH_SUFFIX_MAX 64
#define LNR_PATH_SUFFIX_LEN 32
/* Substrings (`contains`), searched in the paths of path changes and of opens that can write (not
 * of reads: the hot path). */
#define LNR_PATH_NEEDLE_MAX 16
#define LNR_PATH_NEEDLE_LEN 32
/* Process names: keys are the comm's 16 bytes, zero-padded after the name (at most 15 bytes). */
#define LNR_FILTER_COMM_MAX 64
#define LNR_COMM_LEN 16
/* Paths longer than this are always shipped (the normalisation check scans only this far). */
#define LNR_PATH_FILTER_WINDOW 256

struct lnr_path_prefix {
	__u32 len;
	__u32 exact; /* 1: the whole path, not a prefix */
	__u8 bytes[LNR_PATH_PREFIX_LEN];
};

struct lnr_path_suffix {
	__u32 len;
	__u32 pad;
	__u8 bytes[LNR_PATH_SUFFIX_LEN];
};

/*
 * Alias targets: files and directories the rules name, by inode, so that an open reaching one of
 * them by another name (a symlink, a symlinked directory, a hard link, /proc/<pid>/root/...) is
 * shipped with the target's path in str1. A file target matches the opened file itself (its path
 * is the target's, whatever link was opened); a directory target matches the opened file's
 * directory or the one above (the path is then the one walked from the file's dentry).
 */
#define LNR_ALIAS_MAX 256
#define LNR_ALIAS_PATH_LEN 256
/* How many directory levels above the opened file are looked up (dir targets only). */
#define LNR_ALIAS_DIR_LEVELS 2

struct lnr_alias_key {
	__u64 ino;
	__u32 dev; /* the kernel's dev_t: major << 20 | minor */
	__u32 pad;
};

struct lnr_alias_target {
	__u32 dir; /* 1: a directory target */
	__u32 len; /* path bytes, excl. NUL */
	char path[LNR_ALIAS_PATH_LEN];
};

/*
 * Enforcement (lib/enforce.h): the open paths (exact or prefix) whose successful open kills the
 * task, each naming the rule it enforces, and comm patterns (exemptions of a rule, or the
 * protected processes never killed). Sizes of the .bss tables in lib/maps.h.
 */
#define LNR_KILL_PATH_MAX 32
#define LNR_KILL_PATH_LEN 128 /* bytes, excl. NUL; compared 8 at a time */
#define LNR_KILL_RULE_MAX 16
#define LNR_KILL_NAME_MAX 32 /* exemption and protected names together: a u32 mask each */

#ifdef __cplusplus
#include <cstddef>
static_assert(sizeof(struct lnr_hdr) == LNR_HDR_SIZE, "lnr_hdr size");
static_assert(offsetof(struct lnr_hdr, args) == 104, "lnr_hdr args offset");
static_assert(offsetof(struct lnr_hdr, comm) == 152, "lnr_hdr comm offset");
static_assert(offsetof(struct lnr_hdr, desc) == 168, "lnr_hdr desc offset");
#endif

#endif /* LANNER_EVENTS_H */
