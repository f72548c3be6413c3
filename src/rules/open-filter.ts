/**
 * The kernel's path filters, derived from the loaded rules (the algebra is in ./path-atoms.ts):
 *   - the open filter: which opens some rule can match, so the probe can drop the rest before it
 *     builds a record;
 *   - the change filter: the same per event type for calls that change a path (unlink, rename,
 *     link, symlink, mkdir, rmdir, chmod, chown, truncate and their *at forms).
 * Sound by over-approximation: a call any enabled rule can match always ships; whatever cannot be
 * decided counts as "may match", and a type one rule can match on any path ships unfiltered.
 */
import type { CompiledRule, CompiledRuleset } from './ruleset';
import { eventTypeByName, familyTypeIds } from '../probe/event-types';
import type { OpenPathPrefix, PathSuffix } from '../probe/probe';
import type { AliasPath } from '../probe/alias-targets';
import { CHANGE_CLASSES, OPEN_CLASS } from './filter-classes';
import { filterOf, isUnbounded, minimalAtoms, NOTHING, union, type PathFilter } from './path-atoms';

export type { OpenPathPrefix, PathSuffix };

const OPEN_IDS = familyTypeIds('open');

export interface OpenFilter {
  /** Prefixes (or exact paths) an open's absolute path may start with. */
  readonly prefixes: readonly OpenPathPrefix[];
  /** Suffixes it may end with. */
  readonly suffixes: readonly PathSuffix[];
  /** Substrings a path may hold: for opens, those that can write only. */
  readonly needles: readonly string[];
  /** Process names (at most COMM_NAME_MAX bytes) whose calls ship whatever their path. */
  readonly comms: readonly string[];
}

export interface OpenFilterDecision {
  /** null: every open ships (the filter is off). */
  readonly filter: OpenFilter | null;
  /** When off: the first rule that can match an open on any path, by any process. */
  readonly unboundedBy?: string;
}

export interface ChangeFilter extends OpenFilter {
  /** The event types the filter judges (the others ship). */
  readonly types: readonly string[];
  /** A chmod or mkdir whose mode has one of these bits ships (MODE_FILTER_TYPES). */
  readonly modeMask: number;
}

export interface ChangeFilterDecision {
  /** null: no type is filtered. */
  readonly filter: ChangeFilter | null;
  /** Per type with a rule or an extra need: filtered, or the rule that can match it on any path. */
  readonly byType: Readonly<Record<string, { readonly filtered: true } | { readonly filtered: false; readonly unboundedBy: string }>>;
}

function withExtra(extra: readonly OpenPathPrefix[]): PathFilter {
  return { ...NOTHING, prefixes: new Map(extra.filter((e) => e.exact !== true).map((e) => [e.prefix, e.writeOnly])), exacts: new Map(extra.filter((e) => e.exact === true).map((e) => [e.prefix, e.writeOnly])) };
}

function rulesOf(ruleset: CompiledRuleset, ids: Iterable<number>): CompiledRule[] {
  const seen = new Set<string>();
  const out: CompiledRule[] = [];
  for (const id of ids) {
    for (const rule of ruleset.byType[id] ?? []) {
      if (seen.has(rule.name)) continue;
      seen.add(rule.name);
      out.push(rule);
    }
  }
  return out;
}

/** A rule's open filter, or undefined when it can match any open (a substring for reads counts as any). */
function openBound(rule: CompiledRule): PathFilter | undefined {
  const f = filterOf(rule.expandedCondition, OPEN_CLASS);
  return isUnbounded(f) || [...f.needles.values()].some((writeOnly) => !writeOnly) ? undefined : f;
}

/** Whether the kernel's open filter can narrow this rule's opens (false: it keeps the filter off). */
export function ruleNarrowsOpens(rule: CompiledRule): boolean {
  return openBound(rule) !== undefined;
}

/** Whether the change filter can narrow this rule on every change type it is indexed under. */
export function ruleNarrowsChanges(rule: CompiledRule): boolean {
  return rule.evttypeNames.every((t) => {
    const cls = CHANGE_CLASSES.get(t);
    return cls === undefined || !isUnbounded(filterOf(rule.expandedCondition, cls));
  });
}

/**
 * The kernel's open filter for a ruleset. `extra` adds prefixes other consumers need (the
 * posture checks' watched files, which matter for writes only).
 */
export function openFilterFor(ruleset: CompiledRuleset, extra: readonly OpenPathPrefix[] = []): OpenFilterDecision {
  let all = withExtra(extra);
  for (const rule of rulesOf(ruleset, OPEN_IDS)) {
    const f = openBound(rule);
    if (f === undefined) return { filter: null, unboundedBy: rule.name };
    all = union(all, f);
  }
  if (isUnbounded(all)) return { filter: null, unboundedBy: 'the extra prefixes' };
  const { prefixes, suffixes, needles, comms } = minimalAtoms(all);
  return { filter: { prefixes, suffixes, needles: needles.map((n) => n.needle), comms } };
}

/**
 * The change filter for a ruleset. `wanted` are the change types other consumers need whatever
 * the rules say, for the `extra` paths only (the posture checks' watched files).
 */
export function changeFilterFor(ruleset: CompiledRuleset, extra: readonly OpenPathPrefix[] = [], wanted: Iterable<string> = []): ChangeFilterDecision {
  const byType: Record<string, { filtered: true } | { filtered: false; unboundedBy: string }> = {};
  const others = new Set(wanted);
  let all = withExtra(extra);
  const types: string[] = [];
  for (const [name, cls] of CHANGE_CLASSES) {
    const rules = ruleset.byType[eventTypeByName(name)!.id] ?? [];
    if (rules.length === 0 && !others.has(name)) continue;
    let typeFilter: PathFilter = NOTHING;
    let by: string | undefined;
    for (const rule of rules) {
      const f = filterOf(rule.expandedCondition, cls);
      if (isUnbounded(f)) {
        by = rule.name;
        break;
      }
      typeFilter = union(typeFilter, f);
    }
    if (by !== undefined) {
      byType[name] = { filtered: false, unboundedBy: by };
      continue;
    }
    byType[name] = { filtered: true };
    types.push(name);
    all = union(all, typeFilter);
  }
  if (types.length === 0) return { filter: null, byType };
  // Opens' write-only mode means nothing for a change: every atom holds for any call.
  const atoms = minimalAtoms(all);
  return {
    filter: { types, prefixes: atoms.prefixes.map((p) => ({ ...p, writeOnly: false })), suffixes: atoms.suffixes.map((s) => ({ ...s, writeOnly: false })), comms: atoms.comms, modeMask: atoms.modeMask, needles: atoms.needles.map((n) => n.needle) },
    byType,
  };
}

/**
 * The paths the rules' open conditions name (exact paths, prefixes, directories), whether or not
 * the filter is bounded: the alias targets (src/probe/alias-targets.ts) that let a rule on
 * `/etc/shadow` see an open of the same file by another name. A rule that can match any open
 * names no path; one that names paths among other atoms still contributes them.
 */
export function aliasPathsFor(ruleset: CompiledRuleset): AliasPath[] {
  const all = new Map<string, boolean>();
  for (const rule of rulesOf(ruleset, OPEN_IDS)) {
    const f = filterOf(rule.expandedCondition, OPEN_CLASS);
    if (f.any) continue;
    for (const m of [f.prefixes, f.exacts]) for (const [p, w] of m) all.set(p, all.has(p) ? all.get(p)! && w : w);
  }
  return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, writeOnly]) => ({ path, writeOnly }));
}
