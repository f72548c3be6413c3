/**
 * The dropped-events self-alert. Fed once per second with cumulative per-stage counters, it looks
 * at the last second's deltas; when the lost fraction passes the threshold it runs the configured
 * actions, at most as often as its token bucket allows (one per 30 s by default), so a sustained
 * overload produces a steady trickle of evidence rather than a flood on top of the overload.
 */
import type { Logger } from 'pino';
import type { Alert } from './alert';
import type { DropAction, DropsConfig } from './drops-config';
import { TokenBucket } from './token-bucket';

/** Falco's rule name for this alert; SIEM rules and dashboards match on it. */
export const DROP_ALERT_RULE = 'Falco internal: syscall event drop';

/** Cumulative counters since start; plain numbers so any stage can feed them. */
export interface DropCounters {
  /** Events that reached user space (delivered out of the kernel ring). */
  readonly delivered: number;
  /** Lost in the kernel: ring buffer full. */
  readonly ringFull: number;
  /** Lost in the kernel: record larger than the maximum record size. */
  readonly tooLarge: number;
  /** Lost in the kernel for any other reason (scratch space, failed reads). */
  readonly kernelOther: number;
  /** Lost between the native addon and JS (addon queue full). */
  /** Lost before the rule engine (engine queue full). */
  readonly engineQueue: number;
}

export interface DropCheck {
  /** Events that existed in the last second: delivered + lost in the kernel. */
  readonly events: number;
  readonly drops: number;
  readonly ratio: number;
  /** Threshold passed. */
  readonly triggered: boolean;
  /** Actions actually run (empty when not triggered or the limiter said no). */
  readonly actions: readonly DropAction[];
  readonly delta: DropCounters;
}

export interface DropMonitorDeps {
  readonly logger: Logger;
  readonly publish: (alert: Alert) => void;
  /** Called for the `exit` action; the agent decides how to stop. */
  readonly exit: (reason: string) => void;
  readonly hostname: string;
  /** ms clock for the limiter and alert time; Date.now by default. */
  readonly now?: () => number;
}

const ZERO: DropCounters = { delivered: 0, ringFull: 0, tooLarge: 0, kernelOther: 0, engineQueue: 0 };

function delta(cur: number, prev: number): number {
  // A restarted source resets its counters: count from zero rather than going negative.
  return cur >= prev ? cur - prev : cur;
}

export class DropMonitor {
  private prev: DropCounters | undefined;
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly actions: readonly DropAction[];
  private fired = 0;
  private skipped = 0;

  constructor(
    private readonly config: DropsConfig,
    private readonly deps: DropMonitorDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.bucket = new TokenBucket(config.rate, config.max_burst, this.now());
    this.actions = config.actions.includes('ignore') ? [] : config.actions;
  }

  /** Times the actions ran / were skipped by the limiter. */
  get counts(): { readonly fired: number; readonly skipped: number } {
    return { fired: this.fired, skipped: this.skipped };
  }

  /** Call once per second. The first call only records the baseline. */
  update(counters: DropCounters): DropCheck {
    const prev = this.prev ?? ZERO;
    const first = this.prev === undefined;
    this.prev = { ...counters };
    const d: DropCounters = {
      delivered: delta(counters.delivered, prev.delivered),
      ringFull: delta(counters.ringFull, prev.ringFull),
      tooLarge: delta(counters.tooLarge, prev.tooLarge),
      kernelOther: delta(counters.kernelOther, prev.kernelOther),
      engineQueue: delta(counters.engineQueue, prev.engineQueue),
    };
    const kernelDrops = d.ringFull + d.tooLarge + d.kernelOther;
    const drops = kernelDrops + d.engineQueue;
    const events = d.delivered + kernelDrops;
    const ratio = events > 0 ? drops / events : drops > 0 ? 1 : 0;
    const triggered = !first && drops > 0 && ratio > this.config.threshold;
    if (!triggered || this.actions.length === 0) return { events, drops, ratio, triggered, actions: [], delta: d };
    if (!this.bucket.take(this.now())) {
      this.skipped++;
      this.deps.logger.debug({ drops, events }, 'event drops over threshold; actions skipped by the rate limiter');
      return { events, drops, ratio, triggered, actions: [], delta: d };
    }
    this.fired++;
    const text = `${DROP_ALERT_RULE}. ${drops} of ${events} events lost in the last second (ring full ${d.ringFull}, too large ${d.tooLarge}, kernel other ${d.kernelOther}, engine queue ${d.engineQueue})`;
    for (const action of this.actions) {
      switch (action) {
        case 'log':
          this.deps.logger.warn({ rule: DROP_ALERT_RULE, drops, events, ratio, ...d }, text);
          break;
        case 'alert':
          this.deps.publish(this.alert(text, events, drops, d));
          break;
        case 'exit':
          this.deps.logger.fatal({ drops, events, ratio }, 'event drops over threshold: exiting as configured (drops.actions has exit)');
          this.deps.exit(text);
          break;
        case 'ignore':
          break;
      }
    }
    return { events, drops, ratio, triggered, actions: this.actions, delta: d };
  }

  private alert(text: string, events: number, drops: number, d: DropCounters): Alert {
    return {
      timeNs: BigInt(this.now()) * 1_000_000n,
      rule: DROP_ALERT_RULE,
      priority: 7,
      source: 'internal',
      message: text,
      outputFields: {
        // Falco's names where Lanner's stages map onto them: its "buffer" drops are our ring-full
        // drops, its scratch-map drops our other kernel-side losses.
        n_evts: String(events),
        n_drops: String(drops),
        n_drops_buffer_total: String(d.ringFull),
        n_drops_scratch_map: String(d.kernelOther),
        ebpf_enabled: '1',
        // Lanner's own stages.
        n_drops_ring_full: String(d.ringFull),
        n_drops_too_large: String(d.tooLarge),
        n_drops_kernel_other: String(d.kernelOther),
        n_drops_engine_queue: String(d.engineQueue),
      },
      tags: [],
      hostname: this.deps.hostname,
    };
  }
}
