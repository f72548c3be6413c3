/**
 * The state engine: owns the process table and the fd counters, seeds them from /proc, keeps them
 * current from events and answers `StateReader` questions. This file is the dispatcher: per event
 * one Map lookup (the process) and a switch on the handler kind of the event's type, which hands
 * the event to the concern that owns it (process-events, fd-events); strings are only decoded for
 * the few event types that change names (exec, open, connect, …).
 */
import type { EventView } from '../probe/event';
import { EVENT_FAMILIES, EVENT_TYPE_COUNT, EVENT_TYPES, eventTypeByName } from '../probe/event-types';
import { EBADF } from '../probe/linux';
import type { StateConfig } from './config';
import { ContainerResolver } from './container-resolver';
import type { ContainerRuntimeClient } from './containers/client';
import {
  onAccept,
  onBind,
  onBpf,
  onClose,
  onConnect,
  onDup,
  onFcntl,
  onIoUringSetup,
  onMemfd,
  onOpen,
  onOpenByHandle,
  onPidfdGetfd,
  onPidfdOpen,
  onSendto,
  onSocket,
  onUserfaultfd,
} from './fd-events';
import type { FdCounters } from './fd-table';
import { onChdir, onCredsChange, onFchdir, onPrctl, onSetpgid, onSetsid, ProcessLifecycle } from './process-events';
import { type ProcessEntry, ProcessTable } from './process-table';
import { seedFromProc } from './seed';
import { StateSweeper } from './sweep';
import { WatchedHostNames, type ResolveName } from './host-names';
import type { ContainerInfo, FdInfo, ProcessInfo, StateEngine, StateStats } from './types';

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
  /** Replaces DNS for watched host names (tests). */
  readonly resolveName?: ResolveName;
  /** Names known without asking (the agent's Kubernetes service address). */
  readonly staticHosts?: ReadonlyMap<string, readonly string[]>;
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

/** The engine with its finer statistics and maintenance hooks. */
export interface LannerStateEngine extends StateEngine {
  stats(): StateEngineStats;
  /** Drops entries whose process vanished without an exit event (also run on a timer and after drops). */
  sweep(): number;
  /** Resolves when queued container metadata lookups have finished. */
  containerLookupsIdle(): Promise<void>;
  /** The DNS names the loaded rules compare addresses with; resolved now and refreshed. */
  watchHostNames(names: Iterable<string>): Promise<void>;
  /** Holds a container's first exec for its metadata (the engine's EvaluationGate); undefined when off. */
  readonly evaluationGate: ContainerStartGate | undefined;
}

/** The engine's EvaluationGate (src/engine), as the state provides it. */
export interface ContainerStartGate {
  readonly gatedEventTypes: readonly number[];
  readonly maxHoldMs: number;
  holdFor(ev: EventView): Promise<void> | undefined;
}

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
const K_PIDFD_OPEN = 20;
const K_PIDFD_GETFD = 21;
const K_IO_URING_SETUP = 22;
const K_OPEN_BY_HANDLE = 23;
const K_SETSID = 24;
const K_SETPGID = 25;
/** Synthesized events (drop markers): no process behind them. Kinds from here on are meta. */
const K_META = 26;
const K_DROP = 27;

const KIND_BY_NAME: Record<string, number> = {
  procexit: K_EXIT,
  close: K_CLOSE,
  fcntl: K_FCNTL,
  chdir: K_CHDIR,
  fchdir: K_FCHDIR,
  socket: K_SOCKET,
  connect: K_CONNECT,
  bind: K_BIND,
  memfd_create: K_MEMFD,
  userfaultfd: K_USERFAULTFD,
  bpf: K_BPF,
  sendto: K_SENDTO,
  sendmsg: K_SENDTO,
  prctl: K_PRCTL,
  pidfd_open: K_PIDFD_OPEN,
  pidfd_getfd: K_PIDFD_GETFD,
  io_uring_setup: K_IO_URING_SETUP,
  open_by_handle_at: K_OPEN_BY_HANDLE,
  setsid: K_SETSID,
  setpgid: K_SETPGID,
};
for (const n of EVENT_FAMILIES.exec) KIND_BY_NAME[n] = K_EXEC;
for (const n of EVENT_FAMILIES.fork) KIND_BY_NAME[n] = K_FORK;
for (const n of EVENT_FAMILIES.open) KIND_BY_NAME[n] = K_OPEN;
for (const n of EVENT_FAMILIES.dup) KIND_BY_NAME[n] = K_DUP;
for (const n of EVENT_FAMILIES.accept) KIND_BY_NAME[n] = K_ACCEPT;
for (const n of EVENT_FAMILIES.creds) KIND_BY_NAME[n] = K_CREDS;

/**
 * Handled when they arrive but not worth subscribing to: sendto/sendmsg only refine UDP tuples,
 * and fcntl is frequent (F_GETFL/F_SETFL in every event loop) while only F_DUPFD/F_SETFD matter.
 * The fds of pidfds, io_uring rings and files opened by handle matter only to a rule about those
 * calls (or their fds), which then subscribes to them itself.
 */
const OPTIONAL_TYPES = new Set(['sendto', 'sendmsg', 'fcntl', 'pidfd_open', 'pidfd_getfd', 'io_uring_setup', 'open_by_handle_at']);

class StateTracker implements LannerStateEngine {
  readonly requiredEventTypes: ReadonlySet<string>;
  private readonly kinds = new Uint8Array(EVENT_TYPE_COUNT);
  private readonly table: ProcessTable;
  private readonly fdCounters: FdCounters = { total: 0, evicted: 0 };
  private readonly containers: ContainerResolver;
  private readonly processes: ProcessLifecycle;
  private readonly sweeper: StateSweeper;
  private readonly hostNames: WatchedHostNames;
  /** The table's lookup, bound once (pidfd_getfd reads another process's fds). */
  private readonly processOf = (tgid: number): ProcessEntry | undefined => this.table.get(tgid);

  constructor(opts: StateEngineOptions) {
    const cfg = opts.config;
    for (const t of EVENT_TYPES) if (t.category === 'meta') this.kinds[t.id] = t.name === 'drop' ? K_DROP : K_META;
    for (const [name, kind] of Object.entries(KIND_BY_NAME)) {
      const t = eventTypeByName(name);
      if (t) this.kinds[t.id] = kind;
    }
    this.requiredEventTypes = new Set(Object.keys(KIND_BY_NAME).filter((n) => !OPTIONAL_TYPES.has(n) && eventTypeByName(n)));
    this.table = new ProcessTable(cfg.max_processes, cfg.proc_root, (e) => {
      this.fdCounters.total -= e.fds.size;
    });
    this.containers = new ContainerResolver({
      config: cfg,
      table: this.table,
      ...(opts.containerClients ? { clients: opts.containerClients } : {}),
      onLookupError: (err, cid) => opts.log?.debug({ err: err.message, container: cid }, 'container metadata lookup failed'),
    });
    this.processes = new ProcessLifecycle(this.table, this.fdCounters, this.containers, cfg);
    if (opts.seed !== false) seedFromProc(cfg, this.table, this.fdCounters, this.containers);
    this.sweeper = new StateSweeper(this.table, this.containers, cfg.sweep_interval_seconds);
    const dns = cfg.dns;
    this.hostNames = new WatchedHostNames({
      hostsFile: dns.hosts_file === '' ? '' : `${cfg.host_root}${dns.hosts_file}`,
      refreshMs: dns.refresh_seconds * 1000,
      timeoutMs: dns.timeout_ms,
      maxNames: dns.max_names,
      ...(opts.resolveName ? { resolve: opts.resolveName } : {}),
      ...(opts.staticHosts ? { staticHosts: opts.staticHosts } : {}),
    });
    const waitMs = cfg.containers.first_exec_wait_ms;
    this.evaluationGate =
      cfg.containers.metadata && waitMs > 0
        ? { gatedEventTypes: EVENT_FAMILIES.exec.map((n) => eventTypeByName(n)!.id), maxHoldMs: waitMs, holdFor: (ev) => this.holdForContainerStart(ev) }
        : undefined;
  }

  readonly evaluationGate: ContainerStartGate | undefined;

  /**
   * A runtime's init exec'ing a container's process (its first, or an exec'd one) waits until the
   * container's metadata is known: rules on `container_started` read its mounts and image then.
   */
  private holdForContainerStart(ev: EventView): Promise<void> | undefined {
    if (ev.ret < 0 || !this.processes.isRuntimeInit(ev.tgid)) return undefined;
    return this.containers.metadataSettled(ev.cgroupId, ev.tgid);
  }

  // ---- StateReader ----

  process(tgid: number): ProcessInfo | undefined {
    return this.table.get(tgid);
  }

  fd(tgid: number, fd: number): FdInfo | undefined {
    return this.table.get(tgid)?.fds.get(fd);
  }

  container(cid: string): ContainerInfo | undefined {
    return this.containers.container(cid);
  }

  containerIdOfCgroup(cgroupId: number, tgid: number): string {
    return this.containers.containerIdOfCgroup(cgroupId, tgid);
  }

  userName(uid: number, containerId: string): string | undefined {
    return this.containers.userName(uid, containerId);
  }

  groupName(gid: number, containerId: string): string | undefined {
    return this.containers.groupName(gid, containerId);
  }

  ipNames(ip: string): readonly string[] | undefined {
    return this.hostNames.namesOf(ip);
  }

  watchHostNames(names: Iterable<string>): Promise<void> {
    return this.hostNames.watch(names);
  }

  // ---- events ----

  beforeRules(ev: EventView): void {
    const kind = this.kinds[ev.typeId]!;
    if (kind === K_FORK) return this.processes.onFork(ev);
    if (kind === K_EXEC) return this.processes.onExec(ev);
    if (kind === K_EXIT) return this.processes.beforeExit(ev);
    if (kind >= K_META) {
      if (kind === K_DROP) this.sweeper.afterDrop();
      return;
    }
    const p = this.processes.ensure(ev);
    if (kind === K_NONE || kind === K_CLOSE) return;
    const ret = ev.ret;
    const fdCounters = this.fdCounters;
    // Handlers are called for successful calls only (fcntl and connect judge their own result).
    switch (kind) {
      case K_OPEN:
        if (ret >= 0) onOpen(p, ev, fdCounters);
        return;
      case K_DUP:
        if (ret >= 0) onDup(p, ev, fdCounters);
        return;
      case K_FCNTL:
        return onFcntl(p, ev, fdCounters);
      case K_CHDIR:
        if (ret === 0) onChdir(p, ev);
        return;
      case K_FCHDIR:
        if (ret === 0) onFchdir(p, ev);
        return;
      case K_SOCKET:
        if (ret >= 0) onSocket(p, ev, fdCounters);
        return;
      case K_CONNECT:
        return onConnect(p, ev, fdCounters);
      case K_ACCEPT:
        if (ret >= 0) onAccept(p, ev, fdCounters);
        return;
      case K_BIND:
        if (ret === 0) onBind(p, ev, fdCounters);
        return;
      case K_MEMFD:
        if (ret >= 0) onMemfd(p, ev, fdCounters);
        return;
      case K_USERFAULTFD:
        if (ret >= 0) onUserfaultfd(p, ev, fdCounters);
        return;
      case K_BPF:
        if (ret > 0) onBpf(p, ev, fdCounters);
        return;
      case K_SENDTO:
        if (ret >= 0) onSendto(p, ev);
        return;
      case K_CREDS:
        if (ret === 0) onCredsChange(p, ev);
        return;
      case K_PRCTL:
        if (ret === 0) onPrctl(p, ev);
        return;
      case K_SETSID:
        if (ret > 0) onSetsid(p);
        return;
      case K_SETPGID:
        if (ret === 0) onSetpgid(p, ev, this.processOf);
        return;
      case K_PIDFD_OPEN:
        if (ret >= 0) onPidfdOpen(p, ev, fdCounters);
        return;
      case K_PIDFD_GETFD:
        if (ret >= 0) onPidfdGetfd(p, ev, fdCounters, this.processOf);
        return;
      case K_IO_URING_SETUP:
        if (ret >= 0) onIoUringSetup(p, ev, fdCounters);
        return;
      case K_OPEN_BY_HANDLE:
        if (ret >= 0) onOpenByHandle(p, ev, fdCounters);
        return;
    }
  }

  afterRules(ev: EventView): void {
    const kind = this.kinds[ev.typeId]!;
    if (kind === K_CLOSE) {
      if (ev.ret === EBADF) return;
      const p = this.table.get(ev.tgid);
      if (p) onClose(p, ev, this.fdCounters);
    } else if (kind === K_EXIT) {
      this.processes.afterExit(ev);
    }
  }

  stats(): StateEngineStats {
    const t = this.table.counters;
    const c = this.containers.stats();
    const p = this.processes.stats();
    return {
      processes: this.table.size,
      processCapacity: this.table.capacity,
      processEvictions: t.evictedCapacity + t.evictedExpired,
      processMisses: p.misses,
      fds: this.fdCounters.total,
      containers: c.containers,
      containerLookups: c.lookups,
      containerLookupFailures: c.lookupFailures,
      processEvictionsCapacity: t.evictedCapacity,
      processEvictionsExpired: t.evictedExpired,
      processesAdded: t.added,
      processesRemoved: t.removed,
      processForks: p.forks,
      processExits: p.exits,
      lazyProcReads: p.lazyProcReads,
      fdEvictions: this.fdCounters.evicted,
      userDbLoads: c.userDbLoads,
      containerCacheSlots: c.cacheSlots,
      containerHints: c.hints,
      containerPids: c.containerPids,
      userDbRoots: c.userDbRoots,
      cgroupCacheEntries: c.cgroupCacheEntries,
    };
  }

  sweep(): number {
    return this.sweeper.sweep();
  }

  /** Resolves when queued container lookups have finished (tests, shutdown). */
  containerLookupsIdle(): Promise<void> {
    return this.containers.idle();
  }

  async close(): Promise<void> {
    this.sweeper.close();
    this.hostNames.close();
    this.containers.close();
  }
}

export function createStateEngine(options: StateEngineOptions): LannerStateEngine {
  return new StateTracker(options);
}
