/**
 * Per-process file descriptor tables. Entries are shared between a parent and its forked child
 * because both then hold the same open file description (a later connect() through either names
 * the same socket); dup() gets its own entry since the number differs.
 */
import { AT_FDCWD } from '../probe/linux';
import type { FdInfo, FdType } from './types';

export class FdEntry implements FdInfo {
  num: number;
  type: FdType;
  name: string;
  nameRaw: string;
  l4proto: string;
  clientIp = '';
  clientPort = 0;
  serverIp = '';
  serverPort = 0;
  isServer = false;
  connected = false;
  openFlags: number;
  /** Closed by a successful exec (O_CLOEXEC / SOCK_CLOEXEC / FD_CLOEXEC). */
  cloexec: boolean;
  /** Socket's own address from bind(), kept to fill the local side of later tuples. */
  boundIp = '';
  boundPort = 0;
  /** pidfd: the process it refers to (pidfd_getfd copies that process's entries). */
  pid = 0;

  constructor(num: number, type: FdType, name: string, nameRaw: string, l4proto: string, openFlags: number, cloexec: boolean) {
    this.num = num;
    this.type = type;
    this.name = name;
    this.nameRaw = nameRaw;
    this.l4proto = l4proto;
    this.openFlags = openFlags;
    this.cloexec = cloexec;
  }

  /** A copy under another number (dup family): same description, own close-on-exec flag. */
  dupAs(num: number, cloexec: boolean): FdEntry {
    const e = new FdEntry(num, this.type, this.name, this.nameRaw, this.l4proto, this.openFlags, cloexec);
    e.clientIp = this.clientIp;
    e.clientPort = this.clientPort;
    e.serverIp = this.serverIp;
    e.serverPort = this.serverPort;
    e.isServer = this.isServer;
    e.connected = this.connected;
    e.boundIp = this.boundIp;
    e.boundPort = this.boundPort;
    e.pid = this.pid;
    return e;
  }

  /** Sets the connection tuple and the `cip:cport->sip:sport` name. */
  setTuple(clientIp: string, clientPort: number, serverIp: string, serverPort: number, isServer: boolean): void {
    this.clientIp = clientIp;
    this.clientPort = clientPort;
    this.serverIp = serverIp;
    this.serverPort = serverPort;
    this.isServer = isServer;
    this.name = `${clientIp}:${clientPort}->${serverIp}:${serverPort}`;
  }
}

/** The map of every table that has no entry yet: never changed (see FdTable.owned). */
const NO_FDS: Map<number, FdEntry> = new Map();

/**
 * Bounded map of fd number → entry; counts what it had to drop. A fork's table shares its
 * parent's map until either side changes it (copy on write): most children exec at once and
 * close nothing, so the copy is rarely needed, and it showed in the fork+exec profile. Most
 * processes never get an fd we track, so a table starts on a shared empty map too.
 */
export class FdTable {
  private byNum: Map<number, FdEntry>;
  /** `byNum` may also be another table's, or NO_FDS (so every table starts shared): copy it before changing it. */
  private shared = true;

  constructor(
    private readonly capacity: number,
    from?: FdTable,
  ) {
    if (from !== undefined && from.byNum.size > 0) {
      this.byNum = from.byNum;
      from.shared = true;
    } else {
      this.byNum = NO_FDS;
    }
  }

  /** The map, made this table's own first. */
  private owned(): Map<number, FdEntry> {
    if (this.shared) {
      this.byNum = new Map(this.byNum);
      this.shared = false;
    }
    return this.byNum;
  }

  get size(): number {
    return this.byNum.size;
  }

  get(num: number): FdEntry | undefined {
    return this.byNum.get(num);
  }

  /**
   * Installs an entry, replacing what held the number (the kernel hands out a number only once it
   * is free, so a leftover means a close was missed). A full table drops its oldest entry; both
   * the total and the evictions are accounted in `counters`.
   */
  set(entry: FdEntry, counters: FdCounters): void {
    const byNum = this.owned();
    const had = byNum.has(entry.num);
    if (!had && byNum.size >= this.capacity) {
      // Oldest first: long-lived fds (stdio, listeners) are usually opened before churn.
      const oldest = byNum.keys().next().value as number;
      byNum.delete(oldest);
      counters.evicted++;
      counters.total--;
    }
    if (had) byNum.delete(entry.num);
    byNum.set(entry.num, entry);
    if (!had) counters.total++;
  }

  delete(num: number, counters: FdCounters): boolean {
    if (!this.byNum.has(num)) return false;
    this.owned().delete(num);
    counters.total--;
    return true;
  }

  /** Drops close-on-exec entries after a successful exec. */
  closeOnExec(counters: FdCounters): void {
    let any = false;
    for (const e of this.byNum.values()) {
      if (e.cloexec) {
        any = true;
        break;
      }
    }
    if (!any) return;
    const byNum = this.owned();
    for (const [num, e] of byNum) {
      if (e.cloexec) {
        byNum.delete(num);
        counters.total--;
      }
    }
  }

  values(): IterableIterator<FdEntry> {
    return this.byNum.values();
  }
}

export interface FdCounters {
  /** Entries across all tables. */
  total: number;
  evicted: number;
}

/** Textual form of a socket's local address when only the remote one is known. */
export function unspecifiedAddress(family: 'ipv4' | 'ipv6'): string {
  return family === 'ipv4' ? '0.0.0.0' : '::';
}

/** Joins a relative path onto a base directory, resolving `.` and `..` lexically. */
export function resolvePath(base: string, path: string): string {
  const full = path.startsWith('/') ? path : `${base.endsWith('/') ? base : `${base}/`}${path}`;
  if (!full.includes('/.') && !full.includes('//')) return full;
  const out: string[] = [];
  for (const part of full.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** The directory a `*at` syscall's relative path is relative to; undefined when it is unknown. */
export function atBase(dirfd: number, cwd: string, fds: FdTable): string | undefined {
  // dirfd arrives as an unsigned register value; AT_FDCWD is an int32.
  const fd = dirfd | 0;
  if (fd === AT_FDCWD) return cwd || undefined;
  const e = fds.get(fd);
  return e && (e.type === 'directory' || e.type === 'file') ? e.name : undefined;
}
