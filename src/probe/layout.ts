/**
 * The record layout of `native/bpf/events.h`, mirrored for the decoder. Version 1.
 *
 * Every record: little-endian, 8-byte aligned, `size` = whole record (multiple of 8) so readers
 * step over types they do not know. Fixed 192-byte header, then a variable part addressed by six
 * `{u16 off, u16 len}` descriptors (offsets from the record start; 0/0 = absent). A test compares
 * these numbers with the compiled addon's `abi()`.
 *
 *   0 u64 ts_ns (CLOCK_BOOTTIME)   8 u32 size   12 u16 type   14 u16 flags
 *  16 u32 tid   20 u32 tgid   24 u32 ptgid   28 u32 cpu   32 u64 cgroup_id   40 s64 ret
 *  48 u32 uid   52 gid   56 euid   60 egid   64 loginuid   68 vpid   72 pid_ns   76 mnt_ns
 *  80 u32 tty   84 u32 exe_flags   88 u64 cap_eff   96 u64 cap_prm   104 s64 args[6]
 * 152 char comm[16]   168 desc[6] = str0, str1 (connect/accept: local sockaddr), sockaddr, argv, exe, cwd
 */
export const ABI_VERSION = 1;
export const HEADER_SIZE = 192;
export const MAX_RECORD = 32768;

export const OFF = {
  tsNs: 0,
  size: 8,
  type: 12,
  flags: 14,
  tid: 16,
  tgid: 20,
  ptgid: 24,
  cpu: 28,
  cgroupId: 32,
  ret: 40,
  uid: 48,
  gid: 52,
  euid: 56,
  egid: 60,
  loginuid: 64,
  vpid: 68,
  pidNs: 72,
  mntNs: 76,
  tty: 80,
  exeFlags: 84,
  capEff: 88,
  capPrm: 96,
  args: 104,
  comm: 152,
  desc: 168,
} as const;

/**
 * Slots by name. Calls without paths lend theirs: `data` shares str0 (recvfrom/sendto payload head),
 * `localSockaddr` shares str1 (connect and accept).
 */
export const SLOT = { str0: 0, data: 0, str1: 1, localSockaddr: 1, sockaddr: 2, argv: 3, exe: 4, cwd: 5 } as const;

/** Payload bytes the probe keeps from an I/O call (LNR_SNAPLEN). */
export const SNAPLEN = 80;

export const FLAG_TRUNCATED = 0x1;
export const FLAG_ENTER_STASH = 0x2;
export const FLAG_ARGV_TRUNCATED = 0x4;
/** An open reached an alias target: str1 holds the target's path (LNR_F_ALIASED). */
export const FLAG_ALIASED = 0x8;
/** Enforcement (native/bpf/lib/enforce.h): the kernel sent SIGKILL for a kill rule's match. */
export const FLAG_KILLED = 0x10;
/** A kill rule matched in the kernel but a safeguard or its rate limit held the kill back. */
export const FLAG_KILL_HELD = 0x20;
/** A kill rule matched in the kernel but the signal could not be sent. */
export const FLAG_KILL_FAILED = 0x40;
/** dup family: the kernel checked what the new fd is (LNR_F_FD_CHECKED), and it is a socket (LNR_F_FD_SOCKET). */
export const FLAG_FD_CHECKED = 0x80;
export const FLAG_FD_SOCKET = 0x100;

/** Alias target limits (LNR_ALIAS_MAX / LNR_ALIAS_PATH_LEN in events.h; the path excludes its NUL). */
export const ALIAS_MAX = 256;
export const ALIAS_PATH_LEN = 256;

/**
 * Path filter limits (LNR_PATH_PREFIX_MAX / _LEN, LNR_PATH_SUFFIX_MAX / _LEN and
 * LNR_PATH_FILTER_WINDOW in events.h): the open and change filters share the tables.
 */
export const PATH_PREFIX_MAX = 128;
export const PATH_PREFIX_LEN = 128;
export const PATH_SUFFIX_MAX = 64;
export const PATH_SUFFIX_LEN = 32;
/** Substrings the change filter searches paths for (LNR_PATH_NEEDLE_MAX / _LEN). */
export const PATH_NEEDLE_MAX = 16;
export const PATH_NEEDLE_LEN = 32;
/** Path filter process names, both filters together (LNR_FILTER_COMM_MAX, and LNR_COMM_LEN less the NUL). */
export const FILTER_COMM_MAX = 64;
export const COMM_NAME_MAX = 15;
/** Paths longer than this (bytes) always pass the filter. */
export const PATH_FILTER_WINDOW = 256;
