/**
 * The k8s_audit evaluation path: the enabled `source: k8s_audit` rules of the loaded ruleset, in
 * order, against one audit event at a time, turning matches into the same `Alert`s the syscall
 * engine produces (so outputs, rate limits and match metrics treat both sources alike). The
 * syscall engine and its hot path are untouched; this path has its own context and counters.
 */
import type { Alert, PriorityNum } from '../outputs/alert';
import type { ExtractContext } from '../rules/context';
import { JsonEventSession } from '../rules/fields/jevt';
import { ruleAlert } from '../engine/rule-alert';
import type { CompiledRule, CompiledRuleset } from '../rules/ruleset';
import { K8S_AUDIT_SOURCE, PLUGIN_SOURCES } from '../rules/sources';
import type { AuditEvent } from './event';

export type RuleMatching = 'first' | 'all';

export interface AuditEvaluatorOptions {
  readonly onAlert: (alert: Alert) => void;
  readonly hostname: string;
  /** `rule_matching`: stop at the first matching rule (Falco) or report every match. */
  readonly matching: RuleMatching;
}

/** One rule's match count, cumulative across reloads (the metrics' `RuleMatchTotal` shape). */
export interface AuditRuleMatches {
  readonly rule: string;
  readonly priority: PriorityNum;
  readonly count: number;
  readonly source: string;
}

export interface AuditEvaluatorStats {
  readonly events: number;
  readonly evaluations: number;
  readonly matches: number;
  readonly alertErrors: number;
  readonly rules: number;
}

const PLUGIN_NAME = PLUGIN_SOURCES.get(K8S_AUDIT_SOURCE)!.pluginName;

export class AuditRuleEvaluator {
  private rules: readonly CompiledRule[] = [];
  private session: JsonEventSession | undefined;
  private matchAll: boolean;
  private events = 0;
  private evaluations = 0;
  private matches = 0;
  private alertErrors = 0;
  private readonly matchesByRule = new Map<string, { priority: PriorityNum; count: number }>();

  constructor(private readonly opts: AuditEvaluatorOptions) {
    this.matchAll = opts.matching === 'all';
  }

  /** Takes the k8s_audit rules of a loaded ruleset (none: events are counted, not evaluated). */
  setRuleset(rs: CompiledRuleset): void {
    const own = rs.sources?.get(K8S_AUDIT_SOURCE);
    this.rules = own?.rules ?? [];
    this.session = own && own.rules.length > 0 ? new JsonEventSession(K8S_AUDIT_SOURCE, PLUGIN_NAME, own.slotCount, own.nodeCount, this.opts.hostname) : undefined;
  }

  setMatching(m: RuleMatching): void {
    this.matchAll = m === 'all';
  }

  /** Whether any k8s_audit rule is loaded (without one, inputs need not parse events at all). */
  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  evaluate(ev: AuditEvent): void {
    this.events++;
    const session = this.session;
    if (session === undefined) return;
    session.begin(ev.doc, ev.timeNs, this.events);
    const ctx = session.ctx;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      this.evaluations++;
      const rule = rules[i]!;
      if (!rule.predicate(ctx)) continue;
      this.emit(rule, ctx, ev.timeNs);
      if (!this.matchAll) return;
    }
  }

  private emit(rule: CompiledRule, ctx: ExtractContext, timeNs: bigint): void {
    this.matches++;
    const m = this.matchesByRule.get(rule.name);
    if (m) m.count++;
    else this.matchesByRule.set(rule.name, { priority: rule.priority, count: 1 });
    const alert = ruleAlert(rule, ctx, timeNs, this.opts.hostname);
    try {
      this.opts.onAlert(alert);
    } catch {
      this.alertErrors++;
    }
  }

  ruleMatches(): AuditRuleMatches[] {
    return [...this.matchesByRule].map(([rule, v]) => ({ rule, priority: v.priority, count: v.count, source: K8S_AUDIT_SOURCE }));
  }

  stats(): AuditEvaluatorStats {
    return { events: this.events, evaluations: this.evaluations, matches: this.matches, alertErrors: this.alertErrors, rules: this.rules.length };
  }
}
