/**
 * Alerts to a file, one line each, with size- and time-based rotation. Rotation renames the live
 * file to `<path>.1` (shifting older ones up, deleting past `keep`) and opens a new `<path>`, so
 * followers by name (`tail -F`, log shippers) see a new inode and carry on; the live file is only
 * renamed once every byte written to it reached the kernel, so nothing lands in a rotated file late.
 *
 * The file is opened by private-file.ts: never through a link, 0600 from creation, and only an
 * existing regular file of ours is appended to. A file deleted or replaced under the sink (an
 * operator's rm, logrotate without copytruncate) is noticed within `checkIntervalMs` and a new one
 * opened, instead of writing on into an unlinked inode. While the file cannot be opened or
 * written the sink reports unhealthy, alerts wait in its queue, and opens are retried with backoff.
 */
import { closeSync } from 'node:fs';
import { lstat, rename, unlink } from 'node:fs/promises';
import type { LineFormatter } from './format';
import { LineDestination } from './line-destination';
import { openPrivateAppend, type PrivateFile } from '../lib/private-file';
import { backoffMs, OutputStartError, QueuedSink, sleep, type SinkDeps } from './sink-base';

export interface FileSinkOptions {
  readonly path: string;
  readonly queueCapacity: number;
  /** Rotate before a write would take the file past this size; 0 disables size rotation. */
  readonly maxBytes: number;
  /** Rotate a non-empty file this often; 0 disables time rotation. */
  readonly rotateIntervalMs: number;
  /** Rotated files kept (`<path>.1` newest … `<path>.<keep>`); 0 keeps none. */
  readonly keep: number;
  /** Defaults to 0o600: alerts carry command lines and file names. */
  readonly mode?: number;
  /** How often the path is checked for still naming the open file; 1 s by default. */
  readonly checkIntervalMs?: number;
  readonly name?: string;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Backoff between failed opens (or writes): 200 ms doubling to 10 s. */
const RETRY_INITIAL_MS = 200;
const RETRY_MAX_MS = 10_000;

export class FileSink extends QueuedSink {
  /** The open file and its writer; both undefined before the first open and after a failure. */
  private out: LineDestination | undefined;
  private file: PrivateFile | undefined;
  private opening: Promise<void> | undefined;
  private bytes = 0;
  private openedAt = Date.now();
  private rotateDue = false;
  /** The path no longer names the open file. */
  private reopenDue = false;
  /** A failed open is due for another try (set by the check timer while idle). */
  private retryDue = false;
  private checking = false;
  private released = false;
  private rotations = 0;
  private reopens = 0;
  /** Why the file could not be opened; cleared by the next successful open. */
  private openTrouble: Error | undefined;
  /** Why a write failed; cleared once a write to the reopened file reached the kernel. */
  private writeTrouble: Error | undefined;
  /** Consecutive failures, for the retry backoff. */
  private attempts = 0;
  private readonly rotateTimer: NodeJS.Timeout | undefined;
  private readonly checkTimer: NodeJS.Timeout;
  private readonly mode: number;

  constructor(
    private readonly opts: FileSinkOptions,
    private readonly formatter: LineFormatter,
    deps: SinkDeps,
  ) {
    super(opts.name ?? 'file', opts.queueCapacity, deps);
    this.mode = opts.mode ?? 0o600;
    if (opts.rotateIntervalMs > 0) {
      this.rotateTimer = setInterval(() => this.checkAge(), Math.min(opts.rotateIntervalMs, 1000));
      this.rotateTimer.unref();
    }
    this.checkTimer = setInterval(() => this.checkFile(), opts.checkIntervalMs ?? 1000);
    this.checkTimer.unref();
  }

  /**
   * Opens (or creates) the file now, so a path that cannot work stops the agent at start instead
   * of failing at the first alert. Rejects with an OutputStartError naming the sink, path and reason.
   */
  async start(): Promise<void> {
    if (this.out !== undefined) return;
    try {
      await this.openOnce();
    } catch (err) {
      this.openTrouble = err as Error;
      throw new OutputStartError(this.name, `cannot write alerts to ${(err as Error).message}`);
    }
  }

  get healthy(): boolean {
    if (this.openTrouble !== undefined || this.out?.error !== undefined) return false;
    return this.writeTrouble === undefined || (this.out !== undefined && this.out.bytesWritten > 0);
  }

  /** Rotations done since start (for tests and debug logs). */
  get rotationCount(): number {
    return this.rotations;
  }

  /** Times a new file was opened because the old one was deleted or replaced under the sink. */
  get reopenCount(): number {
    return this.reopens;
  }

  private checkAge(): void {
    if (this.bytes > 0 && Date.now() - this.openedAt >= this.opts.rotateIntervalMs) {
      this.rotateDue = true;
      this.kick();
    }
  }

  /** Timer: notices a deleted or replaced file, and retries a failed open while idle. */
  private checkFile(): void {
    if (this.closing) return;
    const file = this.file;
    if (file === undefined) {
      if (this.openTrouble !== undefined && !this.retryDue) {
        this.retryDue = true;
        this.kick();
      }
      return;
    }
    if (this.checking || this.reopenDue) return;
    this.checking = true;
    void lstat(this.opts.path).then(
      (st) => this.pathMoved(file, st.dev, st.ino),
      () => this.pathMoved(file, -1, -1),
    );
  }

  private pathMoved(file: PrivateFile, dev: number, ino: number): void {
    this.checking = false;
    // A result about a file we already left (rotation) says nothing about the current one.
    if (this.file !== file || (dev === file.dev && ino === file.ino)) return;
    this.reopenDue = true;
    this.kick();
  }

  protected override hasWork(): boolean {
    return this.queue.length > 0 || this.retryDue || (this.out !== undefined && (this.rotateDue || this.reopenDue));
  }

  protected async pumpOnce(): Promise<void> {
    this.retryDue = false;
    if (this.out?.error !== undefined) this.writeFailed(this.out);
    if (this.reopenDue) await this.leaveIfReplaced();
    if (this.out === undefined && !(await this.openWithBackoff())) return;
    if (this.writeTrouble !== undefined && this.out!.bytesWritten > 0) this.recovered();
    const alert = this.queue.at(0);
    const line = alert === undefined ? '' : `${this.formatter.line(alert)}\n`;
    const size = Buffer.byteLength(line);
    if (this.rotateDue || (this.opts.maxBytes > 0 && this.bytes > 0 && this.bytes + size > this.opts.maxBytes)) {
      await this.rotate();
    }
    const out = this.out;
    if (alert === undefined || out === undefined) return;
    this.queue.shift();
    const ok = out.write(line);
    this.bytes += size;
    this.sent++;
    if (!ok) await out.drained();
  }

  /** One open at a time: start() and the pump may both ask. */
  private openOnce(): Promise<void> {
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<void> {
    const file = await openPrivateAppend(this.opts.path, this.mode);
    if (this.released) {
      // close() finished while the open was in flight: nobody will write or close it.
      closeSync(file.fd);
      return;
    }
    this.file = file;
    this.out = new LineDestination({ dest: file.fd });
    this.bytes = file.size;
    this.openedAt = Date.now();
    if (this.openTrouble !== undefined) {
      this.logger.info({ path: this.opts.path }, 'alert file can be opened again');
      this.openTrouble = undefined;
    }
  }

  /** Opens the file, after a backoff when the last attempt failed; false when it is still not open. */
  private async openWithBackoff(): Promise<boolean> {
    if (this.attempts > 0) {
      await sleep(backoffMs(this.attempts - 1, RETRY_INITIAL_MS, RETRY_MAX_MS), this.abort.signal);
      if (this.abort.signal.aborted) return false;
    }
    try {
      await this.openOnce();
      return true;
    } catch (err) {
      this.attempts++;
      const first = this.openTrouble === undefined;
      this.openTrouble = err as Error;
      // One error per outage; the retries behind it are debug noise.
      if (first) this.logger.error({ path: this.opts.path, reason: (err as Error).message }, 'cannot open the alert file; alerts wait in the queue while retrying');
      else this.logger.debug({ path: this.opts.path, attempts: this.attempts }, 'alert file still cannot be opened');
      return false;
    }
  }

  private writeFailed(out: LineDestination): void {
    this.attempts++;
    const first = this.writeTrouble === undefined;
    this.writeTrouble = out.error;
    if (first) this.logger.error({ err: out.error, path: this.opts.path }, 'alert file write failed; reopening');
    this.out = undefined;
    this.file = undefined;
    void out.destroy();
  }

  private recovered(): void {
    this.logger.info({ path: this.opts.path, attempts: this.attempts }, 'alert file writable again');
    this.writeTrouble = undefined;
    this.attempts = 0;
  }

  /** Leaves a file whose name now points elsewhere (or nowhere); the next step opens a new one. */
  private async leaveIfReplaced(): Promise<void> {
    this.reopenDue = false;
    const file = this.file;
    const out = this.out;
    if (file === undefined || out === undefined) return;
    try {
      const st = await lstat(this.opts.path);
      // Rotation got there first and the name is ours again.
      if (st.dev === file.dev && st.ino === file.ino) return;
    } catch {
      // Gone: reopen.
    }
    this.reopens++;
    this.logger.warn({ path: this.opts.path, reopens: this.reopens }, 'alert file was deleted or replaced; opening a new one');
    this.out = undefined;
    this.file = undefined;
    await out.end();
  }

  private async rotate(): Promise<void> {
    this.rotateDue = false;
    const out = this.out;
    if (out === undefined) return;
    await out.flushed();
    const { path, keep } = this.opts;
    try {
      if (keep === 0) {
        await ignoreMissing(unlink(path));
      } else {
        await ignoreMissing(unlink(`${path}.${keep}`));
        for (let i = keep - 1; i >= 1; i--) await ignoreMissing(rename(`${path}.${i}`, `${path}.${i + 1}`));
        await ignoreMissing(rename(path, `${path}.1`));
      }
    } catch (err) {
      // Keep writing to the current file rather than lose alerts over a failed rename.
      this.logger.error({ err }, 'alert file rotation failed');
      return;
    }
    this.out = undefined;
    this.file = undefined;
    await out.end();
    this.rotations++;
    this.bytes = 0;
    this.openedAt = Date.now();
    // A failed open leaves `out` unset: the next pump step retries it with backoff.
    await this.openWithBackoff();
  }

  protected async release(): Promise<void> {
    this.released = true;
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    clearInterval(this.checkTimer);
    const out = this.out;
    this.out = undefined;
    if (out === undefined) return;
    out.cancelWaits();
    await out.end();
  }
}
