/**
 * The algebra of the kernel's path filters: what a rule condition says about the path of an event
 * it can match, as atoms the kernel can test (native/bpf/lib/path_filter.h). Sound by
 * over-approximation: a filter is a set of paths containing every path the condition can match;
 * whatever cannot be decided counts as "any".
 *
 * A filter is `any`, or a union of atoms: path prefixes, exact paths and suffixes (each for any
 * call, or for opens that can write only) and process names (the task's comm).
 *   - `contains` gives a substring where the class's kernel side searches for them (path changes).
 *   - `=`/`in` give exact paths; `startswith`, and the literal head of a `pmatch` or glob pattern,
 *     give prefixes;
 *     `endswith` and a glob's literal tail give suffixes; `fd.directory =` a prefix and
 *     `fd.filename =` a suffix.
 *   - A test that only a non-normalised path can pass (`contains '../'`) needs no atom: the kernel
 *     ships every path it cannot judge byte by byte (relative, with `//`, `./` or `../` in it, or
 *     too long). A judged path is its own normal form, so bytes decide what the rule would.
 *   - A value that can only match a relative path contributes nothing, for the same reason.
 *   - A test on a field the event type does not have is false (when it can only hold for a value).
 *   - On a call with a mode argument (chmod, mkdir), `evt.arg.mode contains S_ISUID` gives mode bits:
 *     the rendered mode names a bit only when it is set.
 *   - `and` keeps the narrower side (the intersection where both are atom sets), `or` the union;
 *     `not`, transformers and other fields mean "any".
 */
import type { CheckNode, ConditionNode } from './ast';
import { COMM_NAME_MAX, PATH_NEEDLE_LEN, PATH_PREFIX_LEN, PATH_SUFFIX_LEN } from '../probe/layout';

/** A filter: atom → true when it holds for opens that can write only. */
export interface PathFilter {
  readonly any: boolean;
  readonly prefixes: ReadonlyMap<string, boolean>;
  readonly exacts: ReadonlyMap<string, boolean>;
  readonly suffixes: ReadonlyMap<string, boolean>;
  /** Substrings (`contains`), for classes whose kernel side searches for them. */
  readonly needles: ReadonlyMap<string, boolean>;
  readonly comms: ReadonlySet<string>;
  /** Mode bits (chmod, mkdir): a call whose mode argument has one of them matches. */
  readonly modeMask: number;
}

const none = (): Map<string, boolean> => new Map();
export const ANY: PathFilter = { any: true, prefixes: none(), exacts: none(), suffixes: none(), needles: none(), comms: new Set(), modeMask: 0 };
export const NOTHING: PathFilter = { any: false, prefixes: none(), exacts: none(), suffixes: none(), needles: none(), comms: new Set(), modeMask: 0 };

function atoms(kind: 'prefixes' | 'exacts' | 'suffixes' | 'needles', values: Iterable<string>, writeOnly = false): PathFilter {
  return { ...NOTHING, [kind]: new Map([...values].map((v) => [v, writeOnly])) };
}

/** Any path, for opens that can write only. */
export const ANY_WRITE: PathFilter = atoms('prefixes', ['/'], true);

/** What a field reads on the events a filter is built for. */
export type FieldRole =
  /** the event's path (normalised or as passed): atoms apply */
  | 'path'
  /** the directory of that path (`fd.directory`) */
  | 'directory'
  /** its last component (`fd.filename`) */
  | 'basename'
  /** nothing: the event type has no such value, so a test for a value is false */
  | 'absent'
  | 'other';

export interface FilterClass {
  /** The event type names the filter is for (an `evt.type` test for another is false). */
  readonly typeNames: ReadonlySet<string>;
  role(field: string): FieldRole;
  /**
   * Whether the kernel searches this class's paths for substrings (a `contains` atom): for path
   * changes always; for opens only those that can write (a search on every read is too dear).
   */
  readonly needles?: boolean;
  /** A class's own reading of a check (the open class's write tests); undefined: none. */
  special?(field: string, op: string, values: readonly string[]): PathFilter | undefined;
}

/** Operators that are false on a missing value. */
const FALSE_WHEN_ABSENT = new Set(['=', '==', 'in', 'intersects', 'startswith', 'endswith', 'contains', 'icontains', 'glob', 'iglob', 'pmatch', 'bcontains', 'bstartswith']);
const isEquality = (op: string): boolean => op === '=' || op === '==' || op === 'in' || op === 'intersects';
/** The byte sequence whose presence makes the kernel ship a path unjudged. */
const UNJUDGED_SEQUENCE = '../';

function values(check: CheckNode): string[] | undefined {
  const rhs = check.rhs;
  if (rhs === undefined) return undefined;
  if (rhs.kind === 'literal') return [rhs.value];
  if (rhs.kind === 'list') return rhs.items.map((i) => i.value);
  return undefined;
}

/** The longest head of `s` within `max` UTF-8 bytes (a prefix of it matches at least what it does). */
function headWithin(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s;
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1);
  return out;
}

/** The longest tail of `s` within `max` UTF-8 bytes. */
function tailWithin(s: string, max: number): string {
  let out = s;
  while (Buffer.byteLength(out) > max) out = out.slice(1);
  return out;
}

/**
 * Values a judged path can start with: absolute, and free of '//', '/./' and '/../' (a judged path
 * has none, so an atom holding one matches only paths the kernel ships unjudged anyway).
 */
const absolute = (vs: readonly string[]): string[] => vs.filter((v) => v.startsWith('/') && !/\/\/|\/\.\.?\//.test(v));
const prefixesOf = (vs: readonly string[]): PathFilter => atoms('prefixes', absolute(vs).map((v) => headWithin(v, PATH_PREFIX_LEN)));
const suffixesOf = (vs: readonly string[]): PathFilter => atoms('suffixes', vs.map((v) => tailWithin(v, PATH_SUFFIX_LEN)));

/** An exact path past the kernel's prefix length is tested by its head, as a prefix. */
function exactsOf(vs: readonly string[]): PathFilter {
  // A judged path does not end in '/.' or '/..' either.
  const abs = absolute(vs).filter((v) => !/\/\.\.?$/.test(v));
  const short = abs.filter((v) => Buffer.byteLength(v) <= PATH_PREFIX_LEN);
  const long = abs.filter((v) => Buffer.byteLength(v) > PATH_PREFIX_LEN);
  return long.length === 0 ? atoms('exacts', short) : union(atoms('exacts', short), prefixesOf(long));
}

/** The part of a glob pattern before its first wildcard, and after its last one (empty when it ends in one). */
function literalHead(pattern: string): string {
  const i = pattern.search(/[*?[\\]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}
function literalTail(pattern: string): string {
  let i = pattern.length;
  while (i > 0 && !'*?]\\'.includes(pattern[i - 1]!)) i--;
  // A bracket expression or an escape before the tail makes its start uncertain: only a plain
  // `*` or `?` bounds it.
  return i > 0 && (pattern[i - 1] === '*' || pattern[i - 1] === '?') ? pattern.slice(i) : '';
}

function pathCheck(op: string, vals: readonly string[], needles: boolean): PathFilter {
  if (vals.length === 1 && vals[0]!.includes(UNJUDGED_SEQUENCE) && (op === 'contains' || (op === 'glob' && !vals[0]!.includes('[')))) {
    // Only a path with '../' in it can pass, and the kernel ships every such path unjudged. (A
    // glob's '../' is literal unless inside a bracket expression.)
    return NOTHING;
  }
  switch (op) {
    case '=':
    case '==':
    case 'in':
    case 'intersects':
      return exactsOf(vals);
    case 'startswith':
      return vals.includes('') ? ANY : prefixesOf(vals);
    case 'pmatch': {
      // A directory pattern may hold wildcards: it bounds paths by its literal head. A plain one
      // written with its trailing slash (`/etc/`) matches the directory itself too (`/etc`).
      const heads = vals.map(literalHead);
      if (heads.includes('')) return ANY;
      const dirs = vals.filter((v) => v.length > 1 && v.endsWith('/') && literalHead(v) === v).map((v) => v.slice(0, -1));
      return union(prefixesOf(heads), exactsOf(dirs));
    }
    case 'endswith':
      return vals.includes('') ? ANY : suffixesOf(vals);
    case 'contains':
      // A needle the kernel can hold whole; a longer one is found by its head.
      return needles && !vals.includes('') ? atoms('needles', vals.map((v) => headWithin(v, PATH_NEEDLE_LEN))) : ANY;
    case 'glob':
      return vals.map((v) => {
        const head = literalHead(v);
        if (head !== '') return prefixesOf([head]);
        const tail = literalTail(v);
        return tail !== '' ? suffixesOf([tail]) : ANY;
      }).reduce(union, NOTHING);
    default:
      return ANY;
  }
}

export function checkFilter(check: CheckNode, cls: FilterClass): PathFilter {
  if (check.lhs.kind !== 'field' || check.modifier !== undefined) return ANY;
  const field = check.lhs.arg === undefined ? check.lhs.name : `${check.lhs.name}[${check.lhs.arg}]`;
  const vals = values(check);
  if (vals === undefined) return ANY;
  if (field === 'evt.type') {
    // A test for another type is false on the class's events, one for the class's own true.
    if (isEquality(check.op)) return vals.some((v) => cls.typeNames.has(v)) ? ANY : NOTHING;
    return ANY;
  }
  const special = cls.special?.(field, check.op, vals);
  if (special !== undefined) return special;
  if (field === 'proc.name' && isEquality(check.op)) return { ...NOTHING, comms: new Set(vals.map((v) => v.slice(0, COMM_NAME_MAX))) };
  switch (cls.role(field)) {
    case 'path':
      return pathCheck(check.op, vals, cls.needles === true);
    case 'directory':
      return isEquality(check.op) ? prefixesOf(vals.map((d) => (d.endsWith('/') ? d : `${d}/`))) : ANY;
    case 'basename':
      return isEquality(check.op) ? suffixesOf(vals.map((b) => `/${b}`)) : ANY;
    case 'absent':
      return FALSE_WHEN_ABSENT.has(check.op) ? NOTHING : ANY;
    default:
      return ANY;
  }
}

export function filterOf(node: ConditionNode, cls: FilterClass): PathFilter {
  switch (node.kind) {
    case 'and':
      return node.children.map((c) => filterOf(c, cls)).reduce(intersect, ANY);
    case 'or':
      return unionAll(node.children.map((c) => filterOf(c, cls)));
    case 'check':
      return checkFilter(node, cls);
    default:
      // `not` and anything unresolved: cannot bound the path.
      return ANY;
  }
}

/** Either side may match: an atom needs only the weaker mode of the two. */
export function union(a: PathFilter, b: PathFilter): PathFilter {
  return unionAll([a, b]);
}

/** The union of many filters in one pass (a pairwise fold copies the atoms once per child). */
export function unionAll(filters: readonly PathFilter[]): PathFilter {
  if (filters.some((f) => f.any)) return ANY;
  if (filters.length === 1) return filters[0]!;
  const out = { prefixes: none(), exacts: none(), suffixes: none(), needles: none() };
  const comms = new Set<string>();
  let modeMask = 0;
  for (const f of filters) {
    for (const kind of ['prefixes', 'exacts', 'suffixes', 'needles'] as const) {
      const m = out[kind];
      for (const [k, w] of f[kind]) m.set(k, m.has(k) ? m.get(k)! && w : w);
    }
    for (const c of f.comms) comms.add(c);
    modeMask |= f.modeMask;
  }
  return { any: false, ...out, comms, modeMask };
}

const pathAtomCount = (f: PathFilter): number => f.prefixes.size + f.exacts.size + f.suffixes.size + f.needles.size;
const isEmpty = (f: PathFilter): boolean => !f.any && pathAtomCount(f) === 0 && f.comms.size === 0 && f.modeMask === 0;
const bitCount = (n: number): number => n.toString(2).replace(/0/g, '').length;

/**
 * Both sides hold: each pair of atoms meets in the narrower one (or, for a prefix and a suffix, in
 * either). A side with substrings is kept whole instead: the other when it has none.
 */
function intersectAtoms(a: PathFilter, b: PathFilter): PathFilter {
  if (a.needles.size > 0 || b.needles.size > 0) {
    // Any path (for writes only) and a substring: the substring, for writes only.
    const anyPath = (f: PathFilter): boolean => f.prefixes.size === 1 && f.prefixes.has('/') && f.exacts.size + f.suffixes.size + f.needles.size === 0;
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (anyPath(x) && y.needles.size > 0) {
        const w = x.prefixes.get('/')!;
        return { ...y, needles: new Map([...y.needles].map(([n, wn]) => [n, wn || w])), prefixes: new Map([...y.prefixes].map(([p, wp]) => [p, wp || w])), exacts: new Map([...y.exacts].map(([e, we]) => [e, we || w])), suffixes: new Map([...y.suffixes].map(([x2, wx]) => [x2, wx || w])) };
      }
    }
    return b.needles.size === 0 ? b : a;
  }
  const out = { prefixes: none(), exacts: none(), suffixes: none() };
  const add = (kind: keyof typeof out, key: string, w: boolean): void => {
    const m = out[kind];
    m.set(key, m.has(key) ? m.get(key)! && w : w);
  };
  const meet = (x: PathFilter, y: PathFilter): void => {
    for (const [p, wp] of x.prefixes) {
      for (const [q, wq] of y.prefixes) if (p.startsWith(q)) add('prefixes', p, wp || wq);
      for (const [e, we] of y.exacts) if (e.startsWith(p)) add('exacts', e, wp || we);
      // Paths under p that end with s: either atom alone bounds them; '/' bounds nothing.
      for (const [s, ws] of y.suffixes) p === '/' ? add('suffixes', s, wp || ws) : add('prefixes', p, wp || ws);
    }
    for (const [s, ws] of x.suffixes) {
      for (const [t, wt] of y.suffixes) if (s.endsWith(t)) add('suffixes', s, ws || wt);
      for (const [e, we] of y.exacts) if (e.endsWith(s)) add('exacts', e, ws || we);
    }
  };
  meet(a, b);
  meet(b, a);
  for (const [e, we] of a.exacts) if (b.exacts.has(e)) add('exacts', e, we || b.exacts.get(e)!);
  return { any: false, ...out, needles: none(), comms: new Set(), modeMask: 0 };
}

/**
 * Both must hold, so either filter alone is sound; two atom sets (or two name sets) intersect.
 * Otherwise one side is kept: atoms over names (names in rules are often busy programs: shells,
 * package managers; paths rarely the ones every program uses), then mode bits, then the smaller.
 */
export function intersect(a: PathFilter, b: PathFilter): PathFilter {
  if (a.any) return b;
  if (b.any) return a;
  if (isEmpty(a) || isEmpty(b)) return NOTHING;
  const only = (f: PathFilter, kind: 'atoms' | 'names' | 'mode'): boolean =>
    (kind === 'atoms' || pathAtomCount(f) === 0) && (kind === 'names' || f.comms.size === 0) && (kind === 'mode' || f.modeMask === 0);
  if (only(a, 'atoms') && only(b, 'atoms')) return intersectAtoms(a, b);
  if (only(a, 'names') && only(b, 'names')) return { ...NOTHING, comms: new Set([...a.comms].filter((c) => b.comms.has(c))) };
  if (only(a, 'mode') && only(b, 'mode')) return bitCount(a.modeMask) <= bitCount(b.modeMask) ? a : b;
  // A substring that holds for any call is the weakest bound (opens search only writes): keep the other side.
  const readNeedles = (f: PathFilter): boolean => [...f.needles.values()].some((writeOnly) => !writeOnly);
  if (readNeedles(a) !== readNeedles(b)) return readNeedles(a) ? b : a;
  for (const kind of ['atoms', 'mode'] as const) {
    if (only(a, kind)) return a;
    if (only(b, kind)) return b;
  }
  const size = (f: PathFilter): number => pathAtomCount(f) + f.comms.size + bitCount(f.modeMask);
  return size(a) <= size(b) ? a : b;
}

/** Any path for any call: no filter at all ('/' for writes only still bounds reads). */
export function isUnbounded(f: PathFilter): boolean {
  return f.any || f.prefixes.get('/') === false;
}

export interface PathAtoms {
  readonly prefixes: { readonly prefix: string; readonly writeOnly: boolean; readonly exact?: boolean }[];
  readonly suffixes: { readonly suffix: string; readonly writeOnly: boolean }[];
  readonly needles: { readonly needle: string; readonly writeOnly: boolean }[];
  readonly comms: string[];
  readonly modeMask: number;
}

const byKey = <T>(m: ReadonlyMap<string, T>): [string, T][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The filter's atoms without those another atom with a weaker (or equal) mode already covers. */
export function minimalAtoms(f: PathFilter): PathAtoms {
  const prefixes: { prefix: string; writeOnly: boolean; exact?: boolean }[] = [];
  const covered = (path: string, w: boolean): boolean => prefixes.some((q) => q.exact !== true && path.startsWith(q.prefix) && (!q.writeOnly || w));
  for (const [prefix, writeOnly] of byKey(f.prefixes)) if (!covered(prefix, writeOnly)) prefixes.push({ prefix, writeOnly });
  const suffixList = byKey(f.suffixes);
  const suffixes = suffixList
    .filter(([s, w]) => !suffixList.some(([t, wt]) => t !== s && s.endsWith(t) && (!wt || w)))
    .map(([suffix, writeOnly]) => ({ suffix, writeOnly }));
  for (const [prefix, writeOnly] of byKey(f.exacts)) {
    if (covered(prefix, writeOnly) || suffixes.some((s) => prefix.endsWith(s.suffix) && (!s.writeOnly || writeOnly))) continue;
    prefixes.push({ prefix, writeOnly, exact: true });
  }
  // A needle another needle holds is found by that one already.
  const needleList = byKey(f.needles);
  const needles = needleList
    .filter(([x, w]) => !needleList.some(([y, wy]) => y !== x && x.includes(y) && (!wy || w)))
    .map(([needle, writeOnly]) => ({ needle, writeOnly }));
  return { prefixes, suffixes, needles, comms: [...f.comms].sort(), modeMask: f.modeMask };
}
