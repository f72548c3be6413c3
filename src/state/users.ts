/**
 * uid/gid → name from /etc/passwd and /etc/group: the host's, or a container's seen through
 * /proc/<pid>/root of one of its live processes. Files are re-read after `refreshMs`; the number of
 * cached roots is bounded and each file read is capped, so a hostile container cannot bloat us.
 */
import { statSync } from 'node:fs';
import { readBounded, unsliced } from './procfs';

/** Device and inode of a path (symlinks followed), or undefined when it cannot be reached. */
function fileId(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined ? undefined : `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

const MAX_FILE_BYTES = 1 << 20;

interface NameDb {
  readonly users: Map<number, string>;
  readonly groups: Map<number, string>;
  readonly loadedAtMs: number;
}

/** Parses `name:x:id:...` lines (passwd and group share the first three columns). */
export function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const c = line.indexOf(':', b + 1);
    if (a <= 0 || b < 0) continue;
    const id = Number.parseInt(line.slice(b + 1, c < 0 ? undefined : c), 10);
    // First entry wins, as getpwuid() does. The name must not pin the whole file (see unsliced).
    if (Number.isFinite(id) && !out.has(id)) out.set(id, unsliced(line.slice(0, a)));
  }
  return out;
}

export interface UserDbOptions {
  /** Host filesystem root ('' for /, or e.g. /host). */
  readonly hostRoot: string;
  readonly procRoot: string;
  readonly maxRoots: number;
  readonly refreshMs: number;
  /** A live process of the container, to read its files through /proc/<pid>/root. */
  readonly pidOfContainer: (containerId: string) => number | undefined;
  readonly now?: () => number;
}

export class UserDb {
  private readonly roots = new Map<string, NameDb>();
  private readonly now: () => number;
  loads = 0;

  constructor(private readonly opts: UserDbOptions) {
    this.now = opts.now ?? Date.now;
  }

  userName(uid: number, containerId: string): string | undefined {
    return this.db(containerId)?.users.get(uid);
  }

  groupName(gid: number, containerId: string): string | undefined {
    return this.db(containerId)?.groups.get(gid);
  }

  get cachedRoots(): number {
    return this.roots.size;
  }

  /**
   * Forgets the tables of containers `isLive` says are gone: a container that exited will not be
   * asked about again, and without this every short-lived container would hold a slot until
   * `maxRoots` newer ones pushed it out. The host's tables stay. Returns how many were dropped.
   */
  retain(isLive: (containerId: string) => boolean): number {
    let n = 0;
    for (const cid of this.roots.keys()) {
      if (cid !== 'host' && !isLive(cid)) {
        this.roots.delete(cid);
        n++;
      }
    }
    return n;
  }

  private hostRootId: string | undefined;

  private isHostRoot(root: string): boolean {
    this.hostRootId ??= fileId(this.opts.hostRoot || '/');
    const id = fileId(root);
    return id !== undefined && id === this.hostRootId;
  }

  private db(containerId: string): NameDb | undefined {
    const now = this.now();
    const cached = this.roots.get(containerId);
    if (cached && now - cached.loadedAtMs < this.opts.refreshMs) return cached;
    let root: string;
    if (containerId === 'host') {
      root = this.opts.hostRoot;
    } else {
      const pid = this.opts.pidOfContainer(containerId);
      // Without a live process the files are out of reach; a stale copy beats none.
      if (pid === undefined) return cached;
      root = `${this.opts.procRoot}/${pid}/root`;
      // A runtime's init joins the container's cgroup before it switches to the container's root:
      // until then its root is the host's, whose files would pass the host's names off as the
      // container's for a whole refresh. Read (and cache) nothing now; a later lookup gets them.
      if (this.isHostRoot(root)) return cached;
    }
    const passwd = readBounded(`${root}/etc/passwd`, MAX_FILE_BYTES);
    const group = readBounded(`${root}/etc/group`, MAX_FILE_BYTES);
    if (passwd.length === 0 && group.length === 0 && cached) return cached;
    this.loads++;
    const db: NameDb = { users: parseIdFile(passwd.toString('utf8')), groups: parseIdFile(group.toString('utf8')), loadedAtMs: now };
    this.roots.delete(containerId);
    if (this.roots.size >= this.opts.maxRoots) this.roots.delete(this.roots.keys().next().value as string);
    this.roots.set(containerId, db);
    return db;
  }
}
