/**
 * The `lanner_` series (see the metrics reference, §5), read from `MetricsSources` at scrape
 * time. Label values come only from bounded sets: event type names, loaded rule names, configured
 * sink names, fixed stage/reason/result words.
 */
import { release } from 'node:os';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { PRIORITY_NAMES } from '../outputs/alert';
import { EVENT_TYPES } from '../probe/event-types';
import type { BucketHistogram } from './histogram';
import { RuleMatchFeed, TotalsFeed } from './monotonic';
import { POSTURE_STATUSES, type MetricsIdentity, type MetricsSources, type ReadinessChecks, type RuleMatchTable, type RuleMatchTotal } from './sources';

export interface LannerRegistryOptions {
  /** Also export prom-client's process/Node.js series. */
  readonly processMetrics: boolean;
  /** Sampling interval of the event-loop lag monitor (ms); prom-client's own default when absent. */
  readonly eventLoopResolutionMs?: number;
}

/** Names of the readiness checks, in the order `/readyz` reports them. */
export const READINESS_CHECKS = ['probe', 'rules', 'outputs'] as const;

/** Evaluates every readiness check; a throwing check counts as not ready. */
export function failingReadinessChecks(readiness: ReadinessChecks): string[] {
  const failing: string[] = [];
  for (const name of READINESS_CHECKS) {
    let ok = false;
    try {
      ok = readiness[name]() === true;
    } catch {
      ok = false;
    }
    if (!ok) failing.push(name);
  }
  return failing;
}

function priorityLabel(p: number): string {
  return (PRIORITY_NAMES[p] ?? 'unknown').toLowerCase();
}

/**
 * Exposes a `BucketHistogram` through prom-client's registry. prom-client's Histogram can only be
 * fed one observation at a time, so this implements the small slice of its metric shape the
 * registry reads (`name`, `help`, `type`, `aggregator`, `get`).
 */
class HistogramExport {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => Iterable<{ labels: Readonly<Record<string, string>>; histogram: BucketHistogram }>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] }> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const { labels, histogram } of this.series()) {
      const cumulative = histogram.cumulative();
      histogram.bounds.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative[i]! }));
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative[cumulative.length - 1]! });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: histogram.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: histogram.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Builds a fresh registry with every Lanner series wired to `sources`. */
export function createLannerRegistry(sources: MetricsSources, identity: MetricsIdentity, readiness: ReadinessChecks, options: LannerRegistryOptions): Registry {
  const registry = new Registry();
  const registers = [registry];

  const collectErrors = new Counter({
    name: 'lanner_metrics_collect_errors_total',
    help: 'Scrape-time reads of agent counters that threw; the affected series keep their previous values.',
    labelNames: ['collector'],
    // Registered last (below) so that errors of this scrape are already counted when it is read.
    registers: [],
  });
  /** A part whose getter throws must not take the whole scrape down with it. */
  const guarded =
    (collector: string, fn: () => void): (() => void) =>
    () => {
      try {
        fn();
      } catch {
        collectErrors.inc({ collector });
      }
    };

  // --- events -------------------------------------------------------------------------------
  const received = new Counter({ name: 'lanner_events_received_total', help: 'Events decoded from the probe, by event type.', labelNames: ['type'], registers });
  const receivedFeed = new TotalsFeed(received);
  const typeKeys = EVENT_TYPES.map((t) => `type:${t.name}`);
  const typeLabels = EVENT_TYPES.map((t) => ({ type: t.name }));
  const typesSeen = new Uint8Array(EVENT_TYPES.length);
  if (sources.source) {
    const read = sources.source.bind(sources);
    onCollect(received, guarded('events_received', () => {
      const byType = read().deliveredByType;
      const n = Math.min(byType.length, EVENT_TYPES.length);
      for (let i = 0; i < n; i++) {
        const count = byType[i] ?? 0;
        // Types that never occurred stay absent, so the series count follows the rules in use.
        if (count > 0 || typesSeen[i]) {
          typesSeen[i] = 1;
          receivedFeed.feed(typeKeys[i]!, typeLabels[i]!, count);
        }
      }
    }));
  }

  const dropped = new Counter({
    name: 'lanner_events_dropped_total',
    help: 'Events lost before rule evaluation, by the hop that lost them; every lost event is counted exactly once.',
    labelNames: ['stage', 'reason'],
    registers,
  });
  const droppedFeed = new TotalsFeed(dropped);
  const { source: readSource, engine: readEngine } = sources;
  if (readSource || readEngine) {
    onCollect(dropped, guarded('events_dropped', () => {
      if (readSource) {
        const s = readSource.call(sources);
        droppedFeed.feed('ring/ringbuf_full', { stage: 'ring', reason: 'ringbuf_full' }, s.droppedRingFull);
        droppedFeed.feed('kernel/too_large', { stage: 'kernel', reason: 'too_large' }, s.droppedTooLarge);
        // SourceStats folds scratch exhaustion and failed kernel reads into one counter.
        droppedFeed.feed('kernel/scratch_overflow', { stage: 'kernel', reason: 'scratch_overflow' }, s.droppedOther);
      }
      if (readEngine) droppedFeed.feed('engine_queue', { stage: 'engine_queue', reason: 'queue_full' }, readEngine.call(sources).droppedQueueFull);
    }));
  }

  // How the ring's looks ended: a batch handed to the rules, or a trickle left to gather more.
  const deliveries = new Counter({ name: 'lanner_probe_deliveries_total', help: 'Looks at the ring that found records: delivered (a batch went to the rules) or waited (a trickle was left to gather more until its deadline, probe.drain_max_latency_ms).', labelNames: ['result'], registers });
  const deliveriesFeed = new TotalsFeed(deliveries);
  if (readSource) {
    onCollect(deliveries, guarded('probe_deliveries', () => {
      const s = readSource.call(sources);
      deliveriesFeed.feed('delivered', { result: 'delivered' }, s.batches);
      deliveriesFeed.feed('waited', { result: 'waited' }, s.trickleWaits);
    }));
  }

  // A new container's first exec waits (bounded) for its runtime metadata: how those waits ended.
  const holds = new Counter({ name: 'lanner_engine_holds_total', help: 'Evaluation holds for a new container\'s metadata, by how they ended.', labelNames: ['result'], registers });
  const holdsFeed = new TotalsFeed(holds);
  if (readEngine) {
    onCollect(holds, guarded('engine_holds', () => {
      for (const [result, n] of Object.entries(readEngine.call(sources).holds ?? {})) holdsFeed.feed(result, { result }, n);
    }));
  }

  // --- queues ---------------------------------------------------------------------------------
  const queueDepth = new Gauge({ name: 'lanner_queue_depth', help: 'Items waiting in each bounded queue now.', labelNames: ['queue'], registers });
  const queueCapacity = new Gauge({ name: 'lanner_queue_capacity', help: 'Bound of each queue.', labelNames: ['queue'], registers });
  const readSinks = sources.sinks;
  onCollect(queueDepth, guarded('queues', () => {
    // Reset so that a sink removed by a config change does not leave a stale series behind.
    queueDepth.reset();
    queueCapacity.reset();
    if (readEngine) {
      const e = readEngine.call(sources);
      queueDepth.set({ queue: 'engine' }, e.queueDepth);
      queueCapacity.set({ queue: 'engine' }, e.queueCapacity);
    }
    if (readSinks) {
      for (const sink of readSinks.call(sources)) {
        const st = sink.stats();
        queueDepth.set({ queue: `output_${sink.name}` }, st.queueDepth);
        queueCapacity.set({ queue: `output_${sink.name}` }, st.queueCapacity);
      }
    }
  }));

  // --- outputs --------------------------------------------------------------------------------
  const alerts = new Counter({ name: 'lanner_output_alerts_total', help: 'Alerts per output sink and delivery result.', labelNames: ['sink', 'result'], registers });
  const alertsFeed = new TotalsFeed(alerts);
  if (readSinks) {
    onCollect(alerts, guarded('output_alerts', () => {
      for (const sink of readSinks.call(sources)) {
        const st = sink.stats();
        alertsFeed.feed(`${sink.name}/sent`, { sink: sink.name, result: 'sent' }, st.sent);
        alertsFeed.feed(`${sink.name}/failed`, { sink: sink.name, result: 'failed' }, st.failed);
        alertsFeed.feed(`${sink.name}/dropped`, { sink: sink.name, result: 'dropped' }, st.dropped);
      }
    }));
  }

  // --- rules ----------------------------------------------------------------------------------
  const matches = new Counter({ name: 'lanner_rule_matches_total', help: 'Rule matches, by rule, priority and source.', labelNames: ['rule', 'priority', 'source'], registers });
  const matchesFeed = new RuleMatchFeed(matches, priorityLabel);
  const totalsFeed = new TotalsFeed(matches);
  const feedTotals = (m: readonly RuleMatchTotal[]): void => {
    for (const r of m) {
      const priority = priorityLabel(r.priority);
      const source = r.source ?? 'syscall';
      totalsFeed.feed(`${r.rule}\u0000${priority}\u0000${source}`, { rule: r.rule, priority, source }, r.count);
    }
  };
  const readAudit = sources.audit;
  if (readEngine || readAudit) {
    onCollect(matches, guarded('rule_matches', () => {
      if (readEngine) {
        const m = readEngine.call(sources).ruleMatches;
        if (isRuleMatchTotals(m)) feedTotals(m);
        else matchesFeed.feed(m);
      }
      // The k8s_audit rules count in their own evaluator (src/audit), under their own source label.
      if (readAudit) feedTotals(readAudit.call(sources).ruleMatches);
    }));
  }

  // --- k8s audit source -------------------------------------------------------------------------
  const auditEvents = new Counter({ name: 'lanner_audit_events_total', help: 'Kubernetes audit events received by the k8s_audit source, by input.', labelNames: ['input'], registers });
  const auditBadInput = new Counter({ name: 'lanner_audit_bad_input_total', help: 'Audit input the k8s_audit source skipped, by kind.', labelNames: ['kind'], registers });
  const auditLastEvent = new Gauge({ name: 'lanner_audit_last_event_timestamp_seconds', help: 'Unix time of the last audit event received; 0 before the first.', registers });
  const auditReceiving = new Gauge({ name: 'lanner_audit_receiving', help: '1 while the k8s_audit source receives events (one within its receiving window), else 0.', registers });
  const auditEventsFeed = new TotalsFeed(auditEvents);
  const auditBadInputFeed = new TotalsFeed(auditBadInput);
  if (readAudit) {
    onCollect(auditEvents, guarded('audit', () => {
      const a = readAudit.call(sources);
      for (const [input, n] of Object.entries(a.eventsByInput)) auditEventsFeed.feed(input, { input }, n);
      for (const [kind, n] of Object.entries(a.badInput)) auditBadInputFeed.feed(kind, { kind }, n);
      auditLastEvent.set(a.lastEventUnixSeconds);
      auditReceiving.set(a.receiving ? 1 : 0);
    }));
  }

  const rulesLoaded = new Gauge({ name: 'lanner_rules_loaded', help: 'Rules in the active ruleset.', labelNames: ['state'], registers });
  const lastReload = new Gauge({ name: 'lanner_rules_last_reload_timestamp_seconds', help: 'Unix time the active ruleset was installed.', registers });
  const reloads = new Counter({ name: 'lanner_rules_reloads_total', help: 'Rule reload attempts; error means the previous ruleset stayed active.', labelNames: ['result'], registers });
  const reloadsFeed = new TotalsFeed(reloads);
  const warnings = new Gauge({ name: 'lanner_rules_load_warnings', help: 'Warnings reported while loading the active ruleset.', registers });
  const readRules = sources.rules;
  if (readRules) {
    onCollect(rulesLoaded, guarded('rules', () => {
      const r = readRules.call(sources);
      rulesLoaded.set({ state: 'enabled' }, r.enabled);
      rulesLoaded.set({ state: 'disabled' }, r.disabled);
      lastReload.set(r.lastReloadTimestampSeconds);
      warnings.set(r.warnings);
      reloadsFeed.feed('success', { result: 'success' }, r.reloadsSucceeded);
      reloadsFeed.feed('error', { result: 'error' }, r.reloadsFailed);
    }));
  }

  const filterActive = new Gauge({ name: 'lanner_kernel_filter_active', help: 'In-kernel filters compiled from the rules: 1 on, 0 off (every event of its types ships).', labelNames: ['filter'], registers });
  const filterEntries = new Gauge({ name: 'lanner_kernel_filter_entries', help: 'Entries of each in-kernel filter, by kind.', labelNames: ['filter', 'kind'], registers });
  const readFilters = sources.kernelFilters;
  if (readFilters) {
    onCollect(filterActive, guarded('kernel_filters', () => {
      filterActive.reset();
      filterEntries.reset();
      for (const f of readFilters.call(sources)) {
        filterActive.set({ filter: f.filter }, f.active ? 1 : 0);
        for (const e of f.entries) filterEntries.set({ filter: f.filter, kind: e.kind }, e.count);
      }
    }));
  }

  const filterByType = new Gauge({
    name: 'lanner_kernel_path_filter',
    help: 'Per event type a kernel path filter can judge: 1 filtered in the kernel, 0 every call ships (kept_open_by: the rule that can match any path, or why the filter is off).',
    labelNames: ['event_type', 'kept_open_by'],
    registers,
  });
  const readPathFilterTypes = sources.pathFilterTypes;
  if (readPathFilterTypes) {
    onCollect(filterByType, guarded('path_filter_types', () => {
      filterByType.reset();
      for (const t of readPathFilterTypes.call(sources)) filterByType.set({ event_type: t.eventType, kept_open_by: t.keptOpenBy }, t.filtered ? 1 : 0);
    }));
  }

  // --- rule-triggered captures ------------------------------------------------------------------
  const captures = new Counter({ name: 'lanner_captures_total', help: 'Rule-triggered captures by result: written, truncated (stopped at max_file_size_mb), refused (bound reached), deleted (old file removed for room), failed.', labelNames: ['result'], registers });
  const captureFiles = new Gauge({ name: 'lanner_capture_files', help: 'Capture files kept under capture.path_prefix.', registers });
  const captureBytes = new Gauge({ name: 'lanner_capture_bytes', help: 'Bytes of the capture files kept under capture.path_prefix.', registers });
  const capturesFeed = new TotalsFeed(captures);
  const readCaptures = sources.captures;
  if (readCaptures) {
    onCollect(captures, guarded('captures', () => {
      const c = readCaptures.call(sources);
      for (const result of ['written', 'truncated', 'refused', 'deleted', 'failed'] as const) capturesFeed.feed(result, { result }, c[result]);
      captureFiles.set(c.files);
      captureBytes.set(c.bytes);
    }));
  }

  // --- enforcement (rules with actions: [kill]) -------------------------------------------------
  const enforcement = new Counter({ name: 'lanner_enforcement_decisions_total', help: 'Decisions on matches of rules with actions: [kill], by rule and result: killed-in-kernel, killed (from user space), would-kill (monitor mode), refused (a safeguard or the rate limit), failed.', labelNames: ['rule', 'result'], registers });
  const enforcementKernel = new Counter({ name: 'lanner_enforcement_kernel_total', help: 'The kernel\'s own enforcement decisions by rule and result (killed, refused, limited, failed), including those whose event was lost on the way to user space.', labelNames: ['rule', 'result'], registers });
  const enforcementFeed = new TotalsFeed(enforcement);
  const enforcementKernelFeed = new TotalsFeed(enforcementKernel);
  const readEnforcement = sources.enforcement;
  if (readEnforcement) {
    onCollect(enforcement, guarded('enforcement', () => {
      const e = readEnforcement.call(sources);
      for (const d of e.decisions) enforcementFeed.feed(`${d.rule}\0${d.result}`, { rule: d.rule, result: d.result }, d.count);
      for (const d of e.kernel) enforcementKernelFeed.feed(`${d.rule}\0${d.result}`, { rule: d.rule, result: d.result }, d.count);
    }));
  }

  const dropAlerts = new Counter({ name: 'lanner_drop_alerts_total', help: 'Dropped-events self-alerts emitted (after rate limiting).', registers });
  const dropAlertsFeed = new TotalsFeed(dropAlerts);
  const readDropAlerts = sources.dropAlerts;
  if (readDropAlerts) onCollect(dropAlerts, guarded('drop_alerts', () => dropAlertsFeed.feed('', {}, readDropAlerts.call(sources))));

  // --- state ----------------------------------------------------------------------------------
  const processEntries = new Gauge({ name: 'lanner_process_table_entries', help: 'Live process table entries.', registers });
  const processCapacity = new Gauge({ name: 'lanner_process_table_capacity', help: 'Configured maximum of process table entries.', registers });
  const evictions = new Counter({ name: 'lanner_process_table_evictions_total', help: 'Process entries removed other than by process exit.', registers });
  const misses = new Counter({ name: 'lanner_process_table_misses_total', help: 'Process lookups that found no entry.', registers });
  const fdEntries = new Gauge({ name: 'lanner_fd_table_entries', help: 'Live file descriptor table entries.', registers });
  const containers = new Gauge({ name: 'lanner_container_cache_entries', help: 'Containers in the metadata cache.', registers });
  const containerLookups = new Counter({ name: 'lanner_container_lookups_total', help: 'Container metadata lookups at the runtime socket, by result.', labelNames: ['result'], registers });
  const evictionsFeed = new TotalsFeed(evictions);
  const missesFeed = new TotalsFeed(misses);
  const lookupsFeed = new TotalsFeed(containerLookups);
  const readState = sources.state;
  if (readState) {
    onCollect(processEntries, guarded('state', () => {
      const s = readState.call(sources);
      processEntries.set(s.processes);
      processCapacity.set(s.processCapacity);
      fdEntries.set(s.fds);
      containers.set(s.containers);
      evictionsFeed.feed('', {}, s.processEvictions);
      missesFeed.feed('', {}, s.processMisses);
      lookupsFeed.feed('success', { result: 'success' }, Math.max(0, s.containerLookups - s.containerLookupFailures));
      lookupsFeed.feed('failure', { result: 'failure' }, s.containerLookupFailures);
    }));
  }

  // --- histograms -----------------------------------------------------------------------------
  const { eventLatency, batchDecode, batchEvaluate } = sources;
  const histograms: Metric[] = [];
  if (eventLatency) {
    histograms.push(asMetric(new HistogramExport('lanner_event_latency_seconds', 'Kernel event timestamp to alert handed to the outputs.', () => [{ labels: {}, histogram: eventLatency }])));
  }
  if (batchDecode || batchEvaluate) {
    histograms.push(
      asMetric(
        new HistogramExport('lanner_batch_processing_seconds', 'Time spent on one batch handed from the native reader to JS, by stage.', () => {
          const out: { labels: { stage: string }; histogram: BucketHistogram }[] = [];
          if (batchDecode) out.push({ labels: { stage: 'decode' }, histogram: batchDecode });
          if (batchEvaluate) out.push({ labels: { stage: 'evaluate' }, histogram: batchEvaluate });
          return out;
        }),
      ),
    );
  }
  for (const h of histograms) registry.registerMetric(h);

  // --- posture, probe cost --------------------------------------------------------------------
  const posture = new Gauge({ name: 'lanner_posture_checks', help: 'Node posture checks per benchmark and current result.', labelNames: ['benchmark', 'status'], registers });
  const readPosture = sources.posture;
  if (readPosture) {
    onCollect(posture, guarded('posture', () => {
      posture.reset();
      const seen = new Set<string>();
      for (const c of readPosture.call(sources)) {
        posture.inc({ benchmark: c.benchmark, status: c.status }, c.count);
        seen.add(c.benchmark);
      }
      // Every status of a known benchmark is present (0 when none), so `== 0` queries work.
      for (const benchmark of seen) for (const status of POSTURE_STATUSES) posture.inc({ benchmark, status }, 0);
    }));
  }

  const bpfRuns = new Counter({ name: 'lanner_bpf_program_runs_total', help: 'BPF program runs (needs kernel.bpf_stats_enabled=1).', labelNames: ['program'], registers });
  const bpfSeconds = new Counter({ name: 'lanner_bpf_program_run_seconds_total', help: 'Time spent in BPF programs (needs kernel.bpf_stats_enabled=1).', labelNames: ['program'], registers });
  const bpfRunsFeed = new TotalsFeed(bpfRuns);
  const bpfSecondsFeed = new TotalsFeed(bpfSeconds);
  const readBpf = sources.bpfPrograms;
  if (readBpf) {
    onCollect(bpfRuns, guarded('bpf_programs', () => {
      for (const p of readBpf.call(sources)) {
        bpfRunsFeed.feed(p.program, { program: p.program }, p.runs);
        bpfSecondsFeed.feed(p.program, { program: p.program }, p.runTimeNs / 1e9);
      }
    }));
  }

  // --- identity, readiness --------------------------------------------------------------------
  const build = new Gauge({ name: 'lanner_build_info', help: 'Build identity; always 1.', labelNames: ['version', 'commit', 'node_version', 'probe'], registers });
  build.set({ version: identity.version, commit: identity.commit, node_version: process.version, probe: identity.probe }, 1);
  const host = new Gauge({ name: 'lanner_host_info', help: 'Host identity; always 1.', labelNames: ['kernel_release', 'hostname'], registers });
  host.set({ kernel_release: identity.kernelRelease ?? release(), hostname: identity.hostname }, 1);

  const ready = new Gauge({ name: 'lanner_ready', help: 'Readiness checks at scrape time: 1 ok, 0 failing (the agent is ready when all are 1).', labelNames: ['check'], registers });
  onCollect(ready, () => {
    const failing = failingReadinessChecks(readiness);
    for (const check of READINESS_CHECKS) ready.set({ check }, failing.includes(check) ? 0 : 1);
  });

  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs });
  }
  registry.registerMetric(collectErrors);
  return registry;
}

function isRuleMatchTotals(m: RuleMatchTable | readonly RuleMatchTotal[]): m is readonly RuleMatchTotal[] {
  return Array.isArray(m);
}

/** See `HistogramExport`: the registry reads only the fields that class implements. */
function asMetric(h: HistogramExport): Metric {
  return h as unknown as Metric;
}

/**
 * prom-client calls a metric's `collect` before every read; its constructor copies it from the
 * config, and the typings only allow it there, but our collectors need the metric to exist first.
 */
function onCollect(metric: Counter<string> | Gauge<string>, collect: () => void): void {
  (metric as unknown as { collect?: () => void }).collect = collect;
}
