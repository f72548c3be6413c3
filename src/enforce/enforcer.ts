/**
 * The enforcement decision for each match of a rule with `actions: [kill]`, made where the match
 * becomes an alert: what the kernel already did (the record's kill flags), or, for what the kernel
 * did not judge, a kill from user space right after the match, behind the same safeguards and a
 * per-rule token bucket. Every decision is counted per rule and result, and written on the alert.
 */
import type { Alert } from '../outputs/alert';
import { TokenBucket } from '../outputs/token-bucket';
import type { EventView } from '../probe/event';
import { FLAG_KILL_FAILED, FLAG_KILL_HELD, FLAG_KILLED } from '../probe/layout';
import { tryLoadAddon, type NativeKillCounts, type NativeKillTables } from '../probe/native';
import type { CompiledRule } from '../rules/ruleset';
import type { EnforcementConfig } from './config';
import { planEnforcement, type EnforcementPlan } from './plan';
import { kernelNamePattern, safeguardOf, type NamePattern } from './safeguards';

export const ENFORCEMENT_RESULTS = ['killed-in-kernel', 'killed', 'would-kill', 'refused', 'failed'] as const;
export type EnforcementResult = (typeof ENFORCEMENT_RESULTS)[number];
/** What the kernel counts per rule (lib/enforce.h). */
export const KERNEL_KILL_RESULTS = ['killed', 'refused', 'limited', 'failed'] as const;
type KernelKillResult = (typeof KERNEL_KILL_RESULTS)[number];

/** Output fields every kill rule's alert carries (extra `output_fields` keys stay valid Falco JSON). */
export const ENFORCEMENT_FIELD = 'lanner.enforcement';
export const ENFORCEMENT_REASON_FIELD = 'lanner.enforcement_reason';
export const KILL_DELAY_FIELD = 'lanner.kill_delay_ms';

export interface EnforcementCount {
  readonly rule: string;
  readonly result: string;
  readonly count: number;
}

/** The shape the metrics part reads (src/metrics/sources.ts). */
export interface EnforcementMetrics {
  /** Decisions written on alerts, by rule and EnforcementResult. */
  readonly decisions: readonly EnforcementCount[];
  /** The kernel's own decisions (killed, refused, limited, failed), by rule: also those whose event was lost. */
  readonly kernel: readonly EnforcementCount[];
}

/** The probe's side of enforcement (KernelEventSource). */
export interface KillTablesTarget {
  setKillTables(tables: NativeKillTables | null): void;
  killCounts(): NativeKillCounts | null;
}

export interface EnforcerOptions {
  readonly config: EnforcementConfig;
  /** false (a replay): nothing is ever killed, whatever the modes say; enforce-mode matches are `would-kill`. */
  readonly live: boolean;
  /** The agent's tgids (its own, and the probe's self list). */
  readonly selfTgids?: ReadonlySet<number>;
  /** Sends SIGKILL (tests replace it); throws an errno error when it cannot. */
  readonly kill?: (tgid: number) => void;
  /** Milliseconds for the rate limit (tests inject time). */
  readonly nowMs?: () => number;
  /** Whether a tgid is a kernel thread (default: /proc/<tgid>/stat); tests inject it. */
  readonly isKernelThread?: (tgid: number) => boolean;
}

/** CLOCK_MONOTONIC to CLOCK_BOOTTIME (the probe's timestamps), measured once: the time the host spent suspended. */
function monotonicToBoottimeNs(): bigint {
  const addon = tryLoadAddon();
  if (!addon) return 0n;
  const { boottimeNs } = addon.clocks();
  return boottimeNs - process.hrtime.bigint();
}

export class Enforcer {
  private plan: EnforcementPlan = { rules: new Map(), slots: [], tables: null };
  private readonly protectedNames: readonly NamePattern[];
  private readonly selfTgids: ReadonlySet<number>;
  private readonly kill: (tgid: number) => void;
  private readonly nowMs: () => number;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly decisions = new Map<string, Map<EnforcementResult, number>>();
  private readonly kernelTotals = new Map<string, Map<KernelKillResult, number>>();
  /** The kernel's per-slot counters when last read, and the rule each slot held then. */
  private kernelSeen: NativeKillCounts | null = null;
  private kernelSlots: readonly string[] = [];
  private readonly monoToBoot = monotonicToBoottimeNs();

  constructor(private readonly opts: EnforcerOptions) {
    this.protectedNames = opts.config.protected.map(kernelNamePattern);
    this.selfTgids = opts.selfTgids ?? new Set([process.pid]);
    this.kill = opts.kill ?? ((tgid) => process.kill(tgid, 'SIGKILL'));
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  /** Plans the kill rules of a newly applied ruleset. */
  setRules(rules: readonly CompiledRule[]): EnforcementPlan {
    this.plan = planEnforcement(rules, this.opts.config);
    if (!this.opts.live) this.plan = { ...this.plan, tables: null };
    this.buckets.clear();
    return this.plan;
  }

  get current(): EnforcementPlan {
    return this.plan;
  }

  /**
   * Hands the kernel its tables (after every rules load), folding the old slots' counters first.
   * Returns why the kernel refused them, if it did: kernel enforcement is then off and every match
   * is killed from user space (no record carries a kernel decision).
   */
  applyTo(probe: KillTablesTarget): string | undefined {
    this.readKernel(probe.killCounts());
    let failure: string | undefined;
    try {
      probe.setKillTables(this.plan.tables);
    } catch (err) {
      failure = (err as Error).message;
      probe.setKillTables(null);
    }
    this.kernelSlots = failure === undefined ? this.plan.slots : [];
    this.kernelSeen = probe.killCounts();
    return failure;
  }

  /** The alert for a match, with the enforcement decision written on it (unchanged for rules without `kill`). */
  decide(rule: CompiledRule, ev: EventView, procName: string | undefined, alert: Alert): Alert {
    const planned = rule.actions.length === 0 ? undefined : this.plan.rules.get(rule.name);
    if (planned === undefined) return alert;
    const flags = ev.killFlags();
    let result: EnforcementResult;
    let reason: string | undefined;
    let delayMs: number | undefined;
    const guard = (): string | undefined => safeguardOf({ tgid: ev.tgid, ptgid: ev.ptgid, comm: ev.comm(), procName }, this.selfTgids, this.protectedNames, this.opts.isKernelThread);
    if (flags & FLAG_KILLED) {
      result = 'killed-in-kernel';
    } else if (flags & FLAG_KILL_FAILED) {
      [result, reason] = ['failed', 'the kernel could not send SIGKILL'];
    } else if (flags & FLAG_KILL_HELD) {
      [result, reason] = ['refused', guard() ?? 'the rule\u2019s kill rate limit (in the kernel)'];
    } else if (planned.status.where === 'refused') {
      [result, reason] = ['refused', `kill not loaded: ${planned.status.why}`];
    } else if ((reason = guard()) !== undefined) {
      result = 'refused';
    } else if (planned.mode === 'monitor' || !this.opts.live) {
      result = 'would-kill';
    } else if (!this.bucket(rule.name).take(this.nowMs())) {
      [result, reason] = ['refused', 'the rule\u2019s kill rate limit'];
    } else {
      try {
        this.kill(ev.tgid);
        result = 'killed';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        [result, reason] = ['failed', code === 'ESRCH' ? 'the process had already exited' : `kill: ${code ?? (err as Error).message}`];
      }
      delayMs = Number(process.hrtime.bigint() + this.monoToBoot - BigInt(Math.trunc(ev.tsNs))) / 1e6;
    }
    this.count(rule.name, result);
    const text = `enforcement=${result}${reason === undefined ? '' : ` (${reason})`}${delayMs === undefined ? '' : ` ${delayMs.toFixed(3)} ms after the syscall`}`;
    return {
      ...alert,
      message: `${alert.message} ${text}`,
      outputFields: { ...alert.outputFields, [ENFORCEMENT_FIELD]: result, [ENFORCEMENT_REASON_FIELD]: reason ?? null, [KILL_DELAY_FIELD]: delayMs ?? null },
    };
  }

  /** For the metrics part, at scrape time. */
  metricsStats(probe?: KillTablesTarget): EnforcementMetrics {
    if (probe) this.readKernel(probe.killCounts());
    const flat = <R extends string>(m: Map<string, Map<R, number>>): EnforcementCount[] =>
      [...m].flatMap(([rule, byResult]) => [...byResult].map(([result, count]) => ({ rule, result, count })));
    return { decisions: flat(this.decisions), kernel: flat(this.kernelTotals) };
  }

  private bucket(rule: string): TokenBucket {
    let b = this.buckets.get(rule);
    if (!b) {
      b = new TokenBucket(this.opts.config.rate.per_second, this.opts.config.rate.burst, this.nowMs());
      this.buckets.set(rule, b);
    }
    return b;
  }

  private count(rule: string, result: EnforcementResult): void {
    let m = this.decisions.get(rule);
    if (!m) this.decisions.set(rule, (m = new Map()));
    m.set(result, (m.get(result) ?? 0) + 1);
  }

  /** Adds what the kernel counted since the last read to the rules its slots held. */
  private readKernel(now: NativeKillCounts | null): void {
    const before = this.kernelSeen;
    if (!now) return;
    this.kernelSlots.forEach((rule, slot) => {
      let m = this.kernelTotals.get(rule);
      if (!m) this.kernelTotals.set(rule, (m = new Map()));
      for (const result of KERNEL_KILL_RESULTS) {
        const delta = (now[result][slot] ?? 0) - (before?.[result][slot] ?? 0);
        m.set(result, (m.get(result) ?? 0) + Math.max(0, delta));
      }
    });
    this.kernelSeen = now;
  }
}
