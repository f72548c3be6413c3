/**
 * What a loaded ruleset is, for people: each rule with its event types and whether the kernel
 * filters for it (`lanner list-rules`), and the load result (`lanner validate`).
 */
import { EVENT_FAMILIES, EVENT_TYPES } from '../probe/event-types';
import type { OpenPathPrefix, PathSuffix } from '../probe/probe';
import type { KernelCapture } from '../probe/kernel-capture';
import { killPlacementOf } from '../enforce/kernel-predicate';
import { killRefusal } from '../enforce/plan';
import { kernelCaptureFor } from './kernel-needs';
import type { EnforcementMode, RuleAction } from './loader';
import type { LoadMessage } from './messages';
import { CHANGE_FILTER_TYPES } from './filter-classes';
import { ruleNarrowsChanges, ruleNarrowsOpens } from './open-filter';
import { PRIORITY_NAMES } from './priority';
import { loadRules, type CompiledRule, type CompiledRuleset, type RulesetOptions } from './ruleset';

const OPEN_TYPES: ReadonlySet<string> = new Set(EVENT_FAMILIES.open);
const CHANGE_TYPES: ReadonlySet<string> = new Set(CHANGE_FILTER_TYPES);

export interface RuleReport {
  readonly name: string;
  readonly priority: string;
  readonly source: string;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly evttypes: readonly string[];
  /**
   * What the kernel decides for this rule's events: `types` (only its event types ship), then for
   * each path filter its types meet, `+open filter` / `+change filter` (its calls also pass the
   * filter, which it narrows) or `, open filter off` / `, change filter off` (it can match any
   * path, so it keeps that filter off for its types).
   */
  readonly kernelFilter: string;
  /** Lanner rule actions (`actions: [kill]`, src/enforce): where each is enforced, and why. */
  readonly actions: readonly RuleActionReport[];
}

export interface RuleActionReport {
  readonly action: RuleAction;
  /**
   * `kernel`: the condition compiles exactly to the probe's open check, which kills before the open
   * returns (what it cannot judge is killed from user space); `user space`: right after the match;
   * `refused`: kill is not loaded on this rule (the alert says refused). With enforcement.kernel
   * false every kernel rule is enforced from user space.
   */
  readonly enforcedIn: 'kernel' | 'user space' | 'refused';
  readonly why: string;
  /** The rule's own `enforcement` key; undefined: the configured enforcement.mode. */
  readonly mode: EnforcementMode | undefined;
}

function actionsReport(rule: CompiledRule): RuleActionReport[] {
  return rule.actions.map((action) => {
    const refusal = killRefusal(rule);
    if (refusal !== undefined) return { action, enforcedIn: 'refused', why: refusal, mode: rule.enforcement };
    const placement = killPlacementOf(rule);
    return { action, enforcedIn: placement.where === 'kernel' ? 'kernel' : 'user space', why: placement.why, mode: rule.enforcement };
  });
}

export interface KernelFilterReport {
  /** Event types the kernel ships for these rules (with what state and posture need at run time). */
  readonly eventTypes: readonly string[];
  readonly openFilter:
    | { readonly active: true; readonly prefixes: readonly OpenPathPrefix[]; readonly suffixes: readonly PathSuffix[]; readonly needles: readonly string[]; readonly comms: readonly string[] }
    | { readonly active: false; readonly offBecause: string };
  readonly changeFilter:
    | { readonly active: true; readonly types: readonly string[]; readonly prefixes: readonly OpenPathPrefix[]; readonly suffixes: readonly PathSuffix[]; readonly needles: readonly string[]; readonly comms: readonly string[]; readonly modeMask: number }
    | { readonly active: false; readonly offBecause: string };
  /** Per path-changing type a rule names: filtered in the kernel, or the rule that can match any path. */
  readonly changeFilterByType: KernelCapture['changeFilterByType'];
}

function ruleReport(rule: CompiledRule): RuleReport {
  const opens = rule.evttypeNames.some((t) => OPEN_TYPES.has(t));
  const changes = rule.evttypeNames.some((t) => CHANGE_TYPES.has(t));
  let kernelFilter = 'types';
  if (rule.enabled && opens) kernelFilter += ruleNarrowsOpens(rule) ? '+open filter' : ', open filter off';
  if (rule.enabled && changes) kernelFilter += ruleNarrowsChanges(rule) ? '+change filter' : ', change filter off';
  return {
    name: rule.name,
    priority: PRIORITY_NAMES[rule.priority],
    source: rule.source,
    tags: rule.tags,
    enabled: rule.enabled,
    evttypes: [...rule.evttypeNames],
    kernelFilter,
    actions: actionsReport(rule),
  };
}

/** The rules and the kernel filters they compile to (the rules' own needs, without state's). */
export function reportRules(rs: CompiledRuleset): { rules: RuleReport[]; kernel: KernelFilterReport } {
  const capture = kernelCaptureFor(rs, { eventTypes: [] });
  const open = capture.openFilter;
  const change = capture.changeFilter;
  return {
    rules: rs.rules.map(ruleReport),
    kernel: {
      eventTypes: EVENT_TYPES.filter((t) => capture.eventTypes.has(t.name)).map((t) => t.name),
      openFilter: open
        ? { active: true, prefixes: open.prefixes.map((e) => (typeof e === 'string' ? { prefix: e, writeOnly: false } : e)), suffixes: open.suffixes ?? [], needles: open.needles ?? [], comms: open.comms ?? [] }
        : { active: false, offBecause: capture.openFilterOffBecause ?? 'no open filter' },
      changeFilter: change
        ? { active: true, types: change.types, prefixes: [...change.prefixes].map((e) => (typeof e === 'string' ? { prefix: e, writeOnly: false } : e)), suffixes: change.suffixes ?? [], needles: change.needles ?? [], comms: change.comms ?? [], modeMask: change.modeMask ?? 0 }
        : { active: false, offBecause: 'no path-changing type a rule names can be narrowed' },
      changeFilterByType: capture.changeFilterByType,
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
