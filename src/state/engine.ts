/**
 * The state engine: seeds the process table from /proc, keeps it current from events, and answers
 * `StateReader` questions. Per event it does one Map lookup plus number assignments; strings are
 * only decoded for the few event types that change names (exec, open, connect, …).
 */
import { statSync } from 'node:fs';
import type { EventView } from '../probe/event';
import { EVENT_TYPE_COUNT, EVENT_TYPES, eventTypeByName } from '../probe/event-types';
import { containerFromCgroupFile, containerFromCgroupPath, HOST_CONTAINER_ID, shortContainerId, unifiedCgroupPath } from './cgroup';
import type { StateConfig } from './config';
import type { ContainerRuntimeClient } from './containers/client';
import { CriClient } from './containers/cri';
import { DockerApiClient } from './containers/docker-api';
import { ContainerMetadataStore } from './containers/metadata';
import { atBase, type FdCounters, FdEntry, FdTable, resolvePath, unspecifiedAddress } from './fd-table';
import { createProcFdReader } from './proc-fds';
import { findCgroup2Mount, listProcesses, type ProcSnapshot, readCgroupText, readProcess } from './procfs';
import { ProcessEntry, ProcessTable } from './process-table';
import type { ContainerInfo, FdInfo, FdType, ProcessInfo, StateEngine, StateStats } from './types';
import { UserDb } from './users';

/** Minimal logger shape (pino's `Logger` satisfies it). */
export interface StateLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface StateEngineOptions {
  readonly config: StateConfig;
  /** Seed from /proc at creation (default true). */
  readonly seed?: boolean;
  readonly log?: StateLogger;
  /** Replaces the runtime clients built from config (tests). */
  readonly containerClients?: readonly ContainerRuntimeClient[];
}

/** `StateStats` plus the finer counters behind it. */
export interface StateEngineStats extends StateStats {
  readonly processEvictionsCapacity: number;
  readonly processEvictionsExpired: number;
  readonly processesAdded: number;
  readonly processesRemoved: number;
  readonly processForks: number;
  readonly processExits: number;
  readonly lazyProcReads: number;
  readonly fdEvictions: number;
  readonly userDbLoads: number;
  /** Sizes of the container-keyed caches, which the sweep returns to the live containers. */
  readonly containerCacheSlots: number;
  readonly containerHints: number;
  readonly containerPids: number;
  readonly userDbRoots: number;
  readonly cgroupCacheEntries: number;
}

const HOST_CONTAINER: ContainerInfo = Object.freeze({
  id: HOST_CONTAINER_ID,
  fullId: HOST_CONTAINER_ID,
  runtime: 'unknown',
  name: 'host',
  image: '',
  imageRepository: '',
  imageTag: '',
  imageDigest: '',
  privileged: false,
  mounts: Object.freeze([]),
  startTsNs: 0n,
  podName: '',
  podNamespace: '',
  podUid: '',
  podLabels: Object.freeze({}),
});

// Handler kinds, indexed by event type id.
const K_NONE = 0;
const K_EXEC = 1;
const K_FORK = 2;
const K_EXIT = 3;
const K_OPEN = 4;
const K_CLOSE = 5;
const K_DUP = 6;
const K_FCNTL = 7;
const K_CHDIR = 8;
const K_FCHDIR = 9;
const K_SOCKET = 10;
const K_CONNECT = 11;
const K_ACCEPT = 12;
const K_BIND = 13;
const K_MEMFD = 14;
const K_USERFAULTFD = 15;
const K_BPF = 16;
const K_SENDTO = 17;
const K_CREDS = 18;
const K_PRCTL = 19;
/** Synthesized events (drop markers): no process behind them. */
const K_META = 20;
const K_DROP = 21;

const KIND_BY_NAME: Readonly<Record<string, number>> = {
  execve: K_EXEC,
  execveat: K_EXEC,
  clone: K_FORK,
  clone3: K_FORK,
  fork: K_FORK,
  vfork: K_FORK,
  procexit: K_EXIT,
  open: K_OPEN,
  openat: K_OPEN,
  openat2: K_OPEN,
  creat: K_OPEN,
  close: K_CLOSE,
  dup: K_DUP,
  dup2: K_DUP,
  dup3: K_DUP,
  fcntl: K_FCNTL,
  chdir: K_CHDIR,
  fchdir: K_FCHDIR,
  socket: K_SOCKET,
  connect: K_CONNECT,
  accept: K_ACCEPT,
  accept4: K_ACCEPT,
  bind: K_BIND,
  memfd_create: K_MEMFD,
  userfaultfd: K_USERFAULTFD,
  bpf: K_BPF,
  sendto: K_SENDTO,
  sendmsg: K_SENDTO,
  setuid: K_CREDS,
  setgid: K_CREDS,
  setresuid: K_CREDS,
  setresgid: K_CREDS,
  capset: K_CREDS,
  prctl: K_PRCTL,
};

/**
 * Handled when they arrive but not worth subscribing to: sendto/sendmsg only refine UDP tuples,
 * and fcntl is frequent (F_GETFL/F_SETFL in every event loop) while only F_DUPFD/F_SETFD matter.
 */
const OPTIONAL_TYPES = new Set(['sendto', 'sendmsg', 'fcntl']);

const id = (name: string): number => eventTypeByName(name)!.id;
const T_CLONE = id('clone');
const T_CLONE3 = id('clone3');
const T_CREAT = id('creat');
const T_OPEN = id('open');
const T_DUP3 = id('dup3');
const T_ACCEPT4 = id('accept4');

const CLONE_THREAD = 0x10000;
const CLONE_PARENT = 0x8000;
const CLONE_NEWPID = 0x20000000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const O_CREAT_WRONLY_TRUNC = 0o1101;
const EBADF = -9;
const EINPROGRESS = -115;
const F_DUPFD = 0;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const MFD_CLOEXEC = 1;
const PR_SET_NAME = 15;
/** bpf() commands whose return value is a new fd. */
const BPF_FD_COMMANDS = new Set([0, 5, 7, 13, 14, 17, 18, 19, 28, 30, 32, 33, 36]);
const MAX_CGROUP_CACHE = 16384;
const MAX_CONTAINER_PIDS = 4096;
const MAX_RECENT_EXITS = 1024;
const RECENT_EXIT_WINDOW_NS = 1e9;
const DROP_SWEEP_MIN_INTERVAL_MS = 10_000;

function boundedEnv(env: readonly string[] | undefined, maxBytes: number, fallback: readonly string[]): readonly string[] {
  if (env === undefined) return fallback;
  if (maxBytes === 0) return [];
  let bytes = 0;
  let n = 0;
  for (; n < env.length; n++) {
    bytes += env[n]!.length + 1;
    if (bytes > maxBytes) break;
  }
  return n === env.length ? env : env.slice(0, n);
}

function socketFdType(domain: number): FdType {
  switch (domain) {
    case 1:
      return 'unix';
    case 2:
      return 'ipv4';
    case 10:
      return 'ipv6';
    case 16:
      return 'netlink';
    default:
      return 'unknown';
  }
}

function socketL4(fdType: FdType, sockType: number, proto: number): string {
  if (fdType !== 'ipv4' && fdType !== 'ipv6') return '';
  const icmp = proto === 1 || proto === 58;
  switch (sockType & 0xf) {
    case 1:
      return 'tcp';
    case 2:
      return icmp ? 'icmp' : 'udp';
    case 3:
      return icmp ? 'icmp' : 'raw';
    default:
      return '';
  }
}

class StateEngineImpl implements LannerStateEngine {
  readonly requiredEventTypes: ReadonlySet<string>;
  private readonly kinds = new Uint8Array(EVENT_TYPE_COUNT);
  private readonly table: ProcessTable;
  private readonly fdCounters: FdCounters = { total: 0, evicted: 0 };
  /** cgroup id → container id; null = this cgroup id does not decide (cgroup v1 containers). */
  private readonly cgroupCache = new Map<number, string | null>();
  /** A live process per container, to read its /etc/passwd. */
  private readonly containerPids = new Map<string, number>();
  /** tgid → exit time of the last exits, to ignore a parent-side fork report arriving late. */
  private readonly recentExits = new Map<number, number>();
  /**
   * Whether the caller's side of clones is arriving: only then can a child's exit come before the
   * clone that created it, so only then are recent exits worth remembering (the agent asks the
   * kernel for the caller's side only while a rule matches a clone type).
   */
  private seenCallerForks = false;
  private readonly containers: ContainerMetadataStore;
  private readonly users: UserDb;
  private readonly procRoot: string;
  private readonly cgroup2Mount: string | undefined;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private misses = 0;
  private forks = 0;
  private exits = 0;
  private lazyReads = 0;
  private lazyWindowStartMs = 0;
  private lazyWindowReads = 0;
  private lastSweepMs = 0;

  constructor(private readonly opts: StateEngineOptions) {
    const cfg = opts.config;
    this.procRoot = cfg.proc_root;
    for (const t of EVENT_TYPES) if (t.category === 'meta') this.kinds[t.id] = t.name === 'drop' ? K_DROP : K_META;
    for (const [name, kind] of Object.entries(KIND_BY_NAME)) {
      const t = eventTypeByName(name);
      if (t) this.kinds[t.id] = kind;
    }
    this.requiredEventTypes = new Set(Object.keys(KIND_BY_NAME).filter((n) => !OPTIONAL_TYPES.has(n) && eventTypeByName(n)));
    this.table = new ProcessTable(cfg.max_processes, this.procRoot, (e) => {
      this.fdCounters.total -= e.fds.size;
    });
    this.cgroup2Mount = findCgroup2Mount(this.procRoot);
    const clients = opts.containerClients ?? (cfg.containers.metadata ? this.clientsFromConfig(cfg) : []);
    this.containers = new ContainerMetadataStore({
      clients,
      maxEntries: cfg.containers.max_entries,
      negativeTtlMs: cfg.containers.negative_ttl_seconds * 1000,
      maxConcurrent: cfg.containers.max_concurrent_lookups,
      onError: (err, cid) => opts.log?.debug({ err: err.message, container: cid }, 'container metadata lookup failed'),
    });
    this.users = new UserDb({
      hostRoot: cfg.host_root,
      procRoot: this.procRoot,
      maxRoots: cfg.users.max_containers,
      refreshMs: cfg.users.refresh_seconds * 1000,
      pidOfContainer: (cid) => this.livePidOf(cid),
    });
    if (opts.seed !== false) this.seed();
    if (cfg.sweep_interval_seconds > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), cfg.sweep_interval_seconds * 1000);
      this.sweepTimer.unref();
    }
  }

  private clientsFromConfig(cfg: StateConfig): ContainerRuntimeClient[] {
    const t = cfg.containers.timeout_ms;
    return [
      ...cfg.containers.docker_sockets.map((s) => new DockerApiClient(s, s.includes('podman') ? 'podman' : 'docker', t)),
      ...cfg.containers.cri_sockets.map((s) => new CriClient(s, s.includes('crio') ? 'cri-o' : 'containerd', t)),
    ];
  }

  // ---- StateReader ----

  process(tgid: number): ProcessInfo | undefined {
    return this.table.get(tgid);
  }

  fd(tgid: number, fd: number): FdInfo | undefined {
    return this.table.get(tgid)?.fds.get(fd);
  }

  container(cid: string): ContainerInfo | undefined {
    if (cid === HOST_CONTAINER_ID) return HOST_CONTAINER;
    return this.containers.get(cid);
  }

  containerIdOfCgroup(cgroupId: number, tgid: number): string {
    if (cgroupId !== 0) {
      const cached = this.cgroupCache.get(cgroupId);
      if (typeof cached === 'string') return cached;
    }
    const text = readCgroupText(this.procRoot, tgid);
    if (text === '') return HOST_CONTAINER_ID;
    return this.resolveCgroupText(text, cgroupId);
  }

  userName(uid: number, containerId: string): string | undefined {
    return this.users.userName(uid, containerId);
  }

  groupName(gid: number, containerId: string): string | undefined {
    return this.users.groupName(gid, containerId);
  }

  // ---- events ----

  beforeRules(ev: EventView): void {
    const kind = this.kinds[ev.typeId]!;
    if (kind === K_FORK) return this.onFork(ev);
    if (kind === K_EXEC) return this.onExec(ev);
    if (kind === K_EXIT) {
      const p = this.table.get(ev.tgid);
      if (p) this.refresh(p, ev);
      return;
    }
    if (kind >= K_META) {
      if (kind === K_DROP) this.afterDrop();
      return;
    }
    const p = this.ensure(ev);
    if (kind === K_NONE || kind === K_CLOSE) return;
    const ret = ev.ret;
    switch (kind) {
      case K_OPEN:
        if (ret >= 0) this.onOpen(p, ev);
        return;
      case K_DUP:
        if (ret >= 0) this.dupFd(p, ev.rawArg(0) | 0, ret, ev.typeId === T_DUP3 && (ev.rawArg(2) & O_CLOEXEC) !== 0);
        return;
      case K_FCNTL:
        return this.onFcntl(p, ev);
      case K_CHDIR: {
        const path = ret === 0 ? ev.str(0) : undefined;
        if (path) p.cwd = path.startsWith('/') ? path : resolvePath(p.cwd || '/', path);
        return;
      }
      case K_FCHDIR: {
        const e = ret === 0 ? p.fds.get(ev.rawArg(0) | 0) : undefined;
        if (e && (e.type === 'directory' || e.type === 'file')) p.cwd = e.name;
        return;
      }
      case K_SOCKET:
        if (ret >= 0) {
          const domain = ev.rawArg(0);
          const type = socketFdType(domain);
          const sockType = ev.rawArg(1);
          this.addFd(p, new FdEntry(ret, type, '', '', socketL4(type, sockType, ev.rawArg(2)), 0, (sockType & O_CLOEXEC) !== 0));
        }
        return;
      case K_CONNECT:
        return this.onConnect(p, ev);
      case K_ACCEPT:
        if (ret >= 0) this.onAccept(p, ev);
        return;
      case K_BIND:
        if (ret === 0) this.onBind(p, ev);
        return;
      case K_MEMFD:
        if (ret >= 0) this.addFd(p, new FdEntry(ret, 'memfd', `memfd:${ev.str(0) ?? ''}`, ev.str(0) ?? '', '', 0, (ev.rawArg(1) & MFD_CLOEXEC) !== 0));
        return;
      case K_USERFAULTFD:
        if (ret >= 0) this.addFd(p, new FdEntry(ret, 'userfaultfd', '', '', '', 0, (ev.rawArg(0) & O_CLOEXEC) !== 0));
        return;
      case K_BPF:
        // The kernel always sets O_CLOEXEC on bpf fds.
        if (ret > 0 && BPF_FD_COMMANDS.has(ev.rawArg(0))) this.addFd(p, new FdEntry(ret, 'bpf', '', '', '', 0, true));
        return;
      case K_SENDTO:
        if (ret >= 0) this.onSendto(p, ev);
        return;
      case K_CREDS:
        if (ret === 0) {
          p.capEffective = ev.capEffective();
          p.capPermitted = ev.capPermitted();
        }
        return;
      case K_PRCTL:
        if (ret === 0 && ev.rawArg(0) === PR_SET_NAME) p.name = ev.comm();
        return;
    }
  }

  afterRules(ev: EventView): void {
    const kind = this.kinds[ev.typeId]!;
    if (kind === K_CLOSE) {
      if (ev.ret === EBADF) return;
      const p = this.table.get(ev.tgid);
      // close() releases the number even when it reports EINTR/EIO.
      if (p) p.fds.delete(ev.rawArg(0) | 0, this.fdCounters);
    } else if (kind === K_EXIT) {
      // The probe reports a process exit once, from the last thread of the group to leave, and
      // that need not be the leader (Go runtimes exit from any thread): the process is gone.
      if (this.table.remove(ev.tgid)) this.exits++;
      if (!this.seenCallerForks) return;
      if (this.recentExits.size >= MAX_RECENT_EXITS) this.recentExits.delete(this.recentExits.keys().next().value as number);
      this.recentExits.delete(ev.tgid);
      this.recentExits.set(ev.tgid, ev.tsNs);
    }
  }

  stats(): StateEngineStats {
    const c = this.table.counters;
    const m = this.containers.stats();
    return {
      processes: this.table.size,
      processCapacity: this.table.capacity,
      processEvictions: c.evictedCapacity + c.evictedExpired,
      processMisses: this.misses,
      fds: this.fdCounters.total,
      containers: m.entries,
      containerLookups: m.lookups,
      containerLookupFailures: m.failures,
      processEvictionsCapacity: c.evictedCapacity,
      processEvictionsExpired: c.evictedExpired,
      processesAdded: c.added,
      processesRemoved: c.removed,
      processForks: this.forks,
      processExits: this.exits,
      lazyProcReads: this.lazyReads,
      fdEvictions: this.fdCounters.evicted,
      userDbLoads: this.users.loads,
      containerCacheSlots: m.slots,
      containerHints: m.hints,
      containerPids: this.containerPids.size,
      userDbRoots: this.users.cachedRoots,
      cgroupCacheEntries: this.cgroupCache.size,
    };
  }

  /**
   * Drops entries whose process vanished without an exit event, then the state kept about
   * containers and cgroups none of the remaining processes belongs to; returns how many process
   * entries were dropped.
   */
  sweep(): number {
    this.lastSweepMs = Date.now();
    const n = this.table.sweep();
    this.sweepContainers();
    return n;
  }

  /**
   * Container-keyed state (metadata, cgroup hints, user tables, a pid per container) and the
   * cgroup id cache are filled as containers start, and nothing else would release them when a
   * container is gone: with containers coming and going they would grow to their bounds and stay
   * there. A container lives as long as one of its processes does, so whatever no process in the
   * table refers to goes. One pass over the table on the sweep's timer, never per event; a live
   * process the table does not hold (evicted) costs at most a fresh lookup later.
   */
  private sweepContainers(): void {
    const liveContainers = new Set<string>();
    const liveCgroups = new Set<number>();
    for (const e of this.table.values()) {
      liveContainers.add(e.containerId);
      liveCgroups.add(e.cgroupId);
    }
    const isLive = (cid: string): boolean => liveContainers.has(cid);
    for (const cid of this.containerPids.keys()) if (!isLive(cid)) this.containerPids.delete(cid);
    // A process that shows up in a dropped cgroup later costs one /proc read to resolve it again.
    for (const cgroupId of this.cgroupCache.keys()) if (!liveCgroups.has(cgroupId)) this.cgroupCache.delete(cgroupId);
    this.containers.retain(isLive);
    this.users.retain(isLive);
  }

  /** Lost events may include exits: sweep soon, but not on every drop marker of a drop storm. */
  private afterDrop(): void {
    if (Date.now() - this.lastSweepMs >= DROP_SWEEP_MIN_INTERVAL_MS) this.sweep();
  }

  /** Resolves when queued container lookups have finished (tests, shutdown). */
  containerLookupsIdle(): Promise<void> {
    return this.containers.idle();
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.containers.close();
  }

  // ---- process lifecycle ----

  private seed(): void {
    const inoByPath = new Map<string, number>();
    const fdReader = this.opts.config.seed_fds ? createProcFdReader(this.procRoot) : undefined;
    for (const tgid of listProcesses(this.procRoot)) {
      const snap = readProcess(tgid, { procRoot: this.procRoot, maxEnvBytes: this.opts.config.max_env_bytes });
      if (!snap) continue;
      const e = this.entryFromSnapshot(snap, 'proc');
      const v2 = unifiedCgroupPath(snap.cgroupText);
      let cgroupId = 0;
      if (v2 !== undefined && this.cgroup2Mount !== undefined) {
        // The kernel's cgroup id is the inode number of the cgroup's directory in cgroup2.
        cgroupId = inoByPath.get(v2) ?? 0;
        if (cgroupId === 0) {
          try {
            cgroupId = Number(statSync(`${this.cgroup2Mount}${v2}`).ino);
          } catch {
            cgroupId = 0;
          }
          inoByPath.set(v2, cgroupId);
        }
      }
      e.cgroupId = cgroupId;
      e.containerId = snap.cgroupText ? this.resolveCgroupText(snap.cgroupText, cgroupId) : HOST_CONTAINER_ID;
      this.noteContainerPid(e);
      this.table.insert(e);
      if (fdReader) for (const fd of fdReader.read(tgid, this.opts.config.max_fds_per_process)) e.fds.set(fd, this.fdCounters);
    }
  }

  private entryFromSnapshot(s: ProcSnapshot, origin: 'proc' | 'header'): ProcessEntry {
    const e = new ProcessEntry(s.tgid, origin, new FdTable(this.opts.config.max_fds_per_process), this.procRoot);
    e.ptgid = s.ptgid;
    e.name = s.name;
    e.exe = s.exe;
    e.exePath = s.exePath;
    e.args = s.args;
    e.cwd = s.cwd;
    e.tty = s.tty;
    e.sid = s.sid;
    e.vpgid = s.vpgid;
    e.vpid = s.vpid;
    e.uid = s.uid;
    e.gid = s.gid;
    e.euid = s.euid;
    e.loginuid = s.loginuid;
    e.startNs = s.startNs;
    e.capEffective = s.capEffective;
    e.capPermitted = s.capPermitted;
    e.pidNs = s.pidNs;
    e.mntNs = s.mntNs;
    e.env = s.env;
    e.exeFromMemfd = s.exeFromMemfd;
    return e;
  }

  /** The entry for the event's process, creating one on a miss. */
  private ensure(ev: EventView): ProcessEntry {
    const p = this.table.get(ev.tgid);
    if (p !== undefined) {
      this.refresh(p, ev);
      return p;
    }
    this.misses++;
    return this.createUnknown(ev);
  }

  /** A process we never saw start: /proc if it is still there (within budget), else the header. */
  private createUnknown(ev: EventView): ProcessEntry {
    const snap = this.takeLazyRead() ? readProcess(ev.tgid, { procRoot: this.procRoot, maxEnvBytes: this.opts.config.max_env_bytes }) : undefined;
    let e: ProcessEntry;
    if (snap) {
      e = this.entryFromSnapshot(snap, 'proc');
      e.cgroupId = ev.cgroupId;
      e.containerId = snap.cgroupText ? this.resolveCgroupText(snap.cgroupText, ev.cgroupId) : HOST_CONTAINER_ID;
      this.noteContainerPid(e);
    } else {
      e = new ProcessEntry(ev.tgid, 'header', new FdTable(this.opts.config.max_fds_per_process), this.procRoot);
      e.name = ev.comm();
      e.vpid = ev.vpid;
      e.pidNs = ev.pidNs;
      e.mntNs = ev.mntNs;
      e.capEffective = ev.capEffective();
      e.capPermitted = ev.capPermitted();
      e.cgroupId = -1;
    }
    this.refresh(e, ev);
    this.table.insert(e);
    return e;
  }

  private takeLazyRead(): boolean {
    const limit = this.opts.config.lazy_proc_reads_per_second;
    if (limit === 0) return false;
    const now = Date.now();
    if (now - this.lazyWindowStartMs >= 1000) {
      this.lazyWindowStartMs = now;
      this.lazyWindowReads = 0;
    }
    if (this.lazyWindowReads >= limit) return false;
    this.lazyWindowReads++;
    this.lazyReads++;
    return true;
  }

  /** Header fields every event carries: cheap to copy, and they heal missed setuid/reparenting. */
  private refresh(p: ProcessEntry, ev: EventView): void {
    p.uid = ev.uid;
    p.gid = ev.gid;
    p.euid = ev.euid;
    p.loginuid = ev.loginuid;
    if (ev.ptgid !== 0) p.ptgid = ev.ptgid;
    if (ev.tty !== 0) p.tty = ev.tty;
    // A negative id means "resolve now" (new entry, or an exec that may have changed it).
    if (p.cgroupId < 0 || (ev.cgroupId !== 0 && ev.cgroupId !== p.cgroupId)) {
      p.cgroupId = ev.cgroupId;
      p.containerId = this.containerIdOfCgroup(ev.cgroupId, p.tgid);
      this.noteContainerPid(p);
    }
  }

  private onFork(ev: EventView): void {
    const ret = ev.ret;
    if (ret === 0) {
      // Child side: the event's task is the new one.
      if (ev.tid !== ev.tgid) {
        this.ensure(ev); // a new thread of an existing process
        return;
      }
      const existing = this.table.get(ev.tgid);
      if (existing !== undefined && this.isThisChild(existing, ev.ptgid, ev.tsNs)) {
        // The parent side got here first (or the child already exec'd): same process.
        existing.vpid = ev.vpid;
        existing.pidNs = ev.pidNs;
        this.refresh(existing, ev);
        return;
      }
      const parent = this.table.get(ev.ptgid);
      this.createChild(ev.tgid, parent, ev.tsNs, ev.ptgid, ev);
      return;
    }
    const caller = this.ensure(ev);
    if (ret < 0) return;
    this.seenCallerForks = true;
    // Parent side. clone3's flags live in a struct the event does not carry, so its child is
    // left to the child-side event, as is any child of a caller inside a pid namespace (the
    // returned pid is namespace-relative there).
    if (ev.typeId === T_CLONE3 || ev.vpid !== ev.tgid) return;
    const flags = ev.typeId === T_CLONE ? ev.rawArg(0) : 0;
    if ((flags & CLONE_THREAD) !== 0) return;
    // A short-lived child may have run, exited and been removed before its parent's clone
    // returned; re-creating it here would leave an entry no exit will ever remove.
    const exitedAt = this.recentExits.get(ret);
    if (exitedAt !== undefined && Math.abs(ev.tsNs - exitedAt) < RECENT_EXIT_WINDOW_NS) return;
    const existing = this.table.get(ret);
    const parentTgid = (flags & CLONE_PARENT) !== 0 ? caller.ptgid : caller.tgid;
    if (existing !== undefined && this.isThisChild(existing, parentTgid, ev.tsNs)) return;
    const child = this.createChild(ret, caller, ev.tsNs, parentTgid, undefined);
    child.vpid = (flags & CLONE_NEWPID) !== 0 ? 1 : ret;
  }

  /**
   * Whether an entry already describes the child a fork reports (the other side's report came
   * first, or the child was already read from /proc) rather than an older process whose pid was
   * reused and whose exit we missed.
   */
  private isThisChild(e: ProcessEntry, parentTgid: number, forkTsNs: number): boolean {
    if (e.ptgid !== parentTgid) return false;
    if (e.origin === 'fork' || e.origin === 'exec') return true;
    return e.origin === 'proc' && e.startNs > forkTsNs - RECENT_EXIT_WINDOW_NS;
  }

  private createChild(tgid: number, parent: ProcessEntry | undefined, tsNs: number, ptgid: number, childEv: EventView | undefined): ProcessEntry {
    const fdCapacity = this.opts.config.max_fds_per_process;
    const child = new ProcessEntry(tgid, 'fork', parent ? new FdTable(fdCapacity, parent.fds) : new FdTable(fdCapacity), this.procRoot);
    if (parent) {
      child.inheritFrom(parent);
      this.fdCounters.total += child.fds.size;
    } else if (childEv) {
      this.misses++;
      child.name = childEv.comm();
      child.capEffective = childEv.capEffective();
      child.capPermitted = childEv.capPermitted();
      child.cgroupId = -1;
    }
    child.ptgid = ptgid;
    child.startNs = tsNs;
    child.vpid = tgid;
    if (childEv) {
      child.vpid = childEv.vpid;
      child.pidNs = childEv.pidNs;
      child.mntNs = childEv.mntNs;
      this.refresh(child, childEv);
    }
    this.table.insert(child);
    this.forks++;
    return child;
  }

  private onExec(ev: EventView): void {
    if (ev.ret < 0) {
      this.ensure(ev);
      return;
    }
    let p = this.table.get(ev.tgid);
    if (p === undefined) {
      this.misses++;
      p = new ProcessEntry(ev.tgid, 'exec', new FdTable(this.opts.config.max_fds_per_process), this.procRoot);
      p.cgroupId = -1;
      this.table.insert(p);
    } else if (p.origin === 'header') {
      this.table.setOrigin(p, 'exec');
    }
    const argv = ev.argv();
    const exePath = ev.exePath() ?? ev.str(0) ?? '';
    const preExecName = p.name;
    p.name = ev.comm();
    p.exe = argv !== undefined && argv.length > 0 ? argv[0]! : exePath;
    p.args = argv !== undefined && argv.length > 1 ? argv.slice(1) : [];
    p.exePath = exePath;
    const cwd = ev.cwd();
    if (cwd !== undefined) p.cwd = cwd;
    p.env = boundedEnv(ev.env(), this.opts.config.max_env_bytes, p.env);
    p.capEffective = ev.capEffective();
    p.capPermitted = ev.capPermitted();
    const flags = ev.exeFlags();
    p.exeWritable = (flags & 1) !== 0;
    p.exeUpperLayer = (flags & 2) !== 0;
    p.exeFromMemfd = (flags & 4) !== 0;
    p.vpid = ev.vpid;
    p.pidNs = ev.pidNs;
    p.mntNs = ev.mntNs;
    p.resetExeCache();
    p.fds.closeOnExec(this.fdCounters);
    // Runtimes move a container's first process into its cgroup between fork and exec, and with
    // cgroup v1 containers the v2 id does not even change: so when a runtime's init becomes the
    // container's first process, look its container up again. Any other exec keeps its cgroup,
    // which spares a /proc read per exec on hosts where the v2 id cannot tell containers apart.
    if (RUNTIME_INIT.test(preExecName)) p.cgroupId = -1;
    this.refresh(p, ev);
  }

  // ---- fds ----

  private addFd(p: ProcessEntry, e: FdEntry): void {
    p.fds.set(e, this.fdCounters);
  }

  private onOpen(p: ProcessEntry, ev: EventView): void {
    const t = ev.typeId;
    const flags = t === T_CREAT ? O_CREAT_WRONLY_TRUNC : t === T_OPEN ? ev.rawArg(1) : ev.rawArg(2);
    const raw = ev.str(0) ?? '';
    let name = raw;
    if (raw !== '' && !raw.startsWith('/')) {
      const base = t === T_CREAT || t === T_OPEN ? p.cwd || undefined : atBase(ev.rawArg(0), p.cwd, p.fds);
      if (base !== undefined) name = resolvePath(base, raw);
    }
    this.addFd(p, new FdEntry(ev.ret, (flags & O_DIRECTORY) !== 0 ? 'directory' : 'file', name, raw, '', flags, (flags & O_CLOEXEC) !== 0));
  }

  private dupFd(p: ProcessEntry, oldFd: number, newFd: number, cloexec: boolean): void {
    if (oldFd === newFd) return;
    const src = p.fds.get(oldFd);
    this.addFd(p, src ? src.dupAs(newFd, cloexec) : new FdEntry(newFd, 'unknown', '', '', '', 0, cloexec));
  }

  private onFcntl(p: ProcessEntry, ev: EventView): void {
    if (ev.ret < 0) return;
    const cmd = ev.rawArg(1);
    if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) {
      this.dupFd(p, ev.rawArg(0) | 0, ev.ret, cmd === F_DUPFD_CLOEXEC);
    } else if (cmd === F_SETFD) {
      const fd = ev.rawArg(0) | 0;
      const e = p.fds.get(fd);
      const cloexec = (ev.rawArg(2) & FD_CLOEXEC) !== 0;
      // The flag belongs to this process's table, the entry may be shared with a fork: replace it.
      if (e && e.cloexec !== cloexec) this.addFd(p, e.dupAs(fd, cloexec));
    }
  }

  /** The socket's entry, created when the socket predates what we saw (opened before start). */
  private socketEntry(p: ProcessEntry, fd: number, family: 'ipv4' | 'ipv6' | 'unix'): FdEntry {
    let e = p.fds.get(fd);
    if (e === undefined || (e.type !== family && e.type !== 'unknown' && e.type !== 'ipv4' && e.type !== 'ipv6' && e.type !== 'unix')) {
      e = new FdEntry(fd, family, '', '', family === 'unix' ? '' : 'tcp', 0, false);
      this.addFd(p, e);
    } else if (e.type === 'unknown') {
      e.type = family;
      if (family !== 'unix' && e.l4proto === '') e.l4proto = 'tcp';
    }
    return e;
  }

  private onConnect(p: ProcessEntry, ev: EventView): void {
    const sa = ev.sockaddr();
    if (sa === undefined || sa.family === 'other') return;
    const e = this.socketEntry(p, ev.rawArg(0) | 0, sa.family);
    if (sa.family === 'unix') {
      e.name = sa.address;
    } else {
      // The event carries only the peer: the local side is the bound address if we saw a bind.
      e.setTuple(e.boundIp || unspecifiedAddress(sa.family), e.boundPort, sa.address, sa.port, false);
    }
    e.connected = ev.ret === 0 || ev.ret === EINPROGRESS;
  }

  private onAccept(p: ProcessEntry, ev: EventView): void {
    const listener = p.fds.get(ev.rawArg(0) | 0);
    const sa = ev.sockaddr();
    const family: FdType = sa && sa.family !== 'other' ? sa.family : listener?.type ?? 'unknown';
    const cloexec = ev.typeId === T_ACCEPT4 && (ev.rawArg(3) & O_CLOEXEC) !== 0;
    const e = new FdEntry(ev.ret, family, '', '', family === 'ipv4' || family === 'ipv6' ? listener?.l4proto || 'tcp' : '', 0, cloexec);
    if ((family === 'ipv4' || family === 'ipv6') && sa) {
      e.setTuple(sa.address, sa.port, listener?.boundIp || unspecifiedAddress(family), listener?.boundPort ?? 0, true);
    } else if (family === 'unix') {
      e.name = listener?.name ?? '';
      e.isServer = true;
    }
    e.connected = true;
    this.addFd(p, e);
  }

  private onBind(p: ProcessEntry, ev: EventView): void {
    const sa = ev.sockaddr();
    if (sa === undefined || sa.family === 'other') return;
    const e = this.socketEntry(p, ev.rawArg(0) | 0, sa.family);
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
  private onSendto(p: ProcessEntry, ev: EventView): void {
    const e = p.fds.get(ev.rawArg(0) | 0);
    if (e === undefined || e.l4proto !== 'udp') return;
    const sa = ev.sockaddr();
    if (sa === undefined || (sa.family !== 'ipv4' && sa.family !== 'ipv6')) return;
    if (e.serverIp === sa.address && e.serverPort === sa.port && e.name !== '') return;
    e.setTuple(e.boundIp || unspecifiedAddress(sa.family), e.boundPort, sa.address, sa.port, false);
  }

  // ---- containers ----

  private resolveCgroupText(text: string, cgroupId: number): string {
    const found = containerFromCgroupFile(text);
    if (found) this.containers.noteContainer(found.fullId, found.runtime);
    const cid = found ? shortContainerId(found.fullId) : HOST_CONTAINER_ID;
    if (cgroupId > 0) {
      // The v2 id decides only when the v2 path itself names the container (or names none
      // while no v1 path does); with v1-only containers every member shares one v2 cgroup.
      const v2 = unifiedCgroupPath(text);
      const v2Found = v2 === undefined ? undefined : containerFromCgroupPath(v2);
      const decides = v2 !== undefined && v2Found?.fullId === found?.fullId;
      if (this.cgroupCache.size >= MAX_CGROUP_CACHE) this.cgroupCache.delete(this.cgroupCache.keys().next().value as number);
      this.cgroupCache.set(cgroupId, decides ? cid : null);
    }
    return cid;
  }

  private noteContainerPid(p: ProcessEntry): void {
    if (p.containerId === HOST_CONTAINER_ID) return;
    if (!this.containerPids.has(p.containerId) && this.containerPids.size >= MAX_CONTAINER_PIDS) {
      this.containerPids.delete(this.containerPids.keys().next().value as string);
    }
    this.containerPids.set(p.containerId, p.tgid);
  }

  private livePidOf(cid: string): number | undefined {
    const tgid = this.containerPids.get(cid);
    if (tgid !== undefined && this.table.get(tgid)?.containerId === cid) return tgid;
    for (const e of this.table.values()) {
      if (e.containerId === cid) {
        this.containerPids.set(cid, e.tgid);
        return e.tgid;
      }
    }
    return undefined;
  }
}

/** The engine with its finer statistics and maintenance hooks. */
export interface LannerStateEngine extends StateEngine {
  stats(): StateEngineStats;
  /** Drops entries whose process vanished without an exit event (also run on a timer and after drops). */
  sweep(): number;
  /** Resolves when queued container metadata lookups have finished. */
  containerLookupsIdle(): Promise<void>;
}

/** comm of an OCI runtime's container init before it execs the container's entry point. */
const RUNTIME_INIT = /^(runc|crun|libcrun|youki|runsc|kata)/;

export function createStateEngine(options: StateEngineOptions): LannerStateEngine {
  return new StateEngineImpl(options);
}
