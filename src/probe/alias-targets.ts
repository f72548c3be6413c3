/**
 * Alias targets: the files and directories the rules name, turned into what the kernel can look
 * up at an open's exit (inode and device). An open that reaches one of them by another name (a
 * symlink, a symlinked directory, a hard link, /proc/<pid>/root/…) then reports the target's
 * path, so a rule on `fd.name = /etc/shadow` matches however the file was named. Inodes change
 * when a file is replaced (passwd writes a new /etc/shadow and renames it over the old one), so
 * the source re-reads them every ALIAS_REFRESH_MS.
 */
import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ALIAS_MAX, ALIAS_PATH_LEN } from './layout';
import { kernelDevFromStat } from './linux';
import type { NativeAliasTarget } from './native';

/** A path a rule names, as the open filter reads it (`writeOnly`: only opens that can write). */
export interface AliasPath {
  readonly path: string;
  readonly writeOnly: boolean;
}

export const ALIAS_REFRESH_MS = 10_000;

export interface ResolvedAliasTargets {
  readonly targets: readonly NativeAliasTarget[];
  /** Paths left out because the kernel's table is full. */
  readonly overflow: number;
}

type StatPath = (path: string) => BigIntStats | undefined;
type ListDir = (dir: string) => readonly string[];

const statOrUndefined: StatPath = (path) => statSync(path, { bigint: true, throwIfNoEntry: false });
const listOrEmpty: ListDir = (dir) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Names one prefix that is no file (`/etc/ssh/ssh_host_`) stands for: at most this many per prefix. */
const PREFIX_EXPANSION_MAX = 32;

/**
 * The kernel targets for the rules' paths. A regular file is a target for any open; a directory
 * only when some rule reads under it (a directory named only for writes, like `/etc/` in "Write
 * below etc", would make every read below it pay a path walk for nothing). The root and paths that
 * do not exist are left out; two names of one inode keep the first.
 */
export function resolveAliasTargets(paths: readonly AliasPath[], stat: StatPath = statOrUndefined, list: ListDir = listOrEmpty): ResolvedAliasTargets {
  const byInode = new Map<string, NativeAliasTarget>();
  let overflow = 0;
  const statOf = (path: string): BigIntStats | undefined => {
    try {
      return stat(path);
    } catch {
      return undefined; // unreadable: nothing to key on
    }
  };
  const add = (path: string, st: BigIntStats, writeOnly: boolean): void => {
    const dir = st.isDirectory();
    if (!(st.isFile() || (dir && !writeOnly))) return;
    const key = `${st.dev}:${st.ino}`;
    if (byInode.has(key)) return;
    if (byInode.size >= ALIAS_MAX) {
      overflow++;
      return;
    }
    byInode.set(key, { dev: kernelDevFromStat(st.dev), ino: Number(st.ino), dir, path });
  };
  const usable = (path: string): boolean => path.startsWith('/') && path !== '/' && !path.includes('\0') && Buffer.byteLength(path) < ALIAS_PATH_LEN;
  for (const { path: named, writeOnly } of paths) {
    const isDirName = named.length > 1 && named.endsWith('/');
    const path = isDirName ? named.slice(0, -1) : named;
    if (!usable(path)) continue;
    const st = statOf(path);
    if (st !== undefined) {
      add(path, st, writeOnly);
      continue;
    }
    if (isDirName) continue;
    // A prefix rather than a name (`fd.name startswith /etc/ssh/ssh_host_`): the files it covers now.
    const dir = dirname(path);
    const head = basename(path);
    const names = list(dir).filter((n) => n.startsWith(head)).sort().slice(0, PREFIX_EXPANSION_MAX);
    for (const n of names) {
      const full = join(dir, n);
      const entry = usable(full) ? statOf(full) : undefined;
      if (entry !== undefined) add(full, entry, writeOnly);
    }
  }
  return { targets: [...byInode.values()], overflow };
}

/** Whether two target lists key the same inodes to the same paths (refresh skips the kernel update otherwise). */
export function sameAliasTargets(a: readonly NativeAliasTarget[], b: readonly NativeAliasTarget[]): boolean {
  return a.length === b.length && a.every((t, i) => t.dev === b[i]!.dev && t.ino === b[i]!.ino && t.dir === b[i]!.dir && t.path === b[i]!.path);
}
