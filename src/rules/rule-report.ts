/**
 * What a loaded ruleset is, for people: each rule with its event types and whether the kernel
 * filters for it (`lanner list-rules`), and the load result (`lanner validate`).
 */
import { EVENT_FAMILIES, EVENT_TYPES } from '../probe/event-types';
import type { OpenPathPrefix } from '../probe/probe';
import { kernelCaptureFor } from './kernel-needs';
import type { LoadMessage } from './messages';
import { ruleNarrowsOpens } from './open-filter';
import { PRIORITY_NAMES } from './priority';
import { loadRules, type CompiledRule, type CompiledRuleset, type RulesetOptions } from './ruleset';

const OPEN_TYPES: ReadonlySet<string> = new Set(EVENT_FAMILIES.open);

export interface RuleReport {
  readonly name: string;
  readonly priority: string;
  readonly source: string;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly evttypes: readonly string[];
  /**
   * What the kernel decides for this rule's events: `types` (only its event types ship),
   * `types+open filter` (its opens also pass the open filter, which it narrows), or
   * `types, open filter off` (it can match any open, so it keeps the open filter off).
   */
  readonly kernelFilter: 'types' | 'types+open filter' | 'types, open filter off';
  /** Lanner rule actions (none yet in the stock language). */
  readonly actions: readonly string[];
}

export interface KernelFilterReport {
  /** Event types the kernel ships for these rules (with what state and posture need at run time). */
  readonly eventTypes: readonly string[];
  readonly openFilter:
    | { readonly active: true; readonly prefixes: readonly OpenPathPrefix[]; readonly comms: readonly string[] }
    | { readonly active: false; readonly offBecause: string };
}

function ruleReport(rule: CompiledRule): RuleReport {
  const opens = rule.evttypeNames.some((t) => OPEN_TYPES.has(t));
  return {
    name: rule.name,
    priority: PRIORITY_NAMES[rule.priority],
    source: rule.source,
    tags: rule.tags,
    enabled: rule.enabled,
    evttypes: [...rule.evttypeNames],
    kernelFilter: !opens || !rule.enabled ? 'types' : ruleNarrowsOpens(rule) ? 'types+open filter' : 'types, open filter off',
    actions: [],
  };
}

/** The rules and the kernel filters they compile to (the rules' own needs, without state's). */
export function reportRules(rs: CompiledRuleset): { rules: RuleReport[]; kernel: KernelFilterReport } {
  const capture = kernelCaptureFor(rs, { eventTypes: [] });
  const open = capture.openFilter;
  return {
    rules: rs.rules.map(ruleReport),
    kernel: {
      eventTypes: EVENT_TYPES.filter((t) => capture.eventTypes.has(t.name)).map((t) => t.name),
      openFilter: open
        ? { active: true, prefixes: open.prefixes.map((e) => (typeof e === 'string' ? { prefix: e, writeOnly: false } : e)), comms: open.comms ?? [] }
        : { active: false, offBecause: capture.openFilterOffBecause ?? 'no open filter' },
    },
  };
}

export interface ValidationResult {
  readonly errors: readonly LoadMessage[];
  readonly warnings: readonly LoadMessage[];
  readonly rules: readonly RuleReport[];
  readonly kernel: KernelFilterReport;
}

/** For `lanner validate [--json]`. */
export function validateRules(paths: readonly string[], opts: RulesetOptions = {}): ValidationResult {
  const rs = loadRules(paths, opts);
  return { errors: rs.errors, warnings: rs.warnings, ...reportRules(rs) };
}
