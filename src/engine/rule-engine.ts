/**
 * The rule engine: per event, updates state around rule evaluation, evaluates only the rules
 * indexed under the event's type, and turns matches into `Alert`s. Rulesets are swapped
 * atomically between events.
 */
import type { Alert, PriorityNum } from '../outputs/alert';
import type { EventBatch, EventView } from '../probe/event';
import { EVENT_TYPE_COUNT } from '../probe/event-types';
import type { StateReader } from '../state/types';
import { ExtractContext } from '../rules/context';
import { ruleAlert } from './rule-alert';
import type { CompiledRule, CompiledRuleset } from '../rules/ruleset';
import { EventQueue, type QueueStats } from './queue';

export type RuleMatching = 'first' | 'all';

/**
 * A part that keeps itself current from every event, around rule evaluation (the state tables,
 * posture). Hooks run in order before the rules and in reverse order after them, so a hook added
 * later sees the event with everything earlier hooks set up still in place (posture reads a
 * closing fd's path before the state forgets it).
 */
export interface EventHook {
  /** What the rules must already see (an exec's new image, a new fd). */
  beforeRules?(ev: EventView): void;
  /** What the rules must not see yet (a close, an exit). */
  afterRules?(ev: EventView): void;
  /** Event types the hook needs from the probe whether or not a rule names them. */
  readonly requiredEventTypes?: ReadonlySet<string>;
}

type HookFn = (ev: EventView) => void;

/**
 * Holds evaluation until something the rules need has arrived: a new container's runtime metadata
 * at its first process's exec, which Falco's `container_started` rules read (mounts, privilege,
 * image) and which no rule could see when that exec was evaluated at once. While held, that event
 * and every later one wait in the engine's bounded queue, in order, so the state the rules read
 * is the state at the event. A hold ends when the promise settles, after `maxHoldMs`, or when
 * the queue is half full (events keep arriving from the kernel meanwhile).
 */
export interface EvaluationGate {
  /** Event type ids `holdFor` is asked about; no other event pays for the gate. */
  readonly gatedEventTypes: readonly number[];
  readonly maxHoldMs: number;
  /** A promise to wait for before this event is evaluated, or undefined to go on. */
  holdFor(ev: EventView): Promise<void> | undefined;
}

/** How the gate's holds ended (a type, not an interface: metrics reads it as a record). */
export type HoldStats = {
  /** What the hold waited for arrived (or its lookup failed). */
  readonly settled: number;
  /** `maxHoldMs` passed first. */
  readonly timedOut: number;
  /** The queue reached half its capacity first. */
  readonly queueHalfFull: number;
};

/** A histogram-like sink (the metrics part's `BucketHistogram` fits). */
export interface ValueObserver {
  observe(value: number): void;
}

export interface EngineOptions {
  /** What field extraction asks about processes, fds, containers and users. */
  readonly reader: StateReader;
  /** Per-event hooks, in order (see `EventHook`). */
  readonly hooks?: readonly EventHook[];
  readonly onAlert: (alert: Alert) => void;
  /** A match's alert before it is handed on, with the event it matched (enforcement acts and writes its decision here). */
  readonly onMatch?: (rule: CompiledRule, ctx: ExtractContext, alert: Alert) => Alert;
  readonly matching?: RuleMatching;
  /** Wall clock minus the kernel's monotonic clock, in ns (from the probe). */
  readonly bootOffsetNs: bigint;
  readonly hostname: string;
  /** `engine.queue_capacity`: events buffered when evaluation falls behind. */
  readonly queueCapacity?: number;
  /** Evaluate at most this long in one go before yielding to the event loop (backlog goes to the queue). */
  readonly sliceMs?: number;
  /** Kernel timestamp → evaluation finished, in seconds, sampled every `latencySampleEvery` events. */
  readonly eventLatency?: ValueObserver;
  /** `engine.latency_sample_every` (default 64). */
  readonly latencySampleEvery?: number;
  /** Seconds spent evaluating each batch handed to `processBatch`. */
  readonly batchEvaluate?: ValueObserver;
  /** Holds evaluation for what the rules need (see `EvaluationGate`); none by default. */
  readonly gate?: EvaluationGate;
}

/** The shape the metrics part reads (src/metrics/sources.ts `EngineStats`). */
export interface EngineMetricsStats {
  readonly queueDepth: number;
  readonly queueCapacity: number;
  readonly droppedQueueFull: number;
  readonly ruleMatches: readonly { rule: string; priority: PriorityNum; count: number; source: string }[];
  readonly holds: HoldStats;
}

export interface RuleMatchCount {
  readonly rule: string;
  readonly priority: PriorityNum;
  readonly count: number;
}

export interface EngineStats {
  readonly events: number;
  /** Events seen per event type id. */
  readonly eventsByType: readonly number[];
  /** Rule predicate evaluations. */
  readonly evaluations: number;
  readonly matches: number;
  readonly matchesByPriority: readonly number[];
  readonly matchesByRule: readonly RuleMatchCount[];
  /** onAlert threw. */
  readonly alertErrors: number;
  readonly rulesLoaded: number;
  readonly rulesEnabled: number;
  readonly queue: QueueStats;
  readonly holds: HoldStats;
}

const EMPTY: readonly CompiledRule[] = [];

export class Engine {
  private ruleset: CompiledRuleset | undefined;
  private byType: readonly (readonly CompiledRule[])[] = [];
  private evaluators: CompiledRuleset['evaluators'] = [];
  /** Bucket of the event being evaluated, for `hit`. */
  private bucket: readonly CompiledRule[] = EMPTY;
  private readonly hit = (index: number): boolean => {
    this.emit(this.bucket[index]!, this.ctx!);
    return !this.matchAll;
  };
  private ctx: ExtractContext | undefined;
  private matchAll: boolean;
  private events = 0;
  private readonly eventsByType = new Float64Array(EVENT_TYPE_COUNT);
  private evaluations = 0;
  private matches = 0;
  private alertErrors = 0;
  private readonly matchesByPriority = new Float64Array(8);
  /** Cumulative across reloads, by rule name. */
  private readonly matchesByRule = new Map<string, { priority: PriorityNum; count: number }>();
  private readonly queue: EventQueue;
  private readonly sliceMs: number;
  private drainScheduled = false;
  private readonly drainBound = (): void => this.drain();

  private readonly sampleEvery: number;
  private untilSample: number;
  /** Bound once, so the per-event loop calls plain functions. */
  private readonly beforeHooks: readonly HookFn[];
  private readonly afterHooks: readonly HookFn[];

  /** 1 for event types the gate is asked about. */
  private readonly gated = new Uint8Array(EVENT_TYPE_COUNT);
  /** A hold is on: nothing is evaluated until it ends. */
  private holding = false;
  /** The queue's head is the event a hold waited for: it goes on without asking again. */
  private headReleased = false;
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly holdStats = { settled: 0, timedOut: 0, queueHalfFull: 0 };

  constructor(private readonly opts: EngineOptions) {
    const hooks = opts.hooks ?? [];
    this.beforeHooks = hooks.flatMap((h) => (h.beforeRules ? [h.beforeRules.bind(h)] : []));
    this.afterHooks = [...hooks].reverse().flatMap((h) => (h.afterRules ? [h.afterRules.bind(h)] : []));
    this.sampleEvery = opts.eventLatency ? Math.max(1, opts.latencySampleEvery ?? 64) : 0;
    this.untilSample = this.sampleEvery;
    this.matchAll = opts.matching === 'all';
    this.queue = new EventQueue(opts.queueCapacity ?? 65536);
    this.sliceMs = opts.sliceMs ?? 50;
    for (const id of opts.gate?.gatedEventTypes ?? []) if (id < EVENT_TYPE_COUNT) this.gated[id] = 1;
  }

  /** Atomic swap: the next event is evaluated against the new ruleset. */
  setRuleset(rs: CompiledRuleset): void {
    this.ctx = new ExtractContext(this.opts.reader, rs.slotCount, rs.nodeCount, this.opts.bootOffsetNs, this.opts.hostname);
    this.ctx.evtNum = this.events;
    this.byType = rs.byType;
    this.evaluators = rs.evaluators;
    this.ruleset = rs;
  }

  get currentRuleset(): CompiledRuleset | undefined {
    return this.ruleset;
  }

  setMatching(m: RuleMatching): void {
    this.matchAll = m === 'all';
  }

  /** Evaluates one event now (bypasses the queue). */
  process(ev: EventView): void {
    const typeId = ev.typeId;
    this.events++;
    this.eventsByType[typeId]++;
    const before = this.beforeHooks;
    for (let i = 0; i < before.length; i++) before[i]!(ev);
    const evaluate = this.evaluators[typeId];
    if (evaluate !== undefined) {
      const ctx = this.ctx!;
      ctx.evtNum = this.events;
      ctx.reset(ev);
      this.bucket = this.byType[typeId]!;
      this.evaluations += evaluate(ctx, this.hit);
    }
    const after = this.afterHooks;
    for (let i = 0; i < after.length; i++) after[i]!(ev);
    // process.hrtime reads CLOCK_MONOTONIC; the kernel stamps CLOCK_BOOTTIME. They are equal until the
    // host suspends; after that BOOTTIME is ahead, the difference comes out negative and is skipped.
    if (this.sampleEvery > 0 && --this.untilSample === 0) {
      this.untilSample = this.sampleEvery;
      const lat = (Number(process.hrtime.bigint()) - ev.tsNs) / 1e9;
      if (lat >= 0) this.opts.eventLatency!.observe(lat);
    }
  }

  /**
   * Evaluates a batch in place (views are only valid during this call). If a backlog exists, or
   * the slice budget runs out, the remaining events are copied into the bounded queue and
   * drained later so the event loop stays responsive.
   */
  processBatch(batch: EventBatch): void {
    let deferring = this.queue.length > 0 || this.holding;
    const t0 = performance.now();
    const deadline = t0 + this.sliceMs;
    const gated = this.gated;
    let n = 0;
    batch.forEach((ev) => {
      if (!deferring && (++n & 255) === 0 && performance.now() > deadline) deferring = true;
      if (!deferring && gated[ev.typeId] === 1 && this.startsHold(ev)) deferring = true;
      if (deferring) this.queue.offer(ev);
      else this.process(ev);
    });
    this.opts.batchEvaluate?.observe((performance.now() - t0) / 1000);
    if (this.holding && this.queue.length * 2 >= this.queue.capacity) this.endHold('queueHalfFull');
    if (this.queue.length > 0) this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.holding) return;
    this.drainScheduled = true;
    setImmediate(this.drainBound);
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.holding) return;
    const deadline = performance.now() + this.sliceMs;
    const gated = this.gated;
    let n = 0;
    for (let ev = this.queue.peek(); ev !== undefined; ev = this.queue.peek()) {
      if (gated[ev.typeId] === 1 && !this.headReleased && this.startsHold(ev)) return;
      this.headReleased = false;
      this.queue.poll();
      this.process(ev);
      if ((++n & 255) === 0 && performance.now() > deadline) break;
    }
    if (this.queue.length > 0) this.scheduleDrain();
  }

  /** Asks the gate about an event at the head of what is to be evaluated; true when a hold began. */
  private startsHold(ev: EventView): boolean {
    const wait = this.opts.gate!.holdFor(ev);
    if (wait === undefined) return false;
    this.holding = true;
    this.holdTimer = setTimeout(() => this.endHold('timedOut'), this.opts.gate!.maxHoldMs).unref();
    const settled = (): void => this.endHold('settled');
    wait.then(settled, settled);
    return true;
  }

  private endHold(how: keyof HoldStats): void {
    if (!this.holding) return;
    this.holding = false;
    this.headReleased = true;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.holdStats[how]++;
    this.scheduleDrain();
  }

  /** Evaluates everything queued now, holds or not (shutdown, tests). */
  flush(): void {
    if (this.holding) this.endHold('settled');
    this.headReleased = false;
    for (let ev = this.queue.poll(); ev !== undefined; ev = this.queue.poll()) this.process(ev);
  }

  private emit(rule: CompiledRule, ctx: ExtractContext): void {
    this.matches++;
    this.matchesByPriority[rule.priority]++;
    const m = this.matchesByRule.get(rule.name);
    if (m) m.count++;
    else this.matchesByRule.set(rule.name, { priority: rule.priority, count: 1 });
    const alert = ruleAlert(rule, ctx, BigInt(Math.trunc(ctx.ev.tsNs)) + this.opts.bootOffsetNs, this.opts.hostname);
    try {
      this.opts.onAlert(this.opts.onMatch ? this.opts.onMatch(rule, ctx, alert) : alert);
    } catch {
      this.alertErrors++;
    }
  }

  metricsStats(): EngineMetricsStats {
    return {
      queueDepth: this.queue.length,
      queueCapacity: this.queue.capacity,
      droppedQueueFull: this.queue.stats().dropped,
      ruleMatches: [...this.matchesByRule].map(([rule, v]) => ({ rule, priority: v.priority, count: v.count, source: 'syscall' })),
      holds: { ...this.holdStats },
    };
  }

  stats(): EngineStats {
    const rs = this.ruleset;
    return {
      events: this.events,
      eventsByType: Array.from(this.eventsByType),
      evaluations: this.evaluations,
      matches: this.matches,
      matchesByPriority: Array.from(this.matchesByPriority),
      matchesByRule: [...this.matchesByRule].map(([rule, v]) => ({ rule, priority: v.priority, count: v.count })),
      alertErrors: this.alertErrors,
      rulesLoaded: rs ? rs.rules.length : 0,
      rulesEnabled: rs ? rs.rules.filter((r) => r.enabled).length : 0,
      queue: this.queue.stats(),
      holds: { ...this.holdStats },
    };
  }
}
