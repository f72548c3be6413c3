/**
 * The audit log follower's position on disk: which file (device and inode, so a rotated file is
 * recognised under its new name, and a hash of its first bytes, so a new file that got a deleted
 * file's inode number is not taken for it) and the offset just past the last complete line. A few
 * bytes of JSON, replaced atomically: written to a fresh temporary file (created O_EXCL, mode 0600,
 * so a link planted at its name is never followed), fsynced, then renamed over the old state.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FollowState {
  /** The followed path (the file may since have been renamed; dev/ino identify it). */
  readonly path: string;
  readonly dev: string;
  readonly ino: string;
  /** Bytes of the file already handled: the end of the last complete line. */
  readonly offset: number;
  /** How many leading bytes `head` covers (at most HEAD_BYTES, at most `offset`). */
  readonly headBytes: number;
  /** sha256 (hex) of the file's first `headBytes` bytes. */
  readonly head: string;
}

/** Leading bytes fingerprinted: an audit log line is longer, so this is within its first event. */
export const HEAD_BYTES = 1024;

/** sha256 (hex) of the first `bytes` bytes of an open file; undefined when it is shorter. */
export function headHash(fd: number, bytes: number): string | undefined {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const n = readSync(fd, buf, got, bytes - got, got);
    if (n === 0) return undefined;
    got += n;
  }
  return createHash('sha256').update(buf).digest('hex');
}

/** The saved state, or undefined when there is none or it is unreadable (the caller starts afresh). */
export function readFollowState(file: string): FollowState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<FollowState>;
    if (typeof v.path !== 'string' || typeof v.dev !== 'string' || typeof v.ino !== 'string' || typeof v.head !== 'string') return undefined;
    if (!Number.isSafeInteger(v.offset) || v.offset! < 0 || !Number.isSafeInteger(v.headBytes) || v.headBytes! < 0 || v.headBytes! > v.offset!) return undefined;
    return { path: v.path, dev: v.dev, ino: v.ino, offset: v.offset!, headBytes: v.headBytes!, head: v.head };
  } catch {
    return undefined;
  }
}

/** Replaces the state file atomically (see the module comment). Throws on I/O errors. */
export function writeFollowState(file: string, state: FollowState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  try {
    unlinkSync(tmp);
  } catch {
    // Usually absent: only a crash between create and rename leaves one behind.
  }
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(state) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
