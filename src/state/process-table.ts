/**
 * The process table: one entry per thread group, bounded. Exits remove entries; when the table is
 * full, entries that are only known from an event header or whose /proc directory is gone go
 * first, then the oldest.
 */
import { existsSync, statSync } from 'node:fs';
import { FdTable } from './fd-table';
import { splitNulSeparated } from '../probe/event';
import type { ProcessInfo } from './types';

/** How an entry came to be: from /proc, from a fork/exec event, or guessed from an event header. */
export type ProcessOrigin = 'proc' | 'fork' | 'exec' | 'header';

export class ProcessEntry implements ProcessInfo {
  tgid: number;
  ptgid = 0;
  name = '';
  exePath = '';
  cwd = '';
  tty = 0;
  sid = 0;
  vpgid = 0;
  vpid = 0;
  uid = 0;
  gid = 0;
  euid = 0;
  loginuid = -1;
  startNs = 0;
  containerId = 'host';
  capEffective = 0n;
  capPermitted = 0n;
  exeWritable = false;
  exeUpperLayer = false;
  exeFromMemfd = false;
  pidNs = 0;
  mntNs = 0;
  /** cgroup v2 id the container id was derived from (0 = not known). */
  cgroupId = 0;
  origin: ProcessOrigin;
  fds: FdTable;
  private exeTimes: { ctime: bigint; mtime: bigint } | undefined;
  /**
   * An exec's argv and environment as the kernel stores them ("a\0b\0"), split on first read:
   * splitting costs an array and a string per item, and most are never read (a fork copies the
   * text, an exec replaces it). undefined once split, or when set whole.
   */
  private argvText: string | undefined;
  private envText: string | undefined;
  private exeValue = '';
  private argsValue: readonly string[] = [];
  /** argsLine once read (null: not yet); rules read proc.cmdline on every exec, often several times. */
  private argsLineValue: string | undefined | null = null;
  private envValue: readonly string[] = [];

  constructor(
    tgid: number,
    origin: ProcessOrigin,
    fds: FdTable,
    private readonly procRoot: string,
  ) {
    this.tgid = tgid;
    this.origin = origin;
    this.fds = fds;
  }

  /** argv[0] as the process gave it (the exe path when argv was empty). */
  get exe(): string {
    if (this.argvText !== undefined) this.splitArgv();
    return this.exeValue;
  }
  set exe(exe: string) {
    if (this.argvText !== undefined) this.splitArgv();
    this.exeValue = exe;
  }
  /** argv[1..]. */
  get args(): readonly string[] {
    if (this.argvText !== undefined) this.splitArgv();
    return this.argsValue;
  }
  set args(args: readonly string[]) {
    if (this.argvText !== undefined) this.splitArgv();
    this.argsValue = args;
    this.argsLineValue = null;
  }
  get argsLine(): string | undefined {
    if (this.argsLineValue === null) {
      this.argsLineValue = this.argvText !== undefined ? argsLineOf(this.argvText) : this.argsValue.length > 0 ? this.argsValue.join(' ') : undefined;
    }
    return this.argsLineValue;
  }
  /** `K=V` entries, when the exec carried its environment. */
  get env(): readonly string[] {
    if (this.envText !== undefined) {
      this.envValue = splitNulSeparated(this.envText);
      this.envText = undefined;
    }
    return this.envValue;
  }
  set env(env: readonly string[]) {
    this.envText = undefined;
    this.envValue = env;
  }

  /** An exec's argv area (undefined: none recorded) and resolved executable path. */
  setArgvText(text: string | undefined, exePath: string): void {
    this.exePath = exePath;
    this.exeValue = exePath;
    this.argsValue = [];
    this.argsLineValue = null;
    this.argvText = text === undefined || text === '' ? undefined : text;
  }

  /** An exec's environment area, not split until read. */
  setEnvText(text: string): void {
    this.envText = text;
  }

  private splitArgv(): void {
    const argv = splitNulSeparated(this.argvText!);
    this.argvText = undefined;
    if (argv.length > 0) this.exeValue = argv[0]!;
    this.argsValue = argv.length > 1 ? argv.slice(1) : [];
  }

  /** Inode times are only rendered in outputs: stat the live executable on first ask. */
  get exeCtimeNs(): bigint {
    return this.statExe().ctime;
  }
  get exeMtimeNs(): bigint {
    return this.statExe().mtime;
  }

  /** A new image was executed: forget what was cached about the old one. */
  resetExeCache(): void {
    this.exeTimes = undefined;
  }

  private statExe(): { ctime: bigint; mtime: bigint } {
    if (this.exeTimes === undefined) {
      try {
        // Through /proc/<pid>/exe: the path may live in another mount namespace.
        const st = statSync(`${this.procRoot}/${this.tgid}/exe`, { bigint: true });
        this.exeTimes = { ctime: st.ctimeNs, mtime: st.mtimeNs };
      } catch {
        this.exeTimes = { ctime: 0n, mtime: 0n };
      }
    }
    return this.exeTimes;
  }

  /** Copies what a forked child inherits. */
  inheritFrom(p: ProcessEntry): void {
    this.name = p.name;
    this.exePath = p.exePath;
    this.argvText = p.argvText;
    this.exeValue = p.exeValue;
    this.argsValue = p.argsValue;
    this.argsLineValue = p.argsLineValue;
    this.cwd = p.cwd;
    this.tty = p.tty;
    this.sid = p.sid;
    this.vpgid = p.vpgid;
    this.uid = p.uid;
    this.gid = p.gid;
    this.euid = p.euid;
    this.loginuid = p.loginuid;
    this.containerId = p.containerId;
    this.cgroupId = p.cgroupId;
    this.capEffective = p.capEffective;
    this.capPermitted = p.capPermitted;
    this.exeWritable = p.exeWritable;
    this.exeUpperLayer = p.exeUpperLayer;
    this.exeFromMemfd = p.exeFromMemfd;
    this.pidNs = p.pidNs;
    this.mntNs = p.mntNs;
    this.envText = p.envText;
    this.envValue = p.envValue;
    this.exeTimes = p.exeTimes;
  }
}

/**
 * argv[1..] of an argv area ("a\0b\0c\0") joined by spaces, without splitting it: what
 * splitNulSeparated(text).slice(1).join(' ') gives, undefined when that slice is empty.
 */
export function argsLineOf(argvText: string): string | undefined {
  const text = argvText.endsWith('\0') ? argvText.slice(0, -1) : argvText;
  const first = text.indexOf('\0');
  return first < 0 ? undefined : text.slice(first + 1).replaceAll('\0', ' ');
}

export interface ProcessTableCounters {
  evictedCapacity: number;
  evictedExpired: number;
  added: number;
  removed: number;
}

/** Entries probed for a vanished process per eviction before falling back to the oldest. */
const VICTIM_SCAN = 16;

export class ProcessTable {
  private readonly byTgid = new Map<number, ProcessEntry>();
  /** Entries known only from an event header, oldest first: the cheapest to lose. */
  private readonly headerOnly = new Set<number>();
  /** Resumes the dead-entry probe where the last eviction stopped (Map iterators survive edits). */
  private scan: IterableIterator<ProcessEntry> | undefined;
  readonly counters: ProcessTableCounters = { evictedCapacity: 0, evictedExpired: 0, added: 0, removed: 0 };

  constructor(
    readonly capacity: number,
    private readonly procRoot: string,
    /** Called for every entry that leaves the table (exit, eviction, replacement). */
    private readonly onRemove: (e: ProcessEntry) => void,
  ) {}

  get size(): number {
    return this.byTgid.size;
  }

  get(tgid: number): ProcessEntry | undefined {
    return this.byTgid.get(tgid);
  }

  /** Inserts (or replaces a stale entry under the same tgid), evicting one entry when full. */
  insert(e: ProcessEntry): void {
    const old = this.byTgid.get(e.tgid);
    if (old !== undefined) {
      this.unlink(old);
      this.counters.removed++;
    } else if (this.byTgid.size >= this.capacity) {
      this.evictOne();
    }
    this.byTgid.set(e.tgid, e);
    if (e.origin === 'header') this.headerOnly.add(e.tgid);
    this.counters.added++;
  }

  /** Changes how an entry is known (e.g. a header-only entry that is now seen exec'ing). */
  setOrigin(e: ProcessEntry, origin: ProcessOrigin): void {
    if (e.origin === 'header') this.headerOnly.delete(e.tgid);
    e.origin = origin;
    if (origin === 'header' && this.byTgid.get(e.tgid) === e) this.headerOnly.add(e.tgid);
  }

  private unlink(e: ProcessEntry): void {
    this.byTgid.delete(e.tgid);
    if (e.origin === 'header') this.headerOnly.delete(e.tgid);
    this.onRemove(e);
  }

  remove(tgid: number): ProcessEntry | undefined {
    const e = this.byTgid.get(tgid);
    if (e === undefined) return undefined;
    this.unlink(e);
    this.counters.removed++;
    return e;
  }

  values(): IterableIterator<ProcessEntry> {
    return this.byTgid.values();
  }

  /** Removes entries whose process is gone (its exit event was lost). Returns how many. */
  sweep(): number {
    let n = 0;
    for (const tgid of [...this.byTgid.keys()]) {
      if (!existsSync(`${this.procRoot}/${tgid}`)) {
        this.remove(tgid);
        this.counters.evictedExpired++;
        n++;
      }
    }
    return n;
  }

  private evictOne(): void {
    let victim: ProcessEntry | undefined;
    const header = this.headerOnly.values().next();
    if (!header.done) victim = this.byTgid.get(header.value);
    for (let i = 0; victim === undefined && i < VICTIM_SCAN; i++) {
      this.scan ??= this.byTgid.values();
      const next = this.scan.next();
      if (next.done) {
        this.scan = undefined;
        if (i > 0) break;
        continue;
      }
      if (!existsSync(`${this.procRoot}/${next.value.tgid}`)) victim = next.value;
    }
    victim ??= this.byTgid.values().next().value as ProcessEntry;
    this.unlink(victim);
    this.counters.evictedCapacity++;
  }
}
