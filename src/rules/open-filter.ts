/**
 * The absolute path prefixes an open-family event must have for any loaded rule to match it, so
 * the kernel can drop the rest before building a record (the probe's open path filter).
 *
 * For each enabled rule indexed under open/openat/openat2/creat the condition is read as a
 * constraint on the opened path, restricted to open events: `fd.name startswith P`, `= P`,
 * `in (…)`, `pmatch (…)`, `glob` (up to its first wildcard) and `fd.directory = D` give prefixes;
 * `and` takes the narrower side, `or` needs every side constrained. Anything else (negations,
 * `contains`, transformers, other fields) means "any path", and then there is no filter at all:
 * correctness first, the filter is only an optimisation.
 */
import type { CheckNode, ConditionNode } from './ast';
import type { CompiledRuleset } from './ruleset';
import { eventTypeByName } from '../probe/event-types';

const OPEN_FAMILY = ['open', 'openat', 'openat2', 'creat'];
const OPEN_IDS = new Set(OPEN_FAMILY.map((n) => eventTypeByName(n)!.id));
/** Fields whose value is the opened path on open-family events. */
const PATH_FIELDS = new Set(['fd.name', 'evt.arg.name']);

/**
 * A constraint on open events: prefix → whether only opens that can write match under it.
 * `{'/': false}` is any open; `{'/': true}` any write open; `{}` no open at all.
 */
type PathConstraint = ReadonlyMap<string, boolean>;
const ANY: PathConstraint = new Map([['/', false]]);
const ANY_WRITE: PathConstraint = new Map([['/', true]]);
const NOTHING: PathConstraint = new Map();

export interface OpenPathPrefix {
  readonly prefix: string;
  /** Only opens that can write (write access, O_TRUNC or O_CREAT) can match under this prefix. */
  readonly writeOnly: boolean;
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
function absolute(prefixes: readonly string[]): PathConstraint {
  return new Map(prefixes.filter((p) => p.startsWith('/')).map((p) => [p, false]));
}

const WRITE_FLAGS = new Set(['O_WRONLY', 'O_RDWR', 'O_TRUNC', 'O_CREAT']);

function checkConstraint(check: CheckNode): PathConstraint {
  if (check.lhs.kind !== 'field' || check.modifier !== undefined) return ANY;
  const field = check.lhs.arg === undefined ? check.lhs.name : `${check.lhs.name}[${check.lhs.arg}]`;
  const vals = values(check);
  if (field === 'evt.type' && vals !== undefined) {
    // Restricted to open events: a test for other types is false, one for an open type true.
    const mentionsOpen = vals.some((v) => OPEN_FAMILY.includes(v));
    if (check.op === '=' || check.op === '==' || check.op === 'in' || check.op === 'intersects') return mentionsOpen ? ANY : NOTHING;
    return ANY;
  }
  if (vals === undefined) return ANY;
  if (field === 'evt.is_open_write' && (check.op === '=' || check.op === '==') && vals[0] === 'true') return ANY_WRITE;
  if (field === 'evt.arg.flags' && check.op === 'contains' && vals.length === 1 && WRITE_FLAGS.has(vals[0]!)) return ANY_WRITE;
  if (PATH_FIELDS.has(field)) {
    switch (check.op) {
      case '=':
      case '==':
      case 'startswith':
      case 'in':
      case 'intersects':
        return absolute(vals);
      case 'pmatch':
      case 'glob':
        return absolute(vals.map(literalHead));
      default:
        return ANY;
    }
  }
  if (field === 'fd.directory' && (check.op === '=' || check.op === '==' || check.op === 'in')) {
    return absolute(vals.map((d) => (d.endsWith('/') ? d : `${d}/`)));
  }
  return ANY;
}

/** Either side may match: a prefix needs only the weaker mode of the two. */
function union(a: PathConstraint, b: PathConstraint): PathConstraint {
  const out = new Map(a);
  for (const [p, w] of b) out.set(p, out.has(p) ? out.get(p)! && w : w);
  return out;
}

/** Both sides must match: the intersection of prefix sets, with the stricter mode. */
function intersect(a: PathConstraint, b: PathConstraint): PathConstraint {
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

function constraint(node: ConditionNode): PathConstraint {
  switch (node.kind) {
    case 'and':
      return node.children.map(constraint).reduce(intersect, ANY);
    case 'or':
      return node.children.map(constraint).reduce(union, NOTHING);
    case 'check':
      return checkConstraint(node);
    default:
      // `not` and anything unresolved: cannot bound the path.
      return ANY;
  }
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
 * The prefixes for the kernel's open filter, or undefined when some open-family rule can match
 * any open (then every open must be shipped). `extra` adds prefixes other consumers need (the
 * posture checks' watched files, which matter for writes only).
 */
export function openPathPrefixes(ruleset: CompiledRuleset, extra: readonly OpenPathPrefix[] = []): OpenPathPrefix[] | undefined {
  let all: PathConstraint = new Map(extra.map((e) => [e.prefix, e.writeOnly]));
  for (const id of OPEN_IDS) {
    for (const rule of ruleset.byType[id] ?? []) {
      const c = constraint(rule.expandedCondition);
      if (c.get('/') === false) return undefined;
      all = union(all, c);
    }
  }
  if (all.get('/') === false) return undefined;
  return minimal(all);
}
