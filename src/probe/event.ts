/**
 * The event contract between event sources (the kernel probe, a capture replay, synthetic test
 * events) and everything downstream (process/fd state, field extraction, the rule engine).
 *
 * Events are flyweights: a source hands out views over a reused batch buffer, valid only until
 * the batch callback returns. Anything that must outlive the batch calls `copy()`. Accessors that
 * would allocate (strings, argv, addresses) are methods so that nothing is decoded unless a rule
 * or the state table asks for it.
 */

/** How a parameter is interpreted and rendered (`evt.arg.<name>` is text; `evt.rawarg.<name>` is the number). */
export type ParamKind =
  | 'errno' // return value: >= 0 success, < 0 negated errno
  | 'fd' // a file descriptor number (renders with the fd's name when known)
  | 'pid'
  | 'uid'
  | 'gid'
  | 'int' // signed integer
  | 'uint' // unsigned integer
  | 'path' // absolute path where the kernel allowed resolving it
  | 'string'
  | 'open_flags' // O_* bit set
  | 'mode' // permission bits, rendered octal
  | 'sockaddr' // socket address (family, ip, port, or unix path)
  | 'socket_family' // AF_*
  | 'socket_type' // SOCK_*
  | 'ptrace_request' // PTRACE_*
  | 'clone_flags' // CLONE_*
  | 'mount_flags' // MS_*
  | 'umount_flags' // MNT_*
  | 'bpf_cmd' // BPF_PROG_LOAD, …
  | 'prctl_option' // PR_*
  | 'signal' // SIGKILL, …
  | 'ns_flags' // CLONE_NEW* for setns/unshare
  | 'memfd_flags' // MFD_*
  | 'fcntl_cmd'
  | 'at_flags' // AT_* for *at syscalls
  | 'rename_flags' // RENAME_*
  | 'module_flags'
  | 'cap_set' // capability bit mask (u64)
  | 'exe_flags' // EXE_WRITABLE | EXE_UPPER_LAYER | EXE_FROM_MEMFD
  | 'uint32' // an unsigned 32-bit value (chown's uid/gid: -1, "unchanged", reads 4294967295)
  | 'hex' // an address or bit set libsinsp prints in hex
  | 'prot_flags' // PROT_*
  | 'mmap_flags' // MAP_*
  | 'keyctl_op'; // KEYCTL_*

/** Where a parameter's value lives in the record. */
export type ParamSource =
  | { readonly from: 'ret' }
  | { readonly from: 'arg'; readonly index: number }
  | { readonly from: 'str'; readonly slot: 0 | 1 }
  | { readonly from: 'sockaddr' }
  | { readonly from: 'exe_flags' };

export interface ParamSpec {
  /** Falco's parameter name, so `evt.arg.<name>` in stock rules finds it. */
  readonly name: string;
  readonly kind: ParamKind;
  readonly source: ParamSource;
}

export interface EventTypeSpec {
  /** Dense index, also the kernel-side event type id. */
  readonly id: number;
  /** Name as Falco spells it in `evt.type`. */
  readonly name: string;
  /** `syscall` events come from sys_exit; `process` from scheduler tracepoints; `meta` is synthesized. */
  readonly category: 'syscall' | 'process' | 'meta';
  /** Parameters in Falco's order (so `evt.arg[i]` works). */
  readonly params: readonly ParamSpec[];
}

export interface SockAddr {
  /** 'ipv4' | 'ipv6' | 'unix' | 'other' */
  readonly family: 'ipv4' | 'ipv6' | 'unix' | 'other';
  /** Dotted/colon text for IP families, path for unix ('' when abstract or unnamed). */
  readonly address: string;
  /** Port for IP families, 0 otherwise. */
  readonly port: number;
}

export interface EventView {
  /** Index into the event type table (`EVENT_TYPES[typeId]`). */
  readonly typeId: number;
  /** Kernel monotonic (boot-relative) timestamp in ns; exact as a double for ~104 days of uptime. */
  readonly tsNs: number;
  readonly cpu: number;
  readonly tid: number;
  /** Thread group id (the process id). */
  readonly tgid: number;
  /** Parent's tgid at the time of the event (real_parent). */
  readonly ptgid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  /** Audit login uid; 4294967295 (unset) is reported as -1. */
  readonly loginuid: number;
  /** Syscall return value (negated errno on failure); 0 for process events. */
  readonly ret: number;
  /** cgroup v2 id of the task (0 when unavailable). */
  readonly cgroupId: number;
  /** Inode numbers of the pid and mount namespaces. */
  readonly pidNs: number;
  readonly mntNs: number;
  /** pid as seen inside the task's own pid namespace. */
  readonly vpid: number;
  /** Controlling tty device number, 0 when none. */
  readonly tty: number;
  /** Some variable-length part was cut to fit the record. */
  readonly truncated: boolean;

  /** What the kernel's enforcement did at this open (FLAG_KILLED, FLAG_KILL_HELD, FLAG_KILL_FAILED bits; 0: nothing). */
  killFlags(): number;
  /**
   * dup family: whether the new fd is a socket, as the kernel saw its inode; undefined when the
   * record does not say (synthetic events, captures from older probes).
   */
  dupTargetIsSocket(): boolean | undefined;
  /** Kernel `comm` (≤ 15 chars). */
  comm(): string;
  /** The syscall's i-th raw argument (0..5) as an integer; pointers are meaningless here. */
  rawArg(index: number): number;
  /** String slot 0 or 1 (paths resolved to absolute form where the probe could, and normalised). */
  str(slot: 0 | 1): string | undefined;
  /**
   * String slot 0 or 1 as the probe captured it: a path keeps its `//`, `.` and `..` components
   * (Falco's `fd.nameraw`, which directory-traversal rules read).
   */
  strRaw(slot: 0 | 1): string | undefined;
  /** Socket address carried by connect/accept/bind/sendto/recvfrom… */
  sockaddr(): SockAddr | undefined;
  /** connect/accept: the socket's local end as the kernel bound it (inet sockets only). */
  localSockaddr(): SockAddr | undefined;
  /** recvfrom/sendto: the first bytes of the payload (at most SNAPLEN); a view valid as long as the event. */
  ioData(): Uint8Array | undefined;
  /** Effective capability mask of the task at event time. */
  capEffective(): bigint;
  /** Permitted capability mask of the task at event time. */
  capPermitted(): bigint;

  /* Exec-only (execve/execveat success); undefined on other events. */
  argv(): readonly string[] | undefined;
  /** The argv area as the kernel stores it ("a\0b\0"): decoded, not split (see `splitNulSeparated`). */
  argvText(): string | undefined;
  /** Kernel-resolved path of the executable (mm->exe_file). */
  exePath(): string | undefined;
  /** Current working directory of the task, when the record carries it. */
  cwd(): string | undefined;
  /** EXE_WRITABLE=1 | EXE_UPPER_LAYER=2 | EXE_FROM_MEMFD=4 (exec only, 0 otherwise). */
  exeFlags(): number;
  /** Environment (`K=V` entries) when captured, exec only. */
  env(): readonly string[] | undefined;
  /** The environment area as the kernel stores it, not split; undefined whenever `env()` is. */
  envText(): string | undefined;

  /** A detached copy that stays valid after the batch buffer is reused. */
  copy(): EventView;
}

/**
 * "a\0b\0" → ["a", "b"]: the argv and environment areas as the kernel stores them. An exec keeps
 * them as text and splits on first read: most argv and environments are never read by a rule.
 */
export function splitNulSeparated(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The inverse of `splitNulSeparated`. */
export function joinNulSeparated(items: readonly string[]): string {
  let text = '';
  for (const item of items) text += item + '\0';
  return text;
}

export const EXE_WRITABLE = 1;
export const EXE_UPPER_LAYER = 2;
export const EXE_FROM_MEMFD = 4;

/** Counters an event source keeps; every lost event is counted in exactly one of the drop fields. */
export interface SourceStats {
  /** Events the kernel program saw and wanted (after in-kernel filtering). */
  readonly seen: number;
  /** Events delivered to JS. */
  readonly delivered: number;
  /** Lost because the ring buffer was full. */
  readonly droppedRingFull: number;
  /** Lost because the record was larger than the maximum record size. */
  readonly droppedTooLarge: number;
  /** Lost because the per-CPU scratch space was exhausted or a kernel read failed. */
  readonly droppedOther: number;
  /** Batches handed to JS. */
  readonly batches: number;
  /** Looks at the ring that found only a trickle and left it to gather more (probe.drain_max_latency_ms). */
  readonly trickleWaits: number;
  /** Per event type counts of events delivered, indexed by typeId. */
  readonly deliveredByType: readonly number[];
  /** Per event type counts of ring-full drops, indexed by typeId. */
  readonly droppedByType: readonly number[];
}

/** One batch: iterate with the cursor; views are valid until the callback returns. */
export interface EventBatch {
  readonly count: number;
  /** Calls `fn` for each event in order, reusing one view object. */
  forEach(fn: (ev: EventView) => void): void;
}

export interface EventSource {
  /** Starts delivering batches; resolves once attached/opened. */
  start(onBatch: (batch: EventBatch) => void): Promise<void>;
  /** Restricts delivery to these event type names (kernel-side filtering where supported). */
  setInterestingTypes(names: ReadonlySet<string>): void;
  stats(): SourceStats;
  /** True while attached and delivering. */
  readonly running: boolean;
  /** Idempotent; resolves when no further batch will be delivered. */
  close(): Promise<void>;
}
