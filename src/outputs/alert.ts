/**
 * The alert contract between the rule engine (and internal self-alerts) and the output sinks.
 * Serialised as Falco's JSON alert (keys sorted, 9-digit UTC time, typed output_fields) by
 * `src/outputs/format.ts`.
 */

import type { OutputFieldValue } from '../rules/output';
import type { PriorityNum } from '../rules/priority';

// Priorities and rendered field values are the rules' own terms; the alert contract carries them.
export type { OutputFieldValue } from '../rules/output';
export { PRIORITY_NAMES, parsePriority, type PriorityName, type PriorityNum } from '../rules/priority';

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
  /**
   * Identity, stamped by `Outputs` when the alert is handed to the sinks (producers leave them
   * unset): a random UUID v4, the agent's own UUID (new at every start) and the agent's sequence
   * number (1, 2, 3… per agent id, one per alert handed to the sinks).
   */
  readonly uuid?: string;
  readonly agentId?: string;
  readonly seq?: number;
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
  /**
   * Optional: acquires what the sink needs (binds a socket, opens its file) so a setting that
   * cannot work fails before the agent says ready. Rejects with the reason.
   */
  start?(): Promise<unknown>;
  /** Flushes what it can within the deadline, then releases resources. */
  close(deadlineMs: number): Promise<void>;
}
