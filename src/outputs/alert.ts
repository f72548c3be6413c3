/**
 * The alert contract between the rule engine (and internal self-alerts) and the output sinks.
 * Serialised as Falco's JSON alert (keys sorted, 9-digit UTC time, typed output_fields) by
 * `src/outputs/format.ts`.
 */

export const PRIORITY_NAMES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];
/** 0 = Emergency … 7 = Debug; lower is more severe. */
export type PriorityNum = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Parses a priority as Falco accepts it (any case, `info` = Informational); undefined if unknown. */
export function parsePriority(text: string): PriorityNum | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'info') return 6;
  const i = PRIORITY_NAMES.findIndex((n) => n.toLowerCase() === t);
  return i < 0 ? undefined : (i as PriorityNum);
}

/**
 * A typed output field value: strings, numbers (ints), bigint (ns timestamps beyond 2^53, emitted
 * as raw digits), booleans, or null when the field could not be extracted.
 */
export type OutputFieldValue = string | number | bigint | boolean | null;

export interface Alert {
  /** Event time in ns since the epoch (wall clock). */
  readonly timeNs: bigint;
  readonly rule: string;
  readonly priority: PriorityNum;
  /** 'syscall' for rule alerts, 'internal' for self-alerts. */
  readonly source: string;
  /** Rendered rule output without the time/priority prefix (Falco's `message`). */
  readonly message: string;
  /** Every `%field` token of the output, typed, keyed exactly as written. */
  readonly outputFields: Readonly<Record<string, OutputFieldValue>>;
  /** Sorted, deduplicated. */
  readonly tags: readonly string[];
  readonly hostname: string;
}

/** Per-sink delivery counters, read by the metrics part at scrape time. */
export interface SinkStats {
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  readonly queueDepth: number;
  readonly queueCapacity: number;
}

export interface AlertSink {
  readonly name: string;
  /** Hands an alert over without waiting; returns false when the sink's queue was full (counted as dropped). */
  offer(alert: Alert): boolean;
  stats(): SinkStats;
  /** True when the sink is able to deliver (connected/listening), for readiness. */
  readonly healthy: boolean;
  /** Flushes what it can within the deadline, then releases resources. */
  close(deadlineMs: number): Promise<void>;
}
