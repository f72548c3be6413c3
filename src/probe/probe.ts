/**
 * The kernel event source: the native probe behind the EventSource contract. Batches arrive on
 * the main thread (on the addon's poll timer, or woken by its reader thread in adaptive mode) into
 * one reused ArrayBuffer and are decoded in place.
 */
import type { EventBatch, EventSource, SourceStats } from './event';
import { EVENT_TYPES, EVENT_TYPE_COUNT, eventTypeByName } from './event-types';
import { BufferBatch } from './decoder';
import { nativePathFilter, type ChangeFilterSpec, type OpenFilterSpec } from './path-filter-spec';
import { ProbeError } from './probe-error';
import { loadAddon, type NativeAliasTarget, type NativeKillCounts, type NativeKillTables, type NativeProbe, type NativeProbeError, type NativeStats } from './native';
import { ALIAS_REFRESH_MS, resolveAliasTargets, sameAliasTargets, type AliasPath } from './alias-targets';

export interface ProbeOptions {
  /** Ring buffer size in bytes (rounded up to a power of two). */
  ringBytes?: number;
  /** JS batch buffer in bytes (>= 64 KiB). */
  batchBytes?: number;
  /** How often the ring is looked at (ms; default 10). */
  drainIntervalMs?: number;
  /**
   * Polled mode: a trickle (under a quarter of the batch buffer) waits for more while its oldest
   * record is younger than this, so a steady trickle costs fewer, larger deliveries. At most
   * drainIntervalMs (the default): every look drains.
   */
  drainMaxLatencyMs?: number;
  /**
   * ...only while records arrive at least this fast (per second, over the last 100 ms or more):
   * slower, a lone event (an alert on a quiet node) is read at the next look. Default 0: always.
   */
  drainGatherMinRate?: number;
  /** Cap for one string/path, incl. NUL (<= 4096). */
  maxStringBytes?: number;
  /** Cap for exec argv bytes (<= 16384). */
  maxArgvBytes?: number;
  /** Cap for the exec environment (str1 of exec records); argv + env share 16384 bytes. 0 = none. */
  maxEnvBytes?: number;
  /** Capture exec environments from the start (default true); see setExecEnvCapture. */
  execEnv?: boolean;
  /** Ship the caller's side of clone-family syscalls from the start (default true); see setCloneCallerEvents. */
  cloneCallerEvents?: boolean;
  /** Drop syscalls that failed (ret < 0) in the kernel. */
  dropFailedSyscalls?: boolean;
  /** Ship `close` only for fds whose creating event was shipped (or were marked with trackFd). */
  closeTrackedOnly?: boolean;
  /** Copy open paths and connect addresses at syscall entry (TOCTOU-safe; costs a sys_enter hook). */
  enterHooks?: boolean;
  /**
   * Types whose returned fd is remembered in the kernel so that its close is shipped (with
   * closeTrackedOnly). Default DEFAULT_TRACKED_FD_TYPES: sockets only, so a file open/close loop
   * ships one event per iteration instead of two.
   */
  trackFdTypes?: ReadonlySet<string>;
  /**
   * In-kernel open filter, off by default (null): see KernelEventSource.setOpenFilter. Only safe
   * when no loaded rule can match an open it drops.
   */
  openFilter?: OpenFilterSpec | null;
  /** Extra tgids to exclude besides this process. */
  selfTgids?: readonly number[];
  /** Event types to deliver from the start (default: all). */
  types?: ReadonlySet<string>;
  /** Force a wakeup when queued data crosses this fraction of the ring (adaptive reader, wait()). */
  wakeupFraction?: number;
  /**
   * Also wake the reader for a record written while it had caught up (lower latency at low rates),
   * resting `wakeupGapMs` after each wakeup so the rate stays bounded. Default off: a timer on the
   * main thread looks every drainIntervalMs.
   */
  adaptiveWakeup?: boolean;
  /** Rest after each adaptive wakeup (ms): at most 1000/gap wakeups per second. */
  wakeupGapMs?: number;
  /** Above this fraction of the ring only process events are written. 0 disables. */
  pressureFraction?: number;
  /** Batches handed to JS per wakeup before yielding to other I/O. */
  maxBatchesPerWake?: number;
}

export { validateOpenPathPrefixes, validatePathSuffixes, validateOpenFilterComms, type OpenPathPrefix, type OpenPathFilterEntry, type OpenFilterSpec, type ChangeFilterSpec, type PathSuffix } from './path-filter-spec';

export const DEFAULT_TRACKED_FD_TYPES: ReadonlySet<string> = new Set(['socket', 'accept', 'accept4']);

export { ProbeError };

/** Mask for the kernel's interesting table, indexed by event type id. */
export function typeMask(names: ReadonlySet<string> | undefined): Uint8Array {
  const mask = new Uint8Array(EVENT_TYPE_COUNT);
  if (names === undefined) {
    for (const t of EVENT_TYPES) if (t.category !== 'meta') mask[t.id] = 1;
    return mask;
  }
  for (const name of names) {
    const t = eventTypeByName(name);
    if (t && t.category !== 'meta') mask[t.id] = 1;
  }
  return mask;
}

/** Validates both filters, then hands them to the kernel in one update. */
function setNativePathFilters(probe: NativeProbe | undefined, open: OpenFilterSpec | null, change: ChangeFilterSpec | null): void {
  const nativeOpen = nativePathFilter(open);
  const nativeChange = nativePathFilter(change);
  try {
    probe?.setPathFilters(nativeOpen, nativeChange);
  } catch (err) {
    throw wrapNativeError(err);
  }
}

function wrapNativeError(err: unknown): ProbeError {
  const e = err as NativeProbeError;
  return new ProbeError(e.message, e.code ?? 'EIO', e.verifierLog);
}

export interface KernelEventSource extends EventSource {
  /** Raw kernel counters (for metrics and the drop self-alerts). */
  nativeStats(): NativeStats | null;
  /** Marks (tgid, fd) as known to user space so its close is shipped (closeTrackedOnly). */
  trackFd(tgid: number, fd: number, tracked: boolean): void;
  /**
   * In-kernel filter for open/openat/openat2/creat: when set, an open ships only when its absolute
   * path (as copied at syscall entry) starts with one of `prefixes` (or equals an exact one) or
   * ends with one of `suffixes`, byte for byte, or the task's name (its comm, or its thread group
   * leader's) is one of `comms`. A filtered open's fd is not
   * tracked, so its close is not shipped either. '/etc/shadow' also matches '/etc/shadowx': add
   * the trailing '/' for a directory. Relative paths, paths with '//', '/./' or '../' in them and
   * paths longer than PATH_FILTER_WINDOW bytes always ship. Without an entry copy (enterHooks off)
   * the kernel judges the path it reads from user memory at sys_exit. null turns it off (the
   * default). Counted in nativeStats().filteredByPath. Throws ProbeError EINVAL.
   */
  setOpenFilter(filter: OpenFilterSpec | null): void;
  /**
   * The same for path changes (unlink, rename, link, symlink, mkdir, rmdir, chmod, chown, truncate
   * and their *at forms), per event type in `types`: a call ships when one of its paths as passed
   * matches an atom, or its task is named; the other types ship. The same paths are never judged.
   * Both filters share the kernel's tables (PATH_PREFIX_MAX prefixes, PATH_SUFFIX_MAX suffixes,
   * FILTER_COMM_MAX names): setting one that does not fit beside the other throws ProbeError
   * E2BIG and leaves the kernel as it was. null turns it off (the default).
   */
  setChangeFilter(filter: ChangeFilterSpec | null): void;
  /**
   * The paths the rules name, resolved to inodes the kernel looks up at each successful open (see
   * src/probe/alias-targets.ts): an open reaching one by another name ships, whatever the open
   * filter says of the name used, with the target's path in str1 (FLAG_ALIASED). Re-resolved every
   * ALIAS_REFRESH_MS while the source runs. Returns how many targets the kernel holds and how many
   * paths did not fit. An empty list turns the lookups off.
   */
  setAliasTargets(paths: readonly AliasPath[]): { targets: number; overflow: number };
  /**
   * Whether successful execs carry their environment (EventView.env(), up to maxEnvBytes). Costs
   * every exec a copy of its environment, so the agent turns it on only while a rule reads proc.env.
   */
  setExecEnvCapture(on: boolean): void;
  /**
   * Whether a trickle may wait up to drainMaxLatencyMs for more (on by default). The agent turns it
   * off while a rule kills from user space: that kill waits for its event's delivery.
   */
  setGatherTrickles(on: boolean): void;
  /**
   * Whether clone/clone3/fork/vfork are also shipped from the caller's side (ret = the child's pid
   * or an error). The child's side (ret 0) always is, and is all the process table needs, so the
   * agent turns this on only while a rule matches one of these types: a quarter of a fork+exec's
   * events.
   */
  setCloneCallerEvents(on: boolean): void;
  /**
   * Kernel enforcement (native/bpf/lib/enforce.h, tables from src/enforce/kernel-tables.ts): a
   * successful open matching a kill path is sent SIGKILL before it returns. null turns it off.
   * Throws ProbeError (EINVAL, E2BIG) for tables the kernel cannot hold.
   */
  setKillTables(tables: NativeKillTables | null): void;
  /** The kernel's enforcement decisions since load, per rule slot (null once closed). */
  killCounts(): NativeKillCounts | null;
  /** Adds/removes a tgid from self-exclusion. */
  setSelf(tgid: number, excluded: boolean): void;
  /** Changes which types' returned fds are tracked for close shipping. */
  setTrackedFdTypes(names: ReadonlySet<string>): void;
  /** Drains once without the poller (tests, workers); returns the events delivered. */
  drainNow(onBatch: (batch: EventBatch) => void): number;
  /**
   * Worker-thread loop step (instead of start()): blocks up to `timeoutMs` for a kernel wakeup,
   * then drains everything queued. Returns the events delivered.
   */
  waitAndDrain(timeoutMs: number, onBatch: (batch: EventBatch) => void): number;
}

class NativeEventSource implements KernelEventSource {
  private probe: NativeProbe | undefined;
  private readonly buffer: ArrayBuffer;
  private readonly batch: BufferBatch;
  private readonly deliveredByType: number[] = new Array<number>(EVENT_TYPE_COUNT).fill(0);
  private delivered = 0;
  private batches = 0;
  private lastStats: NativeStats | null = null;
  private aliasPaths: readonly AliasPath[] = [];
  private aliasTargets: readonly NativeAliasTarget[] = [];
  private aliasTimer: NodeJS.Timeout | undefined;
  private openFilter: OpenFilterSpec | null;
  private changeFilter: ChangeFilterSpec | null = null;
  running = false;

  constructor(
    probe: NativeProbe,
    private readonly opts: ProbeOptions,
  ) {
    this.probe = probe;
    this.openFilter = opts.openFilter ?? null;
    this.buffer = new ArrayBuffer(Math.max(opts.batchBytes ?? 1 << 20, 1 << 16));
    this.batch = new BufferBatch(this.buffer);
  }

  private deliver(bytes: number, onBatch: (batch: EventBatch) => void): number {
    const n = this.batch.reset(bytes);
    if (n === 0) return 0;
    this.batch.countTypes(this.deliveredByType);
    this.delivered += n;
    this.batches++;
    onBatch(this.batch);
    return n;
  }

  async start(onBatch: (batch: EventBatch) => void): Promise<void> {
    const probe = this.probe;
    if (!probe) throw new ProbeError('the probe is closed', 'EBADF');
    if (this.running) return;
    try {
      probe.attach();
      probe.start(this.buffer, (bytes) => this.deliver(bytes, onBatch), this.opts.drainIntervalMs ?? 10, this.opts.maxBatchesPerWake ?? 4, this.opts.wakeupGapMs ?? 2, this.opts.drainMaxLatencyMs ?? 0, this.opts.drainGatherMinRate ?? 0);
    } catch (err) {
      throw wrapNativeError(err);
    }
    this.running = true;
  }

  drainNow(onBatch: (batch: EventBatch) => void): number {
    const probe = this.probe;
    if (!probe) return 0;
    probe.attach();
    let total = 0;
    for (;;) {
      const r = probe.read(this.buffer);
      total += this.deliver(r.bytes, onBatch);
      if (!r.more) return total;
    }
  }

  waitAndDrain(timeoutMs: number, onBatch: (batch: EventBatch) => void): number {
    const probe = this.probe;
    if (!probe) return 0;
    probe.attach();
    probe.wait(timeoutMs);
    return this.drainNow(onBatch);
  }

  setInterestingTypes(names: ReadonlySet<string>): void {
    this.probe?.setInterestingTypes(typeMask(names));
  }

  setOpenFilter(filter: OpenFilterSpec | null): void {
    setNativePathFilters(this.probe, filter, this.changeFilter);
    this.openFilter = filter;
  }

  setChangeFilter(filter: ChangeFilterSpec | null): void {
    setNativePathFilters(this.probe, this.openFilter, filter);
    this.changeFilter = filter;
  }

  setAliasTargets(paths: readonly AliasPath[]): { targets: number; overflow: number } {
    this.aliasPaths = paths;
    const resolved = this.pushAliasTargets(true);
    if (paths.length === 0) {
      clearInterval(this.aliasTimer);
      this.aliasTimer = undefined;
    } else if (this.aliasTimer === undefined) {
      // A replaced file gets a new inode; until the next look the old one is what a link reaches.
      this.aliasTimer = setInterval(() => {
        try {
          this.pushAliasTargets(false);
        } catch {
          // The probe closed under us, or the kernel refused: the next set call reports it.
        }
      }, ALIAS_REFRESH_MS);
      this.aliasTimer.unref();
    }
    return resolved;
  }

  private pushAliasTargets(always: boolean): { targets: number; overflow: number } {
    const { targets, overflow } = resolveAliasTargets(this.aliasPaths);
    if (always || !sameAliasTargets(targets, this.aliasTargets)) {
      try {
        this.probe?.setAliasTargets(targets);
      } catch (err) {
        throw wrapNativeError(err);
      }
      this.aliasTargets = targets;
    }
    return { targets: targets.length, overflow };
  }

  trackFd(tgid: number, fd: number, tracked: boolean): void {
    this.probe?.trackFd(tgid, fd, tracked);
  }

  setExecEnvCapture(on: boolean): void {
    this.probe?.setExecEnvCapture(on);
  }

  setGatherTrickles(on: boolean): void {
    this.probe?.setGatherTrickles(on);
  }

  setCloneCallerEvents(on: boolean): void {
    this.probe?.setCloneCallerEvents(on);
  }

  setKillTables(tables: NativeKillTables | null): void {
    try {
      this.probe?.setKillTables(tables);
    } catch (err) {
      throw wrapNativeError(err);
    }
  }

  killCounts(): NativeKillCounts | null {
    return this.probe?.killCounts() ?? null;
  }

  setSelf(tgid: number, excluded: boolean): void {
    this.probe?.setSelf(tgid, excluded);
  }

  setTrackedFdTypes(names: ReadonlySet<string>): void {
    this.probe?.setTrackedFdTypes(typeMask(names));
  }

  nativeStats(): NativeStats | null {
    const s = this.probe?.stats() ?? null;
    if (s) this.lastStats = s;
    return this.lastStats;
  }

  stats(): SourceStats {
    const k = this.nativeStats();
    return {
      seen: k?.seen ?? 0,
      delivered: this.delivered,
      droppedRingFull: k?.dropFull ?? 0,
      droppedTooLarge: k?.dropBig ?? 0,
      droppedOther: k?.dropOther ?? 0,
      batches: this.batches,
      trickleWaits: k?.coalescedLooks ?? 0,
      deliveredByType: this.deliveredByType.slice(),
      droppedByType: k ? k.dropByType.slice(0, EVENT_TYPE_COUNT) : new Array<number>(EVENT_TYPE_COUNT).fill(0),
    };
  }

  async close(): Promise<void> {
    const probe = this.probe;
    if (!probe) return;
    this.nativeStats();
    clearInterval(this.aliasTimer);
    this.aliasTimer = undefined;
    this.running = false;
    this.probe = undefined;
    probe.stop();
    probe.close();
  }
}

/**
 * Loads and attaches nothing yet: `start()` attaches and begins delivery. Throws ProbeError with
 * code EPERM (capabilities), ENOBTF, EVERIFIER (with verifierLog) or ENOADDON.
 */
export async function openProbe(options: ProbeOptions = {}): Promise<KernelEventSource> {
  let probe: NativeProbe;
  try {
    const addon = loadAddon();
    probe = new addon.Probe({
      ringBytes: options.ringBytes,
      maxStringBytes: options.maxStringBytes,
      maxArgvBytes: options.maxArgvBytes,
      maxEnvBytes: options.maxEnvBytes,
      dropFailed: options.dropFailedSyscalls,
      closeTrackedOnly: options.closeTrackedOnly,
      enterHooks: options.enterHooks,
      wakeupFraction: options.wakeupFraction,
      pressureFraction: options.pressureFraction,
      adaptiveWakeup: options.adaptiveWakeup,
      selfTgids: [process.pid, ...(options.selfTgids ?? [])],
    });
    probe.setInterestingTypes(typeMask(options.types));
    probe.setTrackedFdTypes(typeMask(options.trackFdTypes ?? DEFAULT_TRACKED_FD_TYPES));
    probe.setExecEnvCapture(options.execEnv ?? true);
    probe.setCloneCallerEvents(options.cloneCallerEvents ?? true);
  } catch (err) {
    throw wrapNativeError(err);
  }
  try {
    setNativePathFilters(probe, options.openFilter ?? null, null);
  } catch (err) {
    probe.close();
    throw err;
  }
  return new NativeEventSource(probe, options);
}
