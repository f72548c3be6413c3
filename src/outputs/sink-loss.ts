/**
 * The lost-alerts self-alert. Every sink counts what it loses (`dropped`: its queue was full or it
 * was closing; `failed`: delivery given up); metrics alone leave that loss silent. Checked once a
 * second, the losses since the last announcement are announced as one warn log line and one
 * internal alert naming each sink and its counts, at most as often as a token bucket allows (the
 * first at once, then one per 30 s, the drops self-alert's pace). What the limiter holds back is
 * carried into the next announcement, so every lost alert is reported, just not one by one.
 */
import type { Logger } from 'pino';
import type { Alert, AlertSink, PriorityNum } from './alert';
import { TokenBucket } from './token-bucket';

export const SINK_LOSS_RULE = 'Lanner internal: alerts lost by an output';

/** Announcements per second and burst: one at once, then one per 30 s. */
const DEFAULT_RATE = 1 / 30;
const DEFAULT_BURST = 1;
/** Losses are announced at Warning: an operator is missing alerts. */
const LOSS_PRIORITY: PriorityNum = 4;

export interface SinkLoss {
  readonly sink: string;
  readonly dropped: number;
  readonly failed: number;
}

export interface SinkLossMonitorDeps {
  readonly logger: Logger;
  readonly hostname: string;
  /** ms clock for the limiter and the alert time. */
  readonly now: () => number;
  readonly rate?: number;
  readonly burst?: number;
}

interface Counts {
  dropped: number;
  failed: number;
}

export class SinkLossMonitor {
  /** Each sink's counters as of its last announcement. */
  private readonly announced = new Map<AlertSink, Counts>();
  private readonly bucket: TokenBucket;
  private lastAnnouncedAt: number;
  private announcements = 0;

  constructor(
    private sinks: readonly AlertSink[],
    private readonly deps: SinkLossMonitorDeps,
  ) {
    const now = deps.now();
    this.bucket = new TokenBucket(deps.rate ?? DEFAULT_RATE, deps.burst ?? DEFAULT_BURST, now);
    this.lastAnnouncedAt = now;
    for (const s of sinks) this.announced.set(s, { dropped: 0, failed: 0 });
  }

  /**
   * The sinks after a reload: kept sinks keep their counts, new ones start at zero. A retired sink
   * is no longer watched; what it loses while closing is logged by its own close.
   */
  setSinks(sinks: readonly AlertSink[]): void {
    const kept = new Set(sinks);
    for (const s of this.announced.keys()) if (!kept.has(s)) this.announced.delete(s);
    for (const s of sinks) if (!this.announced.has(s)) this.announced.set(s, { dropped: 0, failed: 0 });
    this.sinks = sinks;
  }

  /** Announcements made so far. */
  get count(): number {
    return this.announcements;
  }

  /** Losses not yet announced, per sink that has any. */
  pending(): SinkLoss[] {
    const out: SinkLoss[] = [];
    for (const s of this.sinks) {
      const st = s.stats();
      const seen = this.announced.get(s)!;
      const dropped = st.dropped - seen.dropped;
      const failed = st.failed - seen.failed;
      if (dropped > 0 || failed > 0) out.push({ sink: s.name, dropped, failed });
    }
    return out;
  }

  /**
   * Logs the pending losses and returns the internal alert to publish, when there are any and the
   * limiter allows; undefined otherwise (the counts wait for the next check).
   */
  check(): Alert | undefined {
    const losses = this.pending();
    if (losses.length === 0) return undefined;
    const now = this.deps.now();
    if (!this.bucket.take(now)) return undefined;
    const seconds = Math.max(0, Math.round((now - this.lastAnnouncedAt) / 1000));
    const text = this.describe(losses, `in the last ${seconds}s`);
    this.markAnnounced(now);
    this.log(losses, text);
    return this.alert(losses, text, now, seconds);
  }

  /** At shutdown: logs whatever is still unannounced, without the limiter (no alert: sinks are closed). */
  flushToLog(): void {
    const losses = this.pending();
    if (losses.length === 0) return;
    this.markAnnounced(this.deps.now());
    this.log(losses, this.describe(losses, 'since the last report, at shutdown'));
  }

  private markAnnounced(now: number): void {
    for (const s of this.sinks) {
      const st = s.stats();
      this.announced.set(s, { dropped: st.dropped, failed: st.failed });
    }
    this.lastAnnouncedAt = now;
    this.announcements++;
  }

  private describe(losses: readonly SinkLoss[], when: string): string {
    let total = 0;
    const parts: string[] = [];
    for (const l of losses) {
      total += l.dropped + l.failed;
      parts.push(`${l.sink} lost ${l.dropped + l.failed} (queue full or closing ${l.dropped}, delivery failed ${l.failed})`);
    }
    return `${SINK_LOSS_RULE}. ${total} alerts lost ${when}: ${parts.join('; ')}`;
  }

  private log(losses: readonly SinkLoss[], text: string): void {
    const bySink: Record<string, { dropped: number; failed: number }> = {};
    for (const l of losses) bySink[l.sink] = { dropped: l.dropped, failed: l.failed };
    this.deps.logger.warn({ rule: SINK_LOSS_RULE, sinks: bySink }, text);
  }

  private alert(losses: readonly SinkLoss[], text: string, now: number, seconds: number): Alert {
    let dropped = 0;
    let failed = 0;
    for (const l of losses) {
      dropped += l.dropped;
      failed += l.failed;
    }
    return {
      timeNs: BigInt(now) * 1_000_000n,
      rule: SINK_LOSS_RULE,
      priority: LOSS_PRIORITY,
      source: 'internal',
      message: text,
      outputFields: {
        lost: String(dropped + failed),
        dropped: String(dropped),
        failed: String(failed),
        interval_s: String(seconds),
        sinks: losses.map((l) => `${l.sink}=${l.dropped + l.failed}`).join('; '),
      },
      tags: [],
      hostname: this.deps.hostname,
    };
  }
}
