/**
 * Alerts to a file, one line each, with size- and time-based rotation. Rotation renames the live
 * file to `<path>.1` (shifting older ones up, deleting past `keep`) and reopens `<path>`, so
 * followers by name (`tail -F`, log shippers) see a new inode and carry on; the live file is only
 * renamed once every byte written to it reached the kernel, so nothing lands in a rotated file late.
 */
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import type { LineFormatter } from './format';
import { LineDestination } from './line-destination';
import { QueuedSink, type SinkDeps } from './sink-base';

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
  readonly name?: string;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export class FileSink extends QueuedSink {
  private out: LineDestination;
  private bytes = 0;
  private openedAt = Date.now();
  private rotateDue = false;
  private rotations = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly mode: number;
  private readonly ready: Promise<void>;

  constructor(
    private readonly opts: FileSinkOptions,
    private readonly formatter: LineFormatter,
    deps: SinkDeps,
  ) {
    super(opts.name ?? 'file', opts.queueCapacity, deps);
    this.mode = opts.mode ?? 0o600;
    this.out = new LineDestination({ dest: opts.path, mode: this.mode });
    this.ready = this.adoptExisting();
    if (opts.rotateIntervalMs > 0) {
      this.timer = setInterval(() => this.checkAge(), Math.min(opts.rotateIntervalMs, 1000));
      this.timer.unref();
    }
  }

  /** An existing file keeps its content, but not a looser mode, and its size counts toward rotation. */
  private async adoptExisting(): Promise<void> {
    try {
      const st = await stat(this.opts.path);
      this.bytes = st.size;
      if ((st.mode & 0o777) !== this.mode) await chmod(this.opts.path, this.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err }, 'cannot stat alert file');
    }
  }

  get healthy(): boolean {
    return this.out.error === undefined;
  }

  /** Rotations done since start (for tests and debug logs). */
  get rotationCount(): number {
    return this.rotations;
  }

  private checkAge(): void {
    if (this.bytes > 0 && Date.now() - this.openedAt >= this.opts.rotateIntervalMs) {
      this.rotateDue = true;
      this.kick();
    }
  }

  protected override hasWork(): boolean {
    return this.queue.length > 0 || this.rotateDue;
  }

  protected async pumpOnce(): Promise<void> {
    await this.ready;
    if (this.out.error) {
      this.logger.error({ err: this.out.error }, 'alert file write failed; reopening');
      this.reopenFresh();
    }
    const alert = this.queue.at(0);
    const line = alert === undefined ? '' : `${this.formatter.line(alert)}\n`;
    const size = Buffer.byteLength(line);
    if (this.rotateDue || (this.opts.maxBytes > 0 && this.bytes > 0 && this.bytes + size > this.opts.maxBytes)) {
      await this.rotate();
    }
    if (alert === undefined) return;
    this.queue.shift();
    const ok = this.out.write(line);
    this.bytes += size;
    this.sent++;
    if (!ok) await this.out.drained();
  }

  private reopenFresh(): void {
    this.out.destroy();
    this.out = new LineDestination({ dest: this.opts.path, mode: this.mode });
  }

  private async rotate(): Promise<void> {
    this.rotateDue = false;
    await this.out.flushed();
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
    this.out.reopen();
    this.bytes = 0;
    this.openedAt = Date.now();
    this.rotations++;
  }

  protected async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.out.cancelWaits();
    await this.out.end();
  }
}
