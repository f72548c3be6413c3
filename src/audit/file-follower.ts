/**
 * Follows the API server's audit log (JSON lines) like `tail -F`, losing and repeating nothing
 * across rotation and restarts:
 *
 * - Reads by position from an open descriptor, so a file renamed away (the API server's own
 *   rotation, logrotate's create mode) is still read to its end before the follower moves to the
 *   new file at the path.
 * - A file shorter than what was read (copytruncate) is read again from its start.
 * - The position reached (device, inode, offset past the last complete line) is saved in a small
 *   state file, replaced atomically (./follow-state), after every poll that made progress (at most
 *   every `persistIntervalMs`), at every file switch and at stop. On start the follower resumes
 *   there: in the same file, or, when the file was rotated while the agent was down, in the
 *   rotated file found by its inode in the same directory, then the new one from its start.
 *   A clean stop therefore loses and repeats nothing; a crash repeats at most the lines handled
 *   since the last save.
 * - Lines longer than `maxLineBytes` are skipped without being buffered whole; a line cut by a
 *   rotation or truncation is reported as torn. Neither stops the follower.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../log';
import type { BadInputKind } from './event';
import { HEAD_BYTES, headHash, readFollowState, writeFollowState, type FollowState } from './follow-state';

export interface FollowerOptions {
  /** The file to follow; undefined while unknown (no API server found yet). Asked again while no file is open. */
  readonly resolvePath: () => string | undefined;
  readonly stateFile: string;
  /** With no saved state: follow from the end of an existing file, or read it from its beginning. */
  readonly startAt: 'end' | 'beginning';
  readonly readChunkBytes: number;
  readonly maxLineBytes: number;
  /** A complete line (without its newline); empty lines are skipped. */
  readonly onLine: (line: string) => void;
  readonly onBad: (kind: BadInputKind, detail: string) => void;
  readonly log: Logger;
  /** Minimum time between state saves while lines keep coming (default 1000 ms). */
  readonly persistIntervalMs?: number;
  readonly now?: () => number;
}

export interface FollowerStats {
  /** The path followed (undefined while none is known). */
  readonly path: string | undefined;
  /** A file is open. */
  readonly open: boolean;
  /** Offset past the last complete line of the open file. */
  readonly offset: number;
  readonly bytesRead: number;
  readonly lines: number;
  readonly rotations: number;
  readonly truncations: number;
  readonly stateSaveErrors: number;
}

interface OpenFile {
  readonly fd: number;
  /** The path being followed (not necessarily this file's name, when it is a rotated file being finished). */
  path: string;
  readonly dev: bigint;
  readonly ino: bigint;
}

/** What one poll achieved: `more` when data is left to read right away. */
export type PollResult = 'idle' | 'more';

function statPath(p: string): BigIntStats | undefined {
  try {
    return statSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/** A path without the /proc/<pid>/root prefix it has when reached through the API server's root (its pid changes on restart). */
function hostPath(p: string): string {
  return p.replace(/^\/proc\/\d+\/root(?=\/)/, '');
}

/** Whether the file at `name` starts with the bytes the state fingerprinted. */
function sameHead(name: string, state: FollowState): boolean {
  if (state.headBytes === 0) return true;
  let fd: number;
  try {
    fd = openSync(name, 'r');
  } catch {
    return false;
  }
  try {
    return headHash(fd, state.headBytes) === state.head;
  } finally {
    closeSync(fd);
  }
}

/** A regular file in `dir` with the state's identity and head (a rotated file under its new name). */
function findRotated(dir: string, state: FollowState): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      const st = lstatSync(join(dir, n), { bigint: true });
      if (st.isFile() && String(st.dev) === state.dev && String(st.ino) === state.ino && sameHead(join(dir, n), state)) return join(dir, n);
    } catch {
      // Gone between readdir and lstat.
    }
  }
  return undefined;
}

export class AuditLogFollower {
  private file: OpenFile | undefined;
  /** Next byte to read. */
  private readPos = 0;
  /** Offset of the first byte of the line being assembled: everything before it is handled. */
  private lineStart = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside a line already known to be too long: its bytes are dropped up to its newline. */
  private discarding = false;
  private readonly buf: Buffer;
  /** Fingerprint of the open file's first `headBytes` bytes (see follow-state). */
  private head = '';
  private headBytes = 0;
  private savedOffset = -1;
  private savedIdentity = '';
  private lastSaveMs = 0;
  /** No file was there at the first look: when one appears, all of it is new. */
  private missingAtStart = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = true;
  private bytesRead = 0;
  private lines = 0;
  private rotations = 0;
  private truncations = 0;
  private stateSaveErrors = 0;
  private readonly now: () => number;

  constructor(private readonly opts: FollowerOptions) {
    this.buf = Buffer.allocUnsafe(Math.min(opts.readChunkBytes, 1 << 20));
    this.now = opts.now ?? Date.now;
  }

  /** Polls every `intervalMs` (right away again while a backlog remains). */
  start(intervalMs: number): void {
    this.stopped = false;
    const tick = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      if (this.stopped) return;
      let r: PollResult = 'idle';
      try {
        r = this.poll();
      } catch (err) {
        this.opts.log.warn({ err }, 'k8s audit log: read failed; retrying');
        this.closeFile();
      }
      if (this.stopped) return;
      // A backlog is read in chunk-sized steps with the event loop running in between.
      if (r === 'more') this.immediate = setImmediate(tick);
      else this.timer = setTimeout(tick, intervalMs).unref();
    };
    tick();
  }

  /** Stops polling, reads what is left (bounded by one poll) and saves the position. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    try {
      if (this.file) this.poll();
    } catch {
      // Best effort: the saved position below is still exact for what was handled.
    }
    this.save(true);
    this.closeFile();
  }

  /** Reads until nothing is left right now (tests, shutdown). */
  catchUp(): void {
    for (let i = 0; i < 1_000_000 && this.poll() === 'more'; i++);
  }

  /** One step: open if needed, check for truncation, read up to one chunk budget, check for rotation. */
  poll(): PollResult {
    if (!this.file && !this.openInitial()) return 'idle';
    const f = this.file!;
    if (fstatSync(f.fd, { bigint: true }).size < BigInt(this.readPos)) {
      this.truncations++;
      this.opts.log.info({ path: f.path, offset: this.readPos }, 'k8s audit log truncated: reading it again from the start');
      this.tearLine('the file was truncated');
      this.readPos = this.lineStart = 0;
      this.head = '';
      this.headBytes = 0;
    }
    if (!this.read(f)) {
      this.save(false);
      return 'more';
    }
    let st = statPath(f.path);
    if (st === undefined) {
      // The path may have moved (reached through the API server's root, whose pid changed on restart).
      const now = this.opts.resolvePath();
      const moved = now !== undefined && now !== f.path ? statPath(now) : undefined;
      if (moved !== undefined) {
        f.path = now!;
        st = moved;
      }
    }
    if (st !== undefined && (st.ino !== f.ino || st.dev !== f.dev)) {
      // Renamed away and replaced: the old file is read to its end (above); continue with the new one.
      this.tearLine('the file was rotated');
      this.lineStart = this.readPos;
      // Its end is saved first, so a failure to open the new file cannot make a restart re-read it.
      this.save(true);
      this.closeFile();
      this.rotations++;
      this.opts.log.info({ path: f.path }, 'k8s audit log rotated: following the new file');
      if (this.openAt(f.path, 0)) this.save(true);
      return 'more';
    }
    this.save(false);
    return 'idle';
  }

  stats(): FollowerStats {
    return {
      path: this.file?.path,
      open: this.file !== undefined,
      offset: this.lineStart,
      bytesRead: this.bytesRead,
      lines: this.lines,
      rotations: this.rotations,
      truncations: this.truncations,
      stateSaveErrors: this.stateSaveErrors,
    };
  }

  /** The first open: resume from the saved state when it still applies. */
  private openInitial(): boolean {
    const path = this.opts.resolvePath();
    if (path === undefined) return false;
    const st = statPath(path);
    const firstLook = !this.started;
    this.started = true;
    if (st === undefined) {
      if (firstLook) this.missingAtStart = true;
      return false;
    }
    const saved = readFollowState(this.opts.stateFile);
    // A position saved for another log (the path setting changed) does not apply to this one.
    const state = saved !== undefined && hostPath(saved.path) === hostPath(path) ? saved : undefined;
    // Same inode and same first bytes: the same file (an inode number alone may have been reused).
    if (state !== undefined && state.dev === String(st.dev) && state.ino === String(st.ino) && sameHead(path, state)) {
      if (BigInt(state.offset) <= st.size) return this.openAt(path, state.offset);
      this.truncations++;
      this.opts.log.info({ path }, 'k8s audit log is shorter than the saved offset (truncated while stopped): reading it from the start');
      return this.openAt(path, 0);
    }
    if (state !== undefined) {
      // Rotated while we were down: finish the old file (found by inode) first, then the new one from 0.
      const old = findRotated(dirname(path), state);
      if (old !== undefined) {
        this.opts.log.info({ path, rotated: old, offset: state.offset }, 'k8s audit log rotated while stopped: finishing the rotated file first');
        return this.openAt(path, state.offset, old);
      }
      this.opts.log.warn({ path, state: this.opts.stateFile }, 'k8s audit log: the file followed before is gone (rotated and deleted or compressed, or rewritten) while stopped: its unread tail is lost; reading the current file from the start');
      return this.openAt(path, 0);
    }
    const from = this.startFromEnd() ? Number(st.size) : 0;
    return this.openAt(path, from);
  }

  private startFromEnd(): boolean {
    return this.opts.startAt === 'end' && !this.missingAtStart;
  }

  /** Opens `name` (default: `path`) as the file followed under `path`, at `offset`. */
  private openAt(path: string, offset: number, name = path): boolean {
    let fd: number;
    try {
      fd = openSync(name, 'r');
    } catch {
      return false;
    }
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) {
      closeSync(fd);
      this.opts.log.warn({ path: name }, 'k8s audit log is not a regular file; not following it');
      return false;
    }
    this.file = { fd, path, dev: st.dev, ino: st.ino };
    this.head = '';
    this.headBytes = 0;
    this.readPos = this.lineStart = offset;
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
    this.opts.log.info({ path, file: name, offset }, 'k8s audit log: following');
    return true;
  }

  private closeFile(): void {
    if (this.file) closeSync(this.file.fd);
    this.file = undefined;
  }

  /** Reads up to the chunk budget; true when the end of the file was reached. */
  private read(f: OpenFile): boolean {
    let budget = this.opts.readChunkBytes;
    while (budget > 0) {
      const n = readSync(f.fd, this.buf, 0, Math.min(this.buf.length, budget), this.readPos);
      if (n === 0) return true;
      this.bytesRead += n;
      budget -= n;
      this.consume(n);
    }
    return false;
  }

  /** Splits `buf[0, n)` (file bytes at `readPos`) into lines. */
  private consume(n: number): void {
    const base = this.readPos;
    const buf = this.buf.subarray(0, n);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      this.endLine(start, nl);
      this.lineStart = base + nl + 1;
      start = nl + 1;
    }
    this.readPos = base + n;
    if (start < n && !this.discarding) {
      this.pending.push(Buffer.from(buf.subarray(start)));
      this.pendingBytes += n - start;
      if (this.pendingBytes > this.opts.maxLineBytes) {
        this.opts.onBad('too_large', `a line longer than ${this.opts.maxLineBytes} bytes at offset ${this.lineStart}`);
        this.discarding = true;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
  }

  private endLine(start: number, nl: number): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const size = this.pendingBytes + (nl - start);
    if (size > this.opts.maxLineBytes) {
      this.opts.onBad('too_large', `a line of ${size} bytes at offset ${this.lineStart}`);
    } else {
      const text = this.pending.length === 0 ? this.buf.toString('utf8', start, nl) : Buffer.concat([...this.pending, this.buf.subarray(start, nl)]).toString('utf8');
      if (text.trim() !== '') {
        this.lines++;
        this.opts.onLine(text);
      }
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** A partial last line when the file ends for good (rotation, truncation) is dropped and reported. */
  private tearLine(why: string): void {
    if (this.pendingBytes > 0 || this.discarding) this.opts.onBad('torn_line', `${why} after ${this.pendingBytes} bytes of an unfinished line`);
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }

  private save(force: boolean): void {
    const f = this.file;
    if (!f) return;
    const identity = `${f.dev}:${f.ino}`;
    if (this.lineStart === this.savedOffset && identity === this.savedIdentity) return;
    const now = this.now();
    if (!force && now - this.lastSaveMs < (this.opts.persistIntervalMs ?? 1000)) return;
    // The head only grows until HEAD_BYTES; the bytes it covers were read already, so they exist.
    const want = Math.min(HEAD_BYTES, this.lineStart);
    if (want > this.headBytes) {
      this.head = headHash(f.fd, want) ?? '';
      this.headBytes = this.head === '' ? 0 : want;
    }
    const state: FollowState = { path: f.path, dev: String(f.dev), ino: String(f.ino), offset: this.lineStart, headBytes: this.headBytes, head: this.head };
    try {
      writeFollowState(this.opts.stateFile, state);
      this.savedOffset = this.lineStart;
      this.savedIdentity = identity;
      this.lastSaveMs = now;
    } catch (err) {
      if (this.stateSaveErrors++ === 0) this.opts.log.warn({ err, state: this.opts.stateFile }, 'k8s audit log: cannot save the read position (a restart may repeat or skip lines)');
    }
  }
}
