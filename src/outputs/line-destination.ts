/**
 * Async line writer over sonic-boom (pino's destination). Writes happen on libuv's thread pool, so
 * a blocking pipe or a slow disk stalls a pool thread, never the event loop. Byte accounting on the
 * public 'write' event tells when everything handed over has reached the kernel, which rotation
 * needs before it renames the file.
 */
import { close } from 'node:fs';
import pino from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

export interface DestinationTarget {
  /**
   * An open file descriptor, which the destination owns from then on (closed at end, except 1 and
   * 2). Never a path: files are opened by private-file.ts, which refuses links and foreign files.
   */
  readonly dest: number;
}

export class LineDestination {
  private readonly boom: SonicBoom;
  private handed = 0;
  private written = 0;
  private flushWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private readonly fd: number;
  /** Settles once destroy() has closed the fd. */
  private closing: Promise<void> | undefined;
  /** Set once the destination failed (EPIPE, EBADF…); nothing written after that. */
  error: Error | undefined;

  constructor(target: DestinationTarget) {
    this.fd = target.dest;
    this.boom = pino.destination({ dest: target.dest, sync: false, minLength: 0 });
    this.boom.on('write', (n: number) => {
      this.written += n;
      if (this.written >= this.handed) this.wake('flush');
    });
    this.boom.on('drain', () => this.wake('drain'));
    this.boom.on('error', (err: Error) => {
      this.error ??= err;
      this.wake('flush');
      this.wake('drain');
    });
  }

  private wake(which: 'flush' | 'drain'): void {
    const list = which === 'flush' ? this.flushWaiters : this.drainWaiters;
    if (which === 'flush') this.flushWaiters = [];
    else this.drainWaiters = [];
    for (const w of list) w();
  }

  /** Releases anyone waiting on drain/flush (shutdown deadline passed). */
  cancelWaits(): void {
    this.wake('flush');
    this.wake('drain');
  }

  /** Bytes the kernel accepted so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Returns false when the caller should wait for `drained()` before writing more. */
  write(line: string): boolean {
    this.handed += Buffer.byteLength(line);
    return this.boom.write(line);
  }

  drained(): Promise<void> {
    if (this.error) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves once every byte handed over was written (or the destination failed). */
  flushed(): Promise<void> {
    if (this.error || this.written >= this.handed) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /** Ends after writing what is buffered; never closes fd 1/2. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.error) {
        void this.destroy().then(resolve);
        return;
      }
      this.boom.once('close', () => resolve());
      this.boom.once('error', () => resolve());
      this.boom.end();
    });
  }

  /**
   * Drops what is buffered and closes the fd (not 1/2); resolves once it is closed, so an owner
   * that lets the number be reused afterwards never has a late close land on someone else's file.
   */
  destroy(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      const boom = this.boom as SonicBoom & { destroyed?: boolean };
      boom.once('close', () => resolve());
      boom.once('error', () => resolve());
      boom.destroy();
      if (boom.destroyed !== true) {
        // pino's destination turns destroy (and end) into no-ops after EPIPE: the fd is ours to close.
        if (this.fd > 2) close(this.fd, () => resolve());
        else resolve();
      }
    });
    return this.closing;
  }
}
