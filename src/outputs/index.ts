/**
 * The alert fan-out: one `publish()` per alert from the rule engine, per-rule rate limiting and
 * optional de-duplication in front; then, once per alert, redaction, the static fields and the
 * alert's identity (uuid, agent id, sequence number), and a hand-over to the bounded queue of every
 * sink whose route takes it. Nothing here waits on a peer; what is suppressed is counted and
 * reported in a periodic internal alert, so an operator sees that a noisy rule was throttled
 * instead of silently losing it; what a sink loses (full queue, failed delivery) is announced the
 * same way (sink-loss.ts). A configuration reload swaps sinks, routes and policies in place
 * (`reconfigure`).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { parsePriority, type Alert, type AlertSink, type OutputFieldValue, type PriorityNum, type SinkStats } from './alert';
import type { OutputsConfig, RedactionConfig, StaticFieldsConfig } from './config';
import { BoundedQueue } from '../lib/bounded-queue';
import { Redactor } from './redaction';
import { SinkRoute } from './routing';
import { OutputStartError } from './sink-base';
import { SinkLossMonitor } from './sink-loss';
import { sinkPlans, type SinkKind } from './sinks';
import { TokenBucket } from './token-bucket';

export type { Alert, AlertSink, SinkStats } from './alert';
export { DropMonitor, type DropCounters } from './drop-monitor';
export { OutputStartError } from './sink-base';
export { SINK_LOSS_RULE, type SinkLoss } from './sink-loss';
export { formatJson, formatLine, formatOutputText, LineFormatter, type FormatOptions } from './format';
export { formatOptions, SINK_KINDS, type SinkKind } from './sinks';
export { Redactor, REDACTED } from './redaction';
export { SinkRoute } from './routing';
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
  /** This agent's identity in every alert; a new random UUID by default (so: per start). */
  readonly agentId?: string;
}

/** What every alert gets on its way to the sinks, besides its identity (top-level config keys). */
export interface AlertShaping {
  readonly redaction: RedactionConfig;
  readonly staticFields: StaticFieldsConfig;
}

/** A sink with the alerts it takes; `kind` and `fingerprint` for configured sinks (sinks.ts). */
interface RoutedSink {
  readonly sink: AlertSink;
  readonly route: SinkRoute;
  readonly kind?: SinkKind;
  readonly fingerprint?: string;
}

/** What a configuration reload did to the sinks, by kind. */
export interface OutputsReload {
  readonly kept: readonly SinkKind[];
  readonly added: readonly SinkKind[];
  readonly replaced: readonly SinkKind[];
  readonly removed: readonly SinkKind[];
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
  private recentOrder: BoundedQueue<{ key: string; expiry: number }>;
  private readonly suppressedByRule = new Map<string, SuppressedCount>();
  private suppressedOther: SuppressedCount = { rateLimited: 0, deduplicated: 0 };
  private published = 0;
  private rateLimited = 0;
  private deduplicated = 0;
  private internal = 0;
  private summaryStart: number;
  private summaryTimer: NodeJS.Timeout | undefined;
  private readonly losses: SinkLossMonitor;
  private readonly lossTimer: NodeJS.Timeout;
  private readonly now: () => number;
  private closed = false;
  private routed: readonly RoutedSink[];
  private sinkList: readonly AlertSink[];
  private redactor: Redactor | undefined;
  /** `static.<name>` → value, or undefined when there are none. */
  private staticFields: Readonly<Record<string, OutputFieldValue>> | undefined;
  /** `outputs.shutdown_deadline_ms` as the last reload set it: it wins over the value close() is given. */
  private reloadedDeadlineMs: number | undefined;
  /** This agent's UUID, in every alert beside its sequence number. */
  readonly agentId: string;
  private seq = 0;

  constructor(
    sinks: readonly (AlertSink | RoutedSink)[],
    private policy: SuppressionPolicy,
    private readonly deps: OutputsDeps,
    shaping?: AlertShaping,
  ) {
    this.now = deps.now ?? Date.now;
    this.agentId = deps.agentId ?? randomUUID();
    this.routed = sinks.map((s) => ('route' in s ? s : { sink: s, route: SinkRoute.ALL }));
    this.sinkList = this.routed.map((r) => r.sink);
    this.setShaping(shaping);
    this.recentOrder = new BoundedQueue(policy.dedup.maxEntries);
    this.summaryStart = this.now();
    this.startSummaryTimer();
    const pace = deps.lossAnnouncements;
    this.losses = new SinkLossMonitor(this.sinkList, { logger: deps.logger, hostname: deps.hostname, now: this.now, ...(pace === undefined ? {} : { rate: pace.rate, burst: pace.burst }) });
    this.lossTimer = setInterval(() => this.announceLosses(), LOSS_CHECK_INTERVAL_MS);
    this.lossTimer.unref();
  }

  /** The sinks alerts go to now (a reload may change them). */
  get sinks(): readonly AlertSink[] {
    return this.sinkList;
  }

  /** Alerts handed to the sinks so far: the last sequence number given. */
  get lastSeq(): number {
    return this.seq;
  }

  private startSummaryTimer(): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
    if (this.policy.rateLimit.enabled || this.policy.dedup.enabled) {
      this.summaryTimer = setInterval(() => this.emitSummary(), this.policy.summaryIntervalMs);
      this.summaryTimer.unref();
    }
  }

  private setShaping(shaping: AlertShaping | undefined): void {
    this.redactor = shaping?.redaction.enabled ? new Redactor(shaping.redaction) : undefined;
    const entries = Object.entries(shaping?.staticFields ?? {});
    this.staticFields = entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [`static.${k}`, v]));
  }

  /**
   * Acquires what every sink needs (gRPC binds its address, the file sink opens its file). Call it
   * before saying ready: it rejects with an OutputStartError naming the sink and the reason
   * (e.g. `file output: cannot write alerts to /x/alerts.json: is a symbolic link; refusing to
   * follow it`), and the agent must not start then.
   */
  async start(): Promise<void> {
    await startAll(this.sinks);
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
  publishInternal(alert: Alert): Alert | undefined {
    if (this.closed) return undefined;
    this.internal++;
    return this.fanOut(alert);
  }

  /**
   * Announces what the sinks lost since the last announcement (log line + internal alert), if the
   * limiter allows; runs every second. Returns the alert sent (as the sinks got it), if any.
   */
  announceLosses(): Alert | undefined {
    if (this.closed) return undefined;
    const alert = this.losses.check();
    return alert === undefined ? undefined : this.publishInternal(alert);
  }

  /**
   * Once per alert, never per event: masks secrets (before any sink sees the alert), adds the
   * static fields and stamps the identity, then offers it to every sink whose route takes it. The
   * sequence number counts every alert stamped, whichever sinks take it.
   */
  private fanOut(alert: Alert): Alert {
    const redacted = this.redactor === undefined ? alert : this.redactor.redact(alert);
    const fields = this.staticFields === undefined ? redacted.outputFields : { ...this.staticFields, ...redacted.outputFields };
    const stamped: Alert = { ...redacted, outputFields: fields, uuid: randomUUID(), agentId: this.agentId, seq: ++this.seq };
    const routed = this.routed;
    for (let i = 0; i < routed.length; i++) {
      const r = routed[i]!;
      if (r.route.accepts(stamped)) r.sink.offer(stamped);
    }
    return stamped;
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
    return this.publishInternal(alert);
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
    const deadline = this.reloadedDeadlineMs ?? deadlineMs;
    await Promise.all(this.sinks.map((s) => s.close(deadline)));
    // Including what the deadline cut off; only logged, the sinks are gone.
    this.losses.flushToLog();
  }

  /**
   * Applies a new `outputs:` section (and redaction, static fields) to the running outputs. A sink
   * whose own settings are unchanged is kept with its queue, only its route is replaced; a changed
   * or new sink is built and started before it takes alerts, and a replaced or removed one is closed
   * after the swap, flushing what it had queued within `shutdown_deadline_ms`. A new sink that
   * cannot start (an unwritable path, a bad TLS file) refuses the whole change: the running sinks
   * stay. The gRPC sink is the exception, its address cannot be bound twice: the old one is closed
   * first while the new one queues, then the new one binds (a failure is logged; it stays unready).
   */
  async reconfigure(config: OutputsConfig, shaping: AlertShaping): Promise<OutputsReload> {
    if (this.closed) return { kept: [], added: [], replaced: [], removed: [] };
    const plans = sinkPlans(config, { logger: this.deps.logger, ...(this.deps.version === undefined ? {} : { version: this.deps.version }) });
    const current = new Map<SinkKind, RoutedSink>();
    for (const r of this.routed) if (r.kind !== undefined) current.set(r.kind, r);
    const next: RoutedSink[] = [];
    const started: RoutedSink[] = [];
    const bindLater: RoutedSink[] = [];
    const report = { kept: [] as SinkKind[], added: [] as SinkKind[], replaced: [] as SinkKind[], removed: [] as SinkKind[] };
    try {
      for (const plan of plans) {
        const old = current.get(plan.kind);
        if (old !== undefined && old.fingerprint === plan.fingerprint) {
          next.push({ ...old, route: plan.route });
          report.kept.push(plan.kind);
          continue;
        }
        const fresh: RoutedSink = { sink: plan.build(), route: plan.route, kind: plan.kind, fingerprint: plan.fingerprint };
        next.push(fresh);
        (old !== undefined ? report.replaced : report.added).push(plan.kind);
        (plan.kind === 'grpc' && old !== undefined ? bindLater : started).push(fresh);
      }
      await startAll(started.map((r) => r.sink));
      // Stopped meanwhile: the new sinks never take an alert.
      if (this.closed) throw new Error('the outputs are closed');
    } catch (err) {
      await Promise.all([...started, ...bindLater].map((r) => r.sink.close(0).catch(() => undefined)));
      throw err;
    }
    const kinds = new Set(plans.map((p) => p.kind));
    for (const k of current.keys()) if (!kinds.has(k)) report.removed.push(k);
    const keptSinks = new Set(next.map((r) => r.sink));
    const retired = this.routed.filter((r) => r.kind !== undefined && !keptSinks.has(r.sink));
    // Sinks built elsewhere (tests, other parts) are not the configuration's: they stay as they are.
    const extras = this.routed.filter((r) => r.kind === undefined);
    this.routed = [...next, ...extras];
    this.sinkList = this.routed.map((r) => r.sink);
    this.losses.setSinks(this.sinkList);
    this.applyPolicy(suppressionPolicy(config));
    this.setShaping(shaping);
    this.reloadedDeadlineMs = config.shutdown_deadline_ms;
    await Promise.all(retired.map((r) => r.sink.close(config.shutdown_deadline_ms)));
    for (const r of bindLater) {
      await startAll([r.sink]).catch((err: Error) => this.deps.logger.error({ sink: r.sink.name }, `output not restarted: ${err.message}`));
    }
    return report;
  }

  private applyPolicy(policy: SuppressionPolicy): void {
    const before = this.policy;
    this.policy = policy;
    const rl = (p: SuppressionPolicy): string => JSON.stringify(p.rateLimit);
    if (rl(before) !== rl(policy)) this.buckets.clear();
    if (before.dedup.maxEntries !== policy.dedup.maxEntries || before.dedup.windowMs !== policy.dedup.windowMs || !policy.dedup.enabled) {
      this.recent.clear();
      this.recentOrder = new BoundedQueue(policy.dedup.maxEntries);
    }
    const timed = (p: SuppressionPolicy): string => `${p.rateLimit.enabled || p.dedup.enabled}/${p.summaryIntervalMs}`;
    if (timed(before) !== timed(policy)) this.startSummaryTimer();
  }
}

/** Starts each sink that needs it; rejects with an OutputStartError naming the first that cannot. */
async function startAll(sinks: readonly AlertSink[]): Promise<void> {
  await Promise.all(
    sinks.map(async (s) => {
      if (s.start === undefined) return;
      try {
        await s.start();
      } catch (err) {
        throw err instanceof OutputStartError ? err : new OutputStartError(s.name, (err as Error).message);
      }
    }),
  );
}

export function suppressionPolicy(config: OutputsConfig): SuppressionPolicy {
  return {
    rateLimit: { enabled: config.rate_limit.enabled, rate: config.rate_limit.rate, burst: config.rate_limit.burst, maxRules: config.rate_limit.max_rules },
    dedup: { enabled: config.dedup.enabled, windowMs: config.dedup.window_s * 1000, maxEntries: config.dedup.max_entries },
    summaryIntervalMs: config.summary.interval_s * 1000,
    summaryPriority: parsePriority(config.summary.priority) ?? 7,
  };
}

/**
 * Builds the sinks enabled in the `outputs:` section, each with its route, and the alert shaping
 * (redaction, static fields; none when omitted). Call `start()` before publishing.
 */
export function createOutputs(config: OutputsConfig, deps: OutputsDeps, shaping?: AlertShaping): Outputs {
  const plans = sinkPlans(config, { logger: deps.logger, ...(deps.version === undefined ? {} : { version: deps.version }) });
  const sinks: (AlertSink | RoutedSink)[] = plans.map((p) => ({ sink: p.build(), route: p.route, kind: p.kind, fingerprint: p.fingerprint }));
  sinks.push(...(deps.extraSinks ?? []));
  return new Outputs(sinks, suppressionPolicy(config), deps, shaping);
}
