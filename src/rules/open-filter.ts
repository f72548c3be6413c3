/**
 * The kernel's open filter, derived from the loaded rules: which opens some rule can match, so the
 * probe can drop the rest before it builds a record. Sound by over-approximation: an open any
 * enabled rule can match always ships; whatever cannot be decided counts as "may match".
 *
 * Each rule indexed under an open-family type is read as a filter on open events, made of atoms
 * the kernel can test: a path prefix (optionally for opens that can write only) and a process
 * name (the task's comm). A filter ships an open when any of its atoms holds; "any" ships all.
 *   - `fd.name startswith P`, `= P`, `in (…)`, `pmatch (…)`, `glob` (up to its first wildcard) and
 *     `fd.directory = D` give path prefixes; `evt.is_open_write = true` and the write flags limit
 *     them to opens that can write.
 *   - `proc.name = N` / `in (…)` gives process names.
 *   - A test that only a non-normalised path can pass (`fd.nameraw contains '../'`) needs no atom:
 *     the kernel ships every path it cannot judge byte by byte (relative, or with `//`, `./` or
 *     `../` in it).
 *   - `and` keeps the narrower side (the intersection when both are path sets), `or` the union;
 *     `not`, transformers and other fields mean "any".
 */
import type { CheckNode, ConditionNode } from './ast';
import type { CompiledRule, CompiledRuleset } from './ruleset';
import { EVENT_FAMILIES, familyTypeIds } from '../probe/event-types';
import { COMM_NAME_MAX } from '../probe/layout';
import type { OpenPathPrefix } from '../probe/probe';
import type { AliasPath } from '../probe/alias-targets';

export type { OpenPathPrefix };


const OPEN_IDS = familyTypeIds('open');
const OPEN_NAMES: ReadonlySet<string> = new Set(EVENT_FAMILIES.open);
/** Fields whose value is the opened path on open-family events (normalised, or as requested). */
const PATH_FIELDS = new Set(['fd.name', 'evt.arg.name']);
const RAW_PATH_FIELDS = new Set(['fd.nameraw', 'fd.name', 'evt.arg.name']);
const WRITE_FLAGS = new Set(['O_WRONLY', 'O_RDWR', 'O_TRUNC', 'O_CREAT']);
/** The byte sequence whose presence makes the kernel ship a path unjudged. */
const UNJUDGED_SEQUENCE = '../';

/**
 * A filter on opens: `any`, or path prefixes (prefix → only opens that can write) and process
 * names. Nothing at all (no atom) is an open no rule can match.
 */
interface Filter {
  readonly any: boolean;
  readonly paths: ReadonlyMap<string, boolean>;
  readonly comms: ReadonlySet<string>;
}

const ANY: Filter = { any: true, paths: new Map(), comms: new Set() };
const NOTHING: Filter = { any: false, paths: new Map(), comms: new Set() };
const pathsFilter = (paths: ReadonlyMap<string, boolean>): Filter => ({ any: false, paths, comms: new Set() });
const ANY_WRITE: Filter = pathsFilter(new Map([['/', true]]));

export interface OpenFilter {
  /** Prefixes an open's absolute path may start with. */
  readonly prefixes: readonly OpenPathPrefix[];
  /** Process names (at most COMM_NAME_MAX bytes) whose opens ship whatever their path. */
  readonly comms: readonly string[];
}

export interface OpenFilterDecision {
  /** null: every open ships (the filter is off). */
  readonly filter: OpenFilter | null;
  /** When off: the first rule that can match an open on any path, by any process. */
  readonly unboundedBy?: string;
}

/** The part of a glob pattern before its first wildcard. */
function literalHead(pattern: string): string {
  const i = pattern.search(/[*?[\\]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

function values(check: CheckNode): string[] | undefined {
  const rhs = check.rhs;
  if (rhs === undefined) return undefined;
  if (rhs.kind === 'literal') return [rhs.value];
  if (rhs.kind === 'list') return rhs.items.map((i) => i.value);
  return undefined;
}

/** Prefixes only make sense for absolute paths; a relative value can only match a relative path, which the kernel never filters. */
function absolute(prefixes: readonly string[]): Filter {
  return pathsFilter(new Map(prefixes.filter((p) => p.startsWith('/')).map((p) => [p, false])));
}

const isEquality = (op: string): boolean => op === '=' || op === '==' || op === 'in';

function checkFilter(check: CheckNode): Filter {
  if (check.lhs.kind !== 'field' || check.modifier !== undefined) return ANY;
  const field = check.lhs.arg === undefined ? check.lhs.name : `${check.lhs.name}[${check.lhs.arg}]`;
  const vals = values(check);
  if (vals === undefined) return ANY;
  if (field === 'evt.type') {
    // Restricted to open events: a test for other types is false, one for an open type true.
    if (isEquality(check.op) || check.op === 'intersects') return vals.some((v) => OPEN_NAMES.has(v)) ? ANY : NOTHING;
    return ANY;
  }
  if (field === 'evt.is_open_write' && (check.op === '=' || check.op === '==') && vals[0] === 'true') return ANY_WRITE;
  if (field === 'evt.arg.flags' && check.op === 'contains' && vals.length === 1 && WRITE_FLAGS.has(vals[0]!)) return ANY_WRITE;
  if (field === 'proc.name' && isEquality(check.op)) {
    return { any: false, paths: new Map(), comms: new Set(vals.map((v) => v.slice(0, COMM_NAME_MAX))) };
  }
  if (RAW_PATH_FIELDS.has(field) && vals.length === 1 && vals[0]!.includes(UNJUDGED_SEQUENCE)) {
    // Only a path with '../' in it can pass, and the kernel ships every such path unjudged. (A
    // glob's '../' is literal unless inside a bracket expression.)
    if (check.op === 'contains' || (check.op === 'glob' && !vals[0]!.includes('['))) return NOTHING;
  }
  if (PATH_FIELDS.has(field)) {
    switch (check.op) {
      case '=':
      case '==':
      case 'startswith':
      case 'in':
      case 'intersects':
        return absolute(vals);
      case 'pmatch':
      case 'glob': {
        // A pattern that starts with a wildcard can match any absolute path.
        const heads = vals.map(literalHead);
        return heads.includes('') ? ANY : absolute(heads);
      }
      default:
        return ANY;
    }
  }
  if (field === 'fd.directory' && isEquality(check.op)) return absolute(vals.map((d) => (d.endsWith('/') ? d : `${d}/`)));
  return ANY;
}

function unionPaths(a: ReadonlyMap<string, boolean>, b: ReadonlyMap<string, boolean>): Map<string, boolean> {
  // Either side may match: a prefix needs only the weaker mode of the two.
  const out = new Map(a);
  for (const [p, w] of b) out.set(p, out.has(p) ? out.get(p)! && w : w);
  return out;
}

function union(a: Filter, b: Filter): Filter {
  if (a.any || b.any) return ANY;
  return { any: false, paths: unionPaths(a.paths, b.paths), comms: new Set([...a.comms, ...b.comms]) };
}

/** Both sides must match: the intersection of prefix sets, with the stricter mode. */
function intersectPaths(a: ReadonlyMap<string, boolean>, b: ReadonlyMap<string, boolean>): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const [p, wp] of a) {
    for (const [q, wq] of b) {
      const longer = p.startsWith(q) ? p : q.startsWith(p) ? q : undefined;
      if (longer === undefined) continue;
      const w = wp || wq;
      out.set(longer, out.has(longer) ? out.get(longer)! && w : w);
    }
  }
  return out;
}

const isEmpty = (f: Filter): boolean => !f.any && f.paths.size === 0 && f.comms.size === 0;

/**
 * Both must hold, so either filter alone is sound; two path sets (or two name sets) intersect.
 * Between a path set and a name set the path set is kept: names in rules are often busy
 * programs (shells, package managers), prefixes rarely the paths every program opens.
 */
function intersect(a: Filter, b: Filter): Filter {
  if (a.any) return b;
  if (b.any) return a;
  if (isEmpty(a) || isEmpty(b)) return NOTHING;
  const aPaths = a.comms.size === 0;
  const bPaths = b.comms.size === 0;
  const aNames = a.paths.size === 0;
  const bNames = b.paths.size === 0;
  if (aPaths && bPaths) return pathsFilter(intersectPaths(a.paths, b.paths));
  if (aNames && bNames) return { any: false, paths: new Map(), comms: new Set([...a.comms].filter((c) => b.comms.has(c))) };
  if (aPaths) return a;
  if (bPaths) return b;
  return a.paths.size + a.comms.size <= b.paths.size + b.comms.size ? a : b;
}

function filterOf(node: ConditionNode): Filter {
  switch (node.kind) {
    case 'and':
      return node.children.map(filterOf).reduce(intersect, ANY);
    case 'or':
      return node.children.map(filterOf).reduce(union, NOTHING);
    case 'check':
      return checkFilter(node);
    default:
      // `not` and anything unresolved: cannot bound the open.
      return ANY;
  }
}

/** Whether the kernel's open filter can narrow this rule's opens (false: it keeps the filter off). */
export function ruleNarrowsOpens(rule: CompiledRule): boolean {
  return !isUnbounded(filterOf(rule.expandedCondition));
}

/** A prefix wanted for any open counts as any open; '/' for any open is no filter at all. */
function isUnbounded(f: Filter): boolean {
  return f.any || f.paths.get('/') === false;
}

/** Drops prefixes a shorter one with a weaker (or equal) mode already covers. */
function minimal(all: ReadonlyMap<string, boolean>): OpenPathPrefix[] {
  const sorted = [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: OpenPathPrefix[] = [];
  for (const [prefix, writeOnly] of sorted) {
    if (out.some((q) => prefix.startsWith(q.prefix) && (!q.writeOnly || writeOnly))) continue;
    out.push({ prefix, writeOnly });
  }
  return out;
}

/**
 * The kernel's open filter for a ruleset. `extra` adds prefixes other consumers need (the
 * posture checks' watched files, which matter for writes only).
 */
export function openFilterFor(ruleset: CompiledRuleset, extra: readonly OpenPathPrefix[] = []): OpenFilterDecision {
  let all: Filter = pathsFilter(new Map(extra.map((e) => [e.prefix, e.writeOnly])));
  const seen = new Set<string>();
  for (const id of OPEN_IDS) {
    for (const rule of ruleset.byType[id] ?? []) {
      if (seen.has(rule.name)) continue;
      seen.add(rule.name);
      const f = filterOf(rule.expandedCondition);
      if (isUnbounded(f)) return { filter: null, unboundedBy: rule.name };
      all = union(all, f);
    }
  }
  if (isUnbounded(all)) return { filter: null, unboundedBy: 'the extra prefixes' };
  return { filter: { prefixes: minimal(all.paths), comms: [...all.comms].sort() } };
}

/**
 * The paths the rules' open conditions name (exact paths, prefixes, directories), whether or not
 * the filter is bounded: the alias targets (src/probe/alias-targets.ts) that let a rule on
 * `/etc/shadow` see an open of the same file by another name. A rule that can match any open
 * names no path; one that names paths among other atoms still contributes them.
 */
export function aliasPathsFor(ruleset: CompiledRuleset): AliasPath[] {
  let all = new Map<string, boolean>();
  const seen = new Set<string>();
  for (const id of OPEN_IDS) {
    for (const rule of ruleset.byType[id] ?? []) {
      if (seen.has(rule.name)) continue;
      seen.add(rule.name);
      const f = filterOf(rule.expandedCondition);
      if (!f.any) all = unionPaths(all, f.paths);
    }
  }
  return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, writeOnly]) => ({ path, writeOnly }));
}
