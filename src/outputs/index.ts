/**
 * The alert fan-out: one `publish()` per alert from the rule engine, per-rule rate limiting and
 * optional de-duplication in front, then a hand-over to every enabled sink's own bounded queue.
 * Nothing here waits on a peer; what is suppressed is counted and reported in a periodic internal
 * alert, so an operator sees that a noisy rule was throttled instead of silently losing it; what a
 * sink loses (full queue, failed delivery) is announced the same way (sink-loss.ts).
 */
import type { Logger } from 'pino';
import { parsePriority, type Alert, type AlertSink, type PriorityNum, type SinkStats } from './alert';
import type { OutputsConfig } from './config';
import { FileSink } from './file-sink';
import { LineFormatter, type FormatOptions } from './format';
import { BoundedQueue } from '../lib/bounded-queue';
import { GrpcSink } from './grpc-sink';
import { HttpSink } from './http-sink';
import { OutputStartError } from './sink-base';
import { SinkLossMonitor } from './sink-loss';
import { StdoutSink } from './stdout-sink';
import { SyslogSink } from './syslog-sink';
import { TokenBucket } from './token-bucket';

export type { Alert, AlertSink, SinkStats } from './alert';
export { DropMonitor, type DropCounters } from './drop-monitor';
export { OutputStartError } from './sink-base';
export { SINK_LOSS_RULE, type SinkLoss } from './sink-loss';
export { formatJson, formatLine, formatOutputText, LineFormatter, type FormatOptions } from './format';
export { isoTimeNs, timeOfDayNs } from '../lib/time-format';

export const SUPPRESSED_SUMMARY_RULE = 'Lanner internal: alerts suppressed';
/** How many rules the summary names; the rest are only counted. */
const SUMMARY_TOP_RULES = 10;

export interface OutputsDeps {
  readonly logger: Logger;
  readonly hostname: string;
  /** Millisecond clock for the limiters; Date.now by default. */
  readonly now?: () => number;
  /** Sinks built elsewhere (tests, other parts), fed like the configured ones. */
  readonly extraSinks?: readonly AlertSink[];
  /** Version reported by the gRPC version service; package.json by default. */
  readonly version?: string;
  /** Lost-alert announcements per second and burst; one at once then one per 30 s by default. */
  readonly lossAnnouncements?: { readonly rate: number; readonly burst: number };
}

/** How often sink losses are looked at (the announcement itself is rate limited). */
const LOSS_CHECK_INTERVAL_MS = 1000;

export interface SuppressionPolicy {
  readonly rateLimit: { readonly enabled: boolean; readonly rate: number; readonly burst: number; readonly maxRules: number };
  readonly dedup: { readonly enabled: boolean; readonly windowMs: number; readonly maxEntries: number };
  readonly summaryIntervalMs: number;
  readonly summaryPriority: PriorityNum;
}

export interface OutputsStats {
  /** Alerts handed to publish(). */
  readonly published: number;
  readonly rateLimited: number;
  readonly deduplicated: number;
  /** Internal alerts (summaries, drop alerts) sent past the limiters. */
  readonly internal: number;
  readonly sinks: Readonly<Record<string, SinkStats>>;
}

interface SuppressedCount {
  rateLimited: number;
  deduplicated: number;
}

export class Outputs {
  private readonly buckets = new Map<string, TokenBucket>();
  /** key → expiry (ms) for lookups ... */
  private readonly recent = new Map<string, number>();
  /**
   * ... and the same entries in expiry order (the window is fixed, so insertion order). A ring, not
   * the Map's own order: V8 keeps deleted Map entries as holes until a rehash, so sweeping a Map
   * from the front costs more the more was deleted.
   */
  private readonly recentOrder: BoundedQueue<{ key: string; expiry: number }>;
  private readonly suppressedByRule = new Map<string, SuppressedCount>();
  private suppressedOther: SuppressedCount = { rateLimited: 0, deduplicated: 0 };
  private published = 0;
  private rateLimited = 0;
  private deduplicated = 0;
  private internal = 0;
  private summaryStart: number;
  private readonly summaryTimer: NodeJS.Timeout | undefined;
  private readonly losses: SinkLossMonitor;
  private readonly lossTimer: NodeJS.Timeout;
  private readonly now: () => number;
  private closed = false;

  constructor(
    readonly sinks: readonly AlertSink[],
    private readonly policy: SuppressionPolicy,
    private readonly deps: OutputsDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.recentOrder = new BoundedQueue(policy.dedup.maxEntries);
    this.summaryStart = this.now();
    if (policy.rateLimit.enabled || policy.dedup.enabled) {
      this.summaryTimer = setInterval(() => this.emitSummary(), policy.summaryIntervalMs);
      this.summaryTimer.unref();
    }
    const pace = deps.lossAnnouncements;
    this.losses = new SinkLossMonitor(sinks, { logger: deps.logger, hostname: deps.hostname, now: this.now, ...(pace === undefined ? {} : { rate: pace.rate, burst: pace.burst }) });
    this.lossTimer = setInterval(() => this.announceLosses(), LOSS_CHECK_INTERVAL_MS);
    this.lossTimer.unref();
  }

  /**
   * Acquires what every sink needs (gRPC binds its address, the file sink opens its file). Call it
   * before saying ready: it rejects with an OutputStartError naming the sink and the reason
   * (e.g. `file output: cannot write alerts to /x/alerts.json: is a symbolic link; refusing to
   * follow it`), and the agent must not start then.
   */
  async start(): Promise<void> {
    await Promise.all(
      this.sinks.map(async (s) => {
        if (s.start === undefined) return;
        try {
          await s.start();
        } catch (err) {
          throw err instanceof OutputStartError ? err : new OutputStartError(s.name, (err as Error).message);
        }
      }),
    );
  }

  /** Non-blocking, O(1) in the number of alerts seen. Returns false when the alert was suppressed. */
  publish(alert: Alert): boolean {
    this.published++;
    if (this.closed) return false;
    const now = this.now();
    if (this.policy.dedup.enabled && this.isDuplicate(alert, now)) {
      this.deduplicated++;
      this.countSuppressed(alert.rule).deduplicated++;
      return false;
    }
    if (this.policy.rateLimit.enabled && !this.takeToken(alert.rule, now)) {
      this.rateLimited++;
      this.countSuppressed(alert.rule).rateLimited++;
      return false;
    }
    this.fanOut(alert);
    return true;
  }

  /** For self-alerts that carry their own limiter (drop monitor, summaries): skips rate limit and dedup. */
  publishInternal(alert: Alert): void {
    if (this.closed) return;
    this.internal++;
    this.fanOut(alert);
  }

  /**
   * Announces what the sinks lost since the last announcement (log line + internal alert), if the
   * limiter allows; runs every second. Returns the alert sent, if any.
   */
  announceLosses(): Alert | undefined {
    if (this.closed) return undefined;
    const alert = this.losses.check();
    if (alert !== undefined) this.publishInternal(alert);
    return alert;
  }

  private fanOut(alert: Alert): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.offer(alert);
  }

  private isDuplicate(alert: Alert, now: number): boolean {
    const order = this.recentOrder;
    // Amortised O(1): each entry leaves once, from the front.
    for (let head = order.at(0); head !== undefined && head.expiry <= now; head = order.at(0)) this.forget(order.shift()!);
    const key = `${alert.rule}\u0000${alert.message}`;
    if (this.recent.has(key)) return true;
    if (order.length === order.capacity) this.forget(order.shift()!);
    const expiry = now + this.policy.dedup.windowMs;
    this.recent.set(key, expiry);
    order.push({ key, expiry });
    return false;
  }

  private forget(entry: { key: string; expiry: number }): void {
    if (this.recent.get(entry.key) === entry.expiry) this.recent.delete(entry.key);
  }

  private takeToken(rule: string, now: number): boolean {
    let bucket = this.buckets.get(rule);
    if (bucket === undefined) {
      // Rule names come from loaded rules, but a bound keeps a misbehaving producer from growing this forever.
      if (this.buckets.size >= this.policy.rateLimit.maxRules) this.buckets.clear();
      bucket = new TokenBucket(this.policy.rateLimit.rate, this.policy.rateLimit.burst, now);
      this.buckets.set(rule, bucket);
    }
    return bucket.take(now);
  }

  private countSuppressed(rule: string): SuppressedCount {
    let c = this.suppressedByRule.get(rule);
    if (c === undefined) {
      if (this.suppressedByRule.size >= this.policy.rateLimit.maxRules) return this.suppressedOther;
      c = { rateLimited: 0, deduplicated: 0 };
      this.suppressedByRule.set(rule, c);
    }
    return c;
  }

  /**
   * Sends one internal alert naming what was suppressed since the last summary, if anything was.
   * Runs on a timer (at most once per interval, which is its rate limit) and at close.
   */
  emitSummary(): Alert | undefined {
    const now = this.now();
    const entries = [...this.suppressedByRule.entries()];
    const other = this.suppressedOther;
    this.suppressedByRule.clear();
    this.suppressedOther = { rateLimited: 0, deduplicated: 0 };
    const sinceMs = now - this.summaryStart;
    this.summaryStart = now;
    let rateLimited = other.rateLimited;
    let deduplicated = other.deduplicated;
    for (const [, c] of entries) {
      rateLimited += c.rateLimited;
      deduplicated += c.deduplicated;
    }
    const total = rateLimited + deduplicated;
    if (total === 0) return undefined;
    entries.sort((a, b) => b[1].rateLimited + b[1].deduplicated - (a[1].rateLimited + a[1].deduplicated));
    const top = entries
      .slice(0, SUMMARY_TOP_RULES)
      .map(([rule, c]) => `${rule}=${c.rateLimited + c.deduplicated}`)
      .join('; ');
    const seconds = Math.round(sinceMs / 1000);
    const alert: Alert = {
      timeNs: BigInt(now) * 1_000_000n,
      rule: SUPPRESSED_SUMMARY_RULE,
      priority: this.policy.summaryPriority,
      source: 'internal',
      message: `${SUPPRESSED_SUMMARY_RULE}. ${total} alerts suppressed in the last ${seconds}s (rate limited ${rateLimited}, duplicates ${deduplicated}); top rules: ${top}`,
      outputFields: {
        suppressed: String(total),
        rate_limited: String(rateLimited),
        deduplicated: String(deduplicated),
        interval_s: String(seconds),
        rules: String(entries.length),
        top_rules: top,
      },
      tags: [],
      hostname: this.deps.hostname,
    };
    this.publishInternal(alert);
    return alert;
  }

  get healthy(): boolean {
    return this.sinks.every((s) => s.healthy);
  }

  stats(): OutputsStats {
    const sinks: Record<string, SinkStats> = {};
    for (const s of this.sinks) sinks[s.name] = s.stats();
    return { published: this.published, rateLimited: this.rateLimited, deduplicated: this.deduplicated, internal: this.internal, sinks };
  }

  /** Emits a last summary, then flushes every sink concurrently within the deadline. */
  async close(deadlineMs: number): Promise<void> {
    if (this.closed) return;
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    clearInterval(this.lossTimer);
    this.emitSummary();
    this.closed = true;
    await Promise.all(this.sinks.map((s) => s.close(deadlineMs)));
    // Including what the deadline cut off; only logged, the sinks are gone.
    this.losses.flushToLog();
  }
}

export function formatOptions(config: OutputsConfig): FormatOptions {
  const f = config.format;
  return {
    jsonOutput: f.json_output,
    includeOutput: f.json_include_output_property,
    includeMessage: f.json_include_message_property,
    includeOutputFields: f.json_include_output_fields_property,
    includeTags: f.json_include_tags_property,
    timeIso8601: f.time_format_iso_8601,
  };
}

/** Builds the sinks enabled in the `outputs:` section. Call `start()` before publishing. */
export function createOutputs(config: OutputsConfig, deps: OutputsDeps): Outputs {
  const formatter = new LineFormatter(formatOptions(config));
  const sinkDeps = { logger: deps.logger };
  const sinks: AlertSink[] = [];
  if (config.stdout.enabled) sinks.push(new StdoutSink({ queueCapacity: config.stdout.queue_capacity }, formatter, sinkDeps));
  const f = config.file;
  if (f.enabled) {
    sinks.push(new FileSink({ path: f.path, queueCapacity: f.queue_capacity, maxBytes: f.max_bytes, rotateIntervalMs: f.rotate_interval_s * 1000, keep: f.keep }, formatter, sinkDeps));
  }
  const s = config.syslog;
  if (s.enabled) {
    sinks.push(
      new SyslogSink(
        { transport: s.transport, path: s.path, host: s.host, port: s.port, facility: s.facility, appName: s.app_name, maxMessageBytes: s.max_message_bytes, queueCapacity: s.queue_capacity, tls: s.tls },
        formatter,
        sinkDeps,
      ),
    );
  }
  const h = config.http;
  if (h.enabled) {
    sinks.push(
      new HttpSink(
        {
          url: h.url,
          queueCapacity: h.queue_capacity,
          batchSize: h.batch_size,
          timeoutMs: h.timeout_ms,
          userAgent: h.user_agent,
          headers: h.headers,
          maxAttempts: h.retry.max_attempts,
          initialBackoffMs: h.retry.initial_backoff_ms,
          maxBackoffMs: h.retry.max_backoff_ms,
          tls: h.tls,
        },
        formatter,
        sinkDeps,
      ),
    );
  }
  const g = config.grpc;
  if (g.enabled) {
    sinks.push(
      new GrpcSink(
        {
          bindAddress: g.bind_address,
          subscriberQueueCapacity: g.subscriber_queue_capacity,
          backlogCapacity: g.backlog_capacity,
          maxSubscribers: g.max_subscribers,
          timeIso8601: config.format.time_format_iso_8601,
          tls: g.tls,
        },
        { logger: deps.logger, ...(deps.version === undefined ? {} : { version: deps.version }) },
      ),
    );
  }
  sinks.push(...(deps.extraSinks ?? []));
  const policy: SuppressionPolicy = {
    rateLimit: { enabled: config.rate_limit.enabled, rate: config.rate_limit.rate, burst: config.rate_limit.burst, maxRules: config.rate_limit.max_rules },
    dedup: { enabled: config.dedup.enabled, windowMs: config.dedup.window_s * 1000, maxEntries: config.dedup.max_entries },
    summaryIntervalMs: config.summary.interval_s * 1000,
    summaryPriority: parsePriority(config.summary.priority) ?? 7,
  };
  return new Outputs(sinks, policy, deps);
}
