/**
 * Alerts to stdout (or any fd). Node writes to a pipe on stdout synchronously on Linux, so a slow
 * reader would stall the agent; this sink goes through an async fd writer instead: the reader's
 * pace fills our queue, and past its bound alerts are dropped and counted.
 */
import type { LineFormatter } from './format';
import { LineDestination } from './line-destination';
import { QueuedSink, type SinkDeps } from './sink-base';

export interface StdoutSinkOptions {
  readonly queueCapacity: number;
  /** File descriptor to write to; 1 by default. The sink owns any other fd: close() closes it. */
  readonly fd?: number;
  readonly name?: string;
}

export class StdoutSink extends QueuedSink {
  private readonly out: LineDestination;

  constructor(
    opts: StdoutSinkOptions,
    private readonly formatter: LineFormatter,
    deps: SinkDeps,
  ) {
    super(opts.name ?? 'stdout', opts.queueCapacity, deps);
    this.out = new LineDestination({ dest: opts.fd ?? 1 });
  }

  get healthy(): boolean {
    return this.out.error === undefined;
  }

  protected async pumpOnce(): Promise<void> {
    if (this.out.error) {
      // A closed reader (EPIPE) will not come back: stop queueing work for it.
      const n = this.queue.clear();
      if (n > 0) {
        this.failed += n;
        this.logger.warn({ err: this.out.error, lost: n }, 'stdout failed, alerts lost');
      }
      return;
    }
    const alert = this.queue.shift()!;
    const ok = this.out.write(`${this.formatter.line(alert)}\n`);
    this.sent++;
    if (!ok) await this.out.drained();
  }

  protected async release(): Promise<void> {
    this.out.cancelWaits();
    await Promise.race([this.out.flushed(), new Promise((r) => setTimeout(r, 50))]);
    await this.out.destroy();
  }
}
