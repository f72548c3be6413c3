/**
 * What the metrics part reads from the rest of the agent. Every part keeps plain counters on its
 * own hot path; these getters are called only at scrape time, so a scrape costs the agent nothing
 * between scrapes. Every getter is optional: an absent part simply has no series yet.
 */
import type { SinkStats } from '../outputs/alert';
import type { PriorityNum } from '../outputs/alert';
import type { SourceStats } from '../probe/event';
import type { StateStats } from '../state/types';
import type { BucketHistogram } from './histogram';

/** Enforcement decisions (src/enforce `EnforcementMetrics`): totals by rule and result. */
export interface EnforcementMetrics {
  /** As written on alerts: killed-in-kernel, killed, would-kill, refused, failed. */
  readonly decisions: readonly { readonly rule: string; readonly result: string; readonly count: number }[];
  /** The kernel's own: killed, refused, limited, failed (also for events that never reached user space). */
  readonly kernel: readonly { readonly rule: string; readonly result: string; readonly count: number }[];
}

/** Identity of one loaded rule, index-aligned with `RuleMatchTable.counts`. */
export interface RuleIdentity {
  readonly name: string;
  readonly priority: PriorityNum;
  /** Event source the rule applies to (`syscall`). */
  readonly source: string;
}

/**
 * Per-rule match counts of one installed ruleset. The engine builds a new table on every reload
 * and increments `counts[i]` in place; the metrics part keeps a reference to the table it last
 * read, so matches counted in an old table after the last scrape are still exported once.
 */
export interface RuleMatchTable {
  readonly rules: readonly RuleIdentity[];
  readonly counts: ArrayLike<number>;
}

/**
 * A rule's match count kept cumulative by the engine across reloads (keyed by name), the other
 * accepted shape of `EngineStats.ruleMatches`.
 */
export interface RuleMatchTotal {
  readonly rule: string;
  readonly priority: PriorityNum;
  readonly count: number;
  /** Defaults to `syscall`. */
  readonly source?: string;
}

export interface EngineStats {
  /** Events waiting between the source callback and rule evaluation. */
  readonly queueDepth: number;
  readonly queueCapacity: number;
  /** Events discarded because the engine queue was full (stage `engine_queue`). */
  readonly droppedQueueFull: number;
  /** A per-ruleset table (replaced on reload), or totals that survive reloads. */
  readonly ruleMatches: RuleMatchTable | readonly RuleMatchTotal[];
  /** Evaluation holds for container metadata, by how they ended (`settled`, `timedOut`, `queueHalfFull`). */
  readonly holds?: Readonly<Record<string, number>>;
}

/** The k8s_audit source (src/audit): whether it receives events, what it took and what it refused. */
export interface AuditSourceMetrics {
  /** Audit events received, by input (`file`, `webhook`). */
  readonly eventsByInput: Readonly<Record<string, number>>;
  /** Input skipped, by kind (`malformed_json`, `too_large`, `api_version`, …). */
  readonly badInput: Readonly<Record<string, number>>;
  /** Unix seconds of the last event received; 0 before the first. */
  readonly lastEventUnixSeconds: number;
  /** An event arrived within the source's receiving window. */
  readonly receiving: boolean;
  /** Matches of the k8s_audit rules, cumulative across reloads (exported with source `k8s_audit`). */
  readonly ruleMatches: readonly RuleMatchTotal[];
}

export interface RulesInfo {
  readonly enabled: number;
  readonly disabled: number;
  /** Warnings reported while loading the active ruleset. */
  readonly warnings: number;
  /** Unix time in seconds the active ruleset was installed; 0 before the first load. */
  readonly lastReloadTimestampSeconds: number;
  readonly reloadsSucceeded: number;
  /** Reloads rejected (the previous ruleset stayed active). */
  readonly reloadsFailed: number;
}

export const POSTURE_STATUSES = ['pass', 'fail', 'warn', 'info'] as const;
export type PostureStatus = (typeof POSTURE_STATUSES)[number];

/** How many checks of one benchmark currently have one status. */
export interface PostureCount {
  readonly benchmark: string;
  readonly status: PostureStatus;
  readonly count: number;
}

/** One in-kernel filter compiled from the rules: whether it is on, and its entries by kind. */
/** One event type a kernel path filter can judge (`lanner_kernel_path_filter`). */
export interface PathFilterTypeInfo {
  readonly eventType: string;
  readonly filtered: boolean;
  /** The rule that can match any path, or why the filter is off ('' when filtered). */
  readonly keptOpenBy: string;
}

export interface KernelFilterInfo {
  /** Which filter (`open`). */
  readonly filter: string;
  readonly active: boolean;
  /** Entries the filter holds, by kind (`prefix`, `name`). */
  readonly entries: readonly { readonly kind: string; readonly count: number }[];
}

/** Rule-triggered captures (src/capture): outcomes counted since start, and the files kept now. */
export interface CaptureMetrics {
  readonly written: number;
  readonly truncated: number;
  readonly refused: number;
  readonly deleted: number;
  readonly failed: number;
  readonly files: number;
  readonly bytes: number;
}

/** Probe cost per BPF program, only meaningful with `kernel.bpf_stats_enabled=1`. */
export interface BpfProgramStats {
  readonly program: string;
  readonly runs: number;
  readonly runTimeNs: number;
}

/** Anything with a name and delivery counters; every `AlertSink` fits. */
export interface SinkStatsSource {
  readonly name: string;
  stats(): SinkStats;
}

export interface MetricsSources {
  source?(): SourceStats;
  engine?(): EngineStats;
  state?(): StateStats;
  sinks?(): Iterable<SinkStatsSource>;
  rules?(): RulesInfo;
  /** The k8s_audit source, when it runs. */
  audit?(): AuditSourceMetrics;
  /** Drop self-alerts emitted after the token bucket. */
  dropAlerts?(): number;
  posture?(): Iterable<PostureCount>;
  /** The kernel filters the loaded rules compiled to (what the probe drops before user space). */
  kernelFilters?(): Iterable<KernelFilterInfo>;
  /** Per event type a kernel path filter can judge: filtered, or the rule (or reason) that keeps it open. */
  pathFilterTypes?(): Iterable<PathFilterTypeInfo>;
  bpfPrograms?(): Iterable<BpfProgramStats>;
  /** Rule-triggered captures, when enabled. */
  captures?(): CaptureMetrics;
  /** Decisions on rules with `actions: [kill]` (src/enforce). */
  enforcement?(): EnforcementMetrics;
  /** Kernel timestamp → alert handed to the outputs; the engine calls `observe(seconds)`. */
  readonly eventLatency?: BucketHistogram;
  /** Time spent per batch in each stage; see `createPipelineHistograms`. */
  readonly batchDecode?: BucketHistogram;
  readonly batchEvaluate?: BucketHistogram;
}

/** Readiness callbacks: the agent is ready only when all three say true. */
export interface ReadinessChecks {
  /** The probe is attached and delivering. */
  probe(): boolean;
  /** A ruleset is loaded. */
  rules(): boolean;
  /** Every configured output sink is running. */
  outputs(): boolean;
  /** Optional detail for /readyz that does not decide readiness (e.g. whether the audit source receives events). */
  detail?(): Readonly<Record<string, unknown>>;
}

/** Static identity exported as `lanner_build_info` and `lanner_host_info`. */
export interface MetricsIdentity {
  readonly version: string;
  readonly commit: string;
  /** Probe flavour (`modern`, `replay`, …). */
  readonly probe: string;
  readonly hostname: string;
  /** Defaults to `os.release()`. */
  readonly kernelRelease?: string;
}
