/**
 * One agent per host: two would both load the probe (twice the kernel cost, every alert twice) and
 * fight over the gRPC socket. The guard is a lock file under the run directory (`run_dir`, default
 * /run/lanner) naming its holder by pid and start time (field 22 of /proc/<pid>/stat), so a pid
 * reused by another process after a crash is not mistaken for the holder, and a lock left by a
 * killed agent is taken over. Node has no flock(2); the file is created with O_EXCL through
 * link(2) of a complete temporary file, so another instance never reads a half-written lock.
 */
import { closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fileKind } from '../lib/private-file';

export const LOCK_FILE_NAME = 'lanner.lock';

/** Another agent holds the lock, or the run directory cannot hold one; the message says which. */
export class InstanceLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstanceLockError';
  }
}

export interface InstanceLock {
  readonly path: string;
  /** Removes the lock if it is still ours; idempotent. */
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly startTime: string;
}

/** A process's start time in clock ticks since boot, or undefined when it does not exist. */
function startTimeOf(pid: number | 'self'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': count after the last.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function parseHolder(text: string): Holder | undefined {
  const m = /^(\d+) (\d+)\n$/.exec(text);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

/** Reads the lock without following a link planted in its place. */
function readLock(path: string): { holder: Holder | undefined; stat: Stats } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InstanceLockError(`cannot read the instance lock ${path}: ${(err as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { holder: undefined, stat };
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { holder: parseHolder(buf.subarray(0, n).toString('latin1')), stat };
  } finally {
    closeSync(fd);
  }
}

function alive(h: Holder): boolean {
  return startTimeOf(h.pid) === h.startTime;
}

function checkRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new InstanceLockError(`cannot create the run directory ${dir} (run_dir): ${(err as Error).message}`);
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new InstanceLockError(`the run directory ${dir} (run_dir) is ${fileKind(st)}, not a directory`);
  const euid = process.geteuid?.() ?? st.uid;
  if (st.uid !== euid && st.uid !== 0) throw new InstanceLockError(`the run directory ${dir} (run_dir) is owned by uid ${st.uid}; refusing to keep a lock there`);
}

/**
 * Takes the single-instance lock in `runDir`, or throws InstanceLockError naming the pid that
 * holds it. A lock whose holder is gone (killed agent, rebooted host) is replaced.
 */
export function acquireInstanceLock(runDir: string): InstanceLock {
  checkRunDir(runDir);
  const path = join(runDir, LOCK_FILE_NAME);
  const self: Holder = { pid: process.pid, startTime: startTimeOf('self') ?? '0' };
  const content = `${self.pid} ${self.startTime}\n`;
  const temp = join(runDir, `.${LOCK_FILE_NAME}.${process.pid}`);
  try {
    unlinkSync(temp);
  } catch {
    // Not there: the usual case.
  }
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new InstanceLockError(`cannot write the instance lock in ${runDir} (run_dir): ${(err as Error).message}`);
  }
  try {
    // Two tries: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temp, path);
        return lockAt(path, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new InstanceLockError(`cannot take the instance lock ${path}: ${(err as Error).message}`);
      }
      const found = readLock(path);
      if (found === undefined) continue;
      if (!found.stat.isFile()) throw new InstanceLockError(`the instance lock ${path} is ${fileKind(found.stat)}; remove it if no agent runs`);
      if (found.holder !== undefined && alive(found.holder)) {
        throw new InstanceLockError(`another lanner is running on this host (pid ${found.holder.pid}, holding ${path})`);
      }
      // Stale: its holder is gone. Remove it only if it is still the file we judged.
      const now = lstatSync(path, { throwIfNoEntry: false });
      if (now !== undefined && now.ino === found.stat.ino && now.dev === found.stat.dev) unlinkSync(path);
    }
    const found = readLock(path);
    throw new InstanceLockError(`another lanner took the instance lock ${path} at the same time (pid ${found?.holder?.pid ?? 'unknown'})`);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone.
    }
  }
}

function lockAt(path: string, content: string): InstanceLock {
  let held = true;
  return {
    path,
    release(): void {
      if (!held) return;
      held = false;
      // Only our own lock: never one another agent took over after ours was judged stale.
      try {
        if (readFileSync(path, 'latin1') === content) unlinkSync(path);
      } catch {
        // Gone already.
      }
    },
  };
}
