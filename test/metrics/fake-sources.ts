/**
 * Mutable stand-ins for the agent's parts: plain counters the tests advance, exposed through the
 * same getters the real parts implement.
 */
import type { SinkStats } from '../../src/outputs/alert';
import type { PriorityNum } from '../../src/outputs/alert';
import { EVENT_TYPE_COUNT, eventTypeByName } from '../../src/probe/event-types';
import type { SourceStats } from '../../src/probe/event';
import type { StateStats } from '../../src/state/types';
import { createPipelineHistograms } from '../../src/metrics/histogram';
import type { MetricsSources, PostureCount, ReadinessChecks, RuleMatchTable, RuleMatchTotal, RulesInfo, KernelFilterInfo } from '../../src/metrics/sources';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function typeId(name: string): number {
  const t = eventTypeByName(name);
  if (!t) throw new Error(`no event type ${name}`);
  return t.id;
}

export class FakeRuleset implements RuleMatchTable {
  readonly counts: Float64Array;
  constructor(readonly rules: { name: string; priority: PriorityNum; source: string }[]) {
    this.counts = new Float64Array(rules.length);
  }
  match(name: string, times = 1): void {
    const i = this.rules.findIndex((r) => r.name === name);
    if (i < 0) throw new Error(`no rule ${name}`);
    this.counts[i]! += times;
  }
}

export class FakeAgent {
  source: Mutable<SourceStats> & { deliveredByType: number[]; droppedByType: number[] } = {
    seen: 0,
    delivered: 0,
    droppedRingFull: 0,
    droppedTooLarge: 0,
    droppedOther: 0,
    batches: 0,
    trickleWaits: 0,
    deliveredByType: new Array<number>(EVENT_TYPE_COUNT).fill(0),
    droppedByType: new Array<number>(EVENT_TYPE_COUNT).fill(0),
  };
  engine = { queueDepth: 0, queueCapacity: 8192, droppedQueueFull: 0, holds: { settled: 0, timedOut: 0, queueHalfFull: 0 } };
  ruleset = new FakeRuleset([]);
  /** When set, the engine reports cumulative per-name totals instead of the ruleset table. */
  ruleTotals: RuleMatchTotal[] | undefined;
  state: Mutable<StateStats> = {
    processes: 0,
    processCapacity: 65536,
    processEvictions: 0,
    processMisses: 0,
    fds: 0,
    containers: 0,
    containerLookups: 0,
    containerLookupFailures: 0,
  };
  sinks: { name: string; st: Mutable<SinkStats> }[] = [];
  rules: Mutable<RulesInfo> = { enabled: 0, disabled: 0, warnings: 0, lastReloadTimestampSeconds: 0, reloadsSucceeded: 0, reloadsFailed: 0 };
  dropAlerts = 0;
  posture: PostureCount[] = [];
  kernelFilters: KernelFilterInfo[] = [];
  readonly histograms = createPipelineHistograms();
  ready = { probe: true, rules: true, outputs: true };

  /** Counts `n` delivered events of a type the way a source does. */
  deliver(type: string, n: number): void {
    this.source.deliveredByType[typeId(type)]! += n;
    this.source.delivered += n;
    this.source.seen += n;
  }

  addSink(name: string, queueCapacity = 1000): Mutable<SinkStats> {
    const st = { sent: 0, failed: 0, dropped: 0, queueDepth: 0, queueCapacity };
    this.sinks.push({ name, st });
    return st;
  }

  sources(): MetricsSources {
    return {
      source: () => this.source,
      engine: () => ({ ...this.engine, ruleMatches: this.ruleTotals ?? this.ruleset }),
      state: () => this.state,
      sinks: () => this.sinks.map((s) => ({ name: s.name, stats: () => s.st })),
      rules: () => this.rules,
      dropAlerts: () => this.dropAlerts,
      posture: () => this.posture,
      kernelFilters: () => this.kernelFilters,
      eventLatency: this.histograms.eventLatency,
      batchDecode: this.histograms.batchDecode,
      batchEvaluate: this.histograms.batchEvaluate,
    };
  }

  readiness(): ReadinessChecks {
    return { probe: () => this.ready.probe, rules: () => this.ready.rules, outputs: () => this.ready.outputs };
  }
}

export const TEST_IDENTITY = { version: '0.1.0-test', commit: 'abc1234', probe: 'fake', hostname: 'node-a', kernelRelease: '6.18.0-test' };
