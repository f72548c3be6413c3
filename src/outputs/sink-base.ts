/**
 * Shared machinery of every sink: its own bounded queue, the counters, and one async pump that
 * delivers in order. `offer()` only pushes and schedules the pump, so the caller (the rule engine's
 * hot path) never waits on a peer.
 */
import type { Logger } from 'pino';
import type { Alert, AlertSink, SinkStats } from './alert';
import { BoundedQueue } from '../lib/bounded-queue';

/** A sink that cannot work as configured, found at start: the agent must not report ready. */
export class OutputStartError extends Error {
  constructor(
    readonly sink: string,
    readonly reason: string,
  ) {
    super(`${sink} output: ${reason}`);
    this.name = 'OutputStartError';
  }
}

export interface SinkDeps {
  readonly logger: Logger;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with equal jitter: half the step fixed, half random, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return step / 2 + Math.random() * (step / 2);
}

export abstract class QueuedSink implements AlertSink {
  protected readonly queue: BoundedQueue<Alert>;
  protected readonly logger: Logger;
  protected sent = 0;
  protected failed = 0;
  protected dropped = 0;
  /** Aborted when close() runs out of time: pumps and retries must stop waiting on it. */
  protected readonly abort = new AbortController();
  protected closing = false;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];

  abstract readonly healthy: boolean;

  constructor(
    readonly name: string,
    queueCapacity: number,
    deps: SinkDeps,
  ) {
    this.queue = new BoundedQueue<Alert>(queueCapacity);
    this.logger = deps.logger.child({ sink: name });
  }

  offer(alert: Alert): boolean {
    if (this.closing || !this.queue.push(alert)) {
      this.dropped++;
      return false;
    }
    this.kick();
    return true;
  }

  stats(): SinkStats {
    return { sent: this.sent, failed: this.failed, dropped: this.dropped, queueDepth: this.queue.length, queueCapacity: this.queue.capacity };
  }

  /** Whether the pump has something to do; sinks with side work (rotation) widen it. */
  protected hasWork(): boolean {
    return this.queue.length > 0;
  }

  /** Delivers at least one queued item (or does the side work); must not throw for peer failures. */
  protected abstract pumpOnce(): Promise<void>;

  /** Releases sockets/files; called once by close() after the flush phase. */
  protected abstract release(): Promise<void>;

  protected kick(): void {
    if (this.pumping || this.abort.signal.aborted) return;
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (this.hasWork() && !this.abort.signal.aborted) {
        await this.pumpOnce();
      }
    } catch (err) {
      this.logger.error({ err }, 'alert sink pump failed');
    } finally {
      this.pumping = false;
      if (!this.hasWork() || this.abort.signal.aborted) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else {
        this.kick();
      }
    }
  }

  private idle(): Promise<void> {
    if (!this.pumping && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(deadlineMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    this.kick();
    await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    this.abort.abort();
    const lost = this.queue.clear();
    if (lost > 0) {
      this.failed += lost;
      this.logger.warn({ lost }, 'alerts still queued at shutdown deadline were lost');
    }
    await this.release();
  }
}
