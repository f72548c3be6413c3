/**
 * Files the agent writes and others must not read or redirect: the alert file and captures hold
 * command lines (passwords given as arguments) and file names. They are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and their final mode (never a chmod after the fact), are never opened
 * through a symbolic link, and an existing path is only taken over when it is a regular file of
 * ours with no other name. We run as root: following a link planted at the path would let anyone
 * who can write the directory append to, or read back, any file on the host.
 *
 * Flags come from Node's `fs.constants`, which carries this platform's values (O_NOFOLLOW is not
 * the same number on x86-64 and arm64); src/probe/linux.ts holds the x86-64 numbers the probe
 * reports, which are the wrong source for our own open(2). libuv adds O_CLOEXEC to every open.
 */
import { close, constants, fchmod, fstat, lstatSync, open, openSync, promises as fsp, unlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, DEBUGFS_MAGIC, PROC_SUPER_MAGIC, SECURITYFS_MAGIC, SYSFS_MAGIC, TRACEFS_MAGIC } from '../probe/linux';

// Callback forms: they hand out plain descriptors, which the line writer takes over (a FileHandle
// would close its fd when garbage collected).
const openFd = promisify(open);
const fstatFd = promisify(fstat);
const fchmodFd = promisify(fchmod);
const closeFd = promisify(close);

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
/** A new file only: fails with EEXIST on anything already at the path, a dangling link included. */
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** An existing file: ELOOP on a link; O_NONBLOCK so a FIFO swapped in after our look cannot block us. */
const ADOPT_FLAGS = O_WRONLY | O_NOFOLLOW | O_NONBLOCK;
/** Attempts when the path changes under us between the calls (someone racing us). */
const ATTEMPTS = 3;

const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [PROC_SUPER_MAGIC, 'proc'],
  [SYSFS_MAGIC, 'sysfs'],
  [CGROUP_SUPER_MAGIC, 'cgroup'],
  [CGROUP2_SUPER_MAGIC, 'cgroup2'],
  [DEBUGFS_MAGIC, 'debugfs'],
  [TRACEFS_MAGIC, 'tracefs'],
  [SECURITYFS_MAGIC, 'securityfs'],
  [BPF_FS_MAGIC >>> 0, 'bpf'],
]);

/** Why a private file cannot be written; `message` is `<path>: <reason>`. */
export class PrivateFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'PrivateFileError';
  }
}

/** A file opened for appending, with the identity that tells when its name stops pointing at it. */
export interface PrivateFile {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Bytes already in the file (0 when we created it). */
  readonly size: number;
  readonly created: boolean;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** What a file system error means for the operator, without the syscall noise. */
export function describeFileError(err: unknown): string {
  switch (errnoOf(err)) {
    case 'ELOOP':
      return 'is a symbolic link; refusing to follow it';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENXIO':
      return 'is a FIFO or socket, not a regular file';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (err as Error).message;
  }
}

/** "a directory", "a FIFO", … for a path that is not a regular file. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return st.isFile() ? 'a regular file' : 'not a regular file';
}

/** Why an existing file may not be taken over, or undefined when it may. */
function adoptionRefusal(st: Stats): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link; refusing to follow it';
  if (!st.isFile()) return `is ${fileKind(st)}, not a regular file`;
  const euid = process.geteuid?.() ?? st.uid;
  if (st.uid !== euid) return `is owned by uid ${st.uid}, not by this process (uid ${euid}); refusing to adopt it`;
  if (st.nlink !== 1) return `has ${st.nlink} names (hard links); refusing to write through another name`;
  return undefined;
}

/** The pseudo file system `dir` is on (proc, sysfs, …), or undefined for a real one. */
async function pseudoFileSystem(dir: string): Promise<string | undefined> {
  try {
    const fs = await fsp.statfs(dir);
    return PSEUDO_FILESYSTEMS.get(fs.type >>> 0);
  } catch {
    // Unreadable here means the open below fails with the real reason.
    return undefined;
  }
}

/**
 * Opens `path` for appending: creates it (and its directory) with `mode`, or takes over an
 * existing regular file of ours, tightening its mode through the open descriptor. Refuses links,
 * anything not a regular file, files of other users or with other names, and pseudo file systems.
 */
export async function openPrivateAppend(path: string, mode: number): Promise<PrivateFile> {
  const dir = dirname(path);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new PrivateFileError(path, `cannot create its directory ${dir}: ${describeFileError(err)}`);
  }
  const pseudo = await pseudoFileSystem(dir);
  if (pseudo !== undefined) throw new PrivateFileError(path, `is on a ${pseudo} file system (kernel interface), not a place for alerts`);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const fd = await openFd(path, CREATE_FLAGS | O_APPEND, mode);
      return await verified(fd, path, mode, true);
    } catch (err) {
      if (err instanceof PrivateFileError) throw err;
      if (errnoOf(err) !== 'EEXIST') throw new PrivateFileError(path, describeFileError(err));
    }
    // Something is there. Look before opening, so a FIFO or a device is never opened at all.
    let st: Stats;
    try {
      st = await fsp.lstat(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue;
      throw new PrivateFileError(path, describeFileError(err));
    }
    const refusal = adoptionRefusal(st);
    if (refusal !== undefined) throw new PrivateFileError(path, refusal);
    let fd: number;
    try {
      fd = await openFd(path, ADOPT_FLAGS | O_APPEND);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue;
      throw new PrivateFileError(path, describeFileError(err));
    }
    return verified(fd, path, mode, false);
  }
  throw new PrivateFileError(path, 'kept changing while it was being opened');
}

/** Checks what was actually opened (the path may have changed since we looked) and sets the mode through the descriptor. */
async function verified(fd: number, path: string, mode: number, created: boolean): Promise<PrivateFile> {
  try {
    const st = await fstatFd(fd);
    const refusal = adoptionRefusal(st);
    if (refusal !== undefined) throw new PrivateFileError(path, refusal);
    if ((st.mode & 0o7777) !== mode) await fchmodFd(fd, mode);
    return { fd, dev: st.dev, ino: st.ino, size: created ? 0 : st.size, created };
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    if (err instanceof PrivateFileError) throw err;
    throw new PrivateFileError(path, describeFileError(err));
  }
}

/**
 * Creates `path` for writing with `mode`, replacing an existing regular file by a new one (a fresh
 * inode: no looser mode or other hard link is inherited). Refuses links and anything else.
 */
export function createPrivateFileSync(path: string, mode: number): number {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return openSync(path, CREATE_FLAGS, mode);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw new PrivateFileError(path, describeFileError(err));
    }
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue;
      throw new PrivateFileError(path, describeFileError(err));
    }
    if (st.isSymbolicLink()) throw new PrivateFileError(path, 'is a symbolic link; refusing to follow or replace it');
    if (!st.isFile()) throw new PrivateFileError(path, `is ${fileKind(st)}, not a regular file`);
    try {
      // unlink(2) removes the name, never what a link would point to.
      unlinkSync(path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw new PrivateFileError(path, `cannot replace the existing file: ${describeFileError(err)}`);
    }
  }
  throw new PrivateFileError(path, 'kept changing while it was being created');
}
