/**
 * Compiles expanded condition trees into closures. One `ConditionCompiler` serves a whole ruleset:
 * fields are interned into memo slots (each extracted at most once per event) and structurally
 * identical sub-expressions are hash-consed into one closure whose result is cached per event, so
 * a macro shared by twenty rules is evaluated once.
 */
import { printCondition, printOperand, type CheckNode, type ConditionNode, type FieldRef, type Operand, type Rhs, type TransformerArg, type TransformerRef } from './ast';
import type { ExtractContext, FieldValue } from './context';
import { findField, isNumericType, type Extractor, type FieldDef, type FieldType } from './fields';
import { compileGlob, compilePathMatch, compileRegex, netContains, parseNet, type IpNet } from './match';
import { isNumberLiteral } from './parser';
import { eventTypeByName } from '../probe/event-types';

export type Predicate = (c: ExtractContext) => boolean;

export class CompileError extends Error {
  constructor(
    message: string,
    readonly node: { readonly at: number; readonly src: { locate(offset: number): import('./messages').SourcePosition } },
    /** Unknown field / event type: what `skip-if-unknown-filter` forgives. */
    readonly unknownFilter = false,
    readonly offset = node.at,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

export interface CompiledOperand {
  readonly key: string;
  readonly type: FieldType;
  readonly get: Extractor;
  /** Multi-valued "either" field: a comparison holds if it holds for any value. */
  readonly either: boolean;
  readonly def: FieldDef | undefined;
  readonly filterOnly: boolean;
}

/** Operators allowed per type class (rule-language.md §8). */
const ALLOWED: Record<FieldType, ReadonlySet<string>> = (() => {
  const eq = ['=', '==', '!=', 'in', 'intersects', 'exists'];
  const str = [...eq, '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'pmatch'];
  const num = [...eq, '<', '<=', '>', '>='];
  const s = new Set(str);
  const n = new Set(num);
  return {
    string: s,
    strlist: s,
    int64: n,
    uint64: n,
    uint32: n,
    port: n,
    reltime: n,
    abstime: n,
    bool: new Set(eq),
    ipaddr: new Set(eq),
    ipnet: new Set(eq),
    bytebuf: new Set([...eq, 'contains', 'startswith', 'endswith', 'bcontains', 'bstartswith']),
  };
})();

type Cmp = (v: FieldValue) => boolean;

const MAX_ANCESTORS = 64;

function hexBytes(text: string, node: { at: number; src: CompileError['node']['src'] }): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new CompileError(`'${text}' is not a hex byte string`, node);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function valueToString(v: FieldValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** Printed form per node object; expanded macros share subtrees, so this avoids re-printing them. */
const printed = new WeakMap<ConditionNode, string>();
function keyOf(node: ConditionNode): string {
  let k = printed.get(node);
  if (k === undefined) printed.set(node, (k = printCondition(node)));
  return k;
}

/** A transformer over the text of its argument; an unextractable argument stays unextractable. */
function stringTransform(arg: Extractor, f: (s: string) => string | undefined): Extractor {
  return (c) => {
    const v = arg(c);
    return v === undefined ? undefined : f(valueToString(v));
  };
}

export class ConditionCompiler {
  private readonly slots = new Map<string, number>();
  private readonly nodes = new Map<string, Predicate>();
  private readonly leafIndex = new Map<string, number>();
  private readonly leaves: Predicate[] = [];

  get slotCount(): number {
    return this.slots.size;
  }
  /** Distinct leaves (checks), each with a per-event result cache slot. */
  get nodeCount(): number {
    return this.leaves.length;
  }

  /**
   * Compiles a macro-free tree into one generated function: and/or/not become inline JS operators
   * (each leaf call site stays monomorphic), and every distinct leaf caches its result per event in
   * the context's node arrays, so a check shared by many rules runs once per event. The generated
   * source only contains operators and numeric leaf indexes, never rule text.
   */
  compile(node: ConditionNode): Predicate {
    return this.compileFor(node, undefined) as Predicate;
  }

  /**
   * Like `compile`, specialised for events of one type: checks decided by the event type alone
   * (`evt.type` tests, and `evt.num` tests only 0 satisfies — evt.num starts at 1) are folded to
   * constants. Returns a constant when the whole condition folds.
   */
  compileFor(node: ConditionNode, typeName: string | undefined): Predicate | boolean {
    const key = typeName === undefined ? keyOf(node) : `${typeName}\u0000${keyOf(node)}`;
    const known = this.nodes.get(key);
    if (known) return known;
    const expr = this.emit(node, 0, typeName);
    if (typeName !== undefined && typeof expr === 'boolean') return expr;
    let fn: Predicate;
    const generated = typeof expr === 'string' && expr.length < 1_000_000 ? generate(expr, this.leaves) : undefined;
    if (generated) fn = generated;
    else if (typeof expr === 'boolean') {
      const v = expr;
      fn = () => v;
    } else fn = this.closureTree(node);
    this.nodes.set(key, fn);
    return fn;
  }

  /** JS expression (or a folded constant) for a tree; undefined when too deep for generated code. */
  private emit(node: ConditionNode, depth: number, typeName: string | undefined): string | boolean | undefined {
    if (depth > 200) return undefined;
    switch (node.kind) {
      case 'and':
      case 'or': {
        const isAnd = node.kind === 'and';
        const parts: string[] = [];
        for (const c of node.children) {
          const e = this.emit(c, depth + 1, typeName);
          if (e === undefined) return undefined;
          if (typeof e === 'boolean') {
            if (e !== isAnd) return e; // false in an and, true in an or
            continue;
          }
          parts.push(e);
        }
        if (parts.length === 0) return isAnd;
        return parts.length === 1 ? parts[0]! : `(${parts.join(isAnd ? '&&' : '||')})`;
      }
      case 'not': {
        const e = this.emit(node.child, depth + 1, typeName);
        return e === undefined ? undefined : typeof e === 'boolean' ? !e : `!${e}`;
      }
      case 'macro':
        throw new CompileError(`undefined macro '${node.name}' used in filter`, node);
      case 'check': {
        const i = this.leafId(node);
        const folded = typeName === undefined ? undefined : staticCheck(node, typeName);
        return folded ?? `(S[${i}]===t?V[${i}]===1:L[${i}](c))`;
      }
    }
  }

  /** Interns a leaf and returns its index; the stored function records its result in the cache. */
  private leafId(node: CheckNode): number {
    const key = keyOf(node);
    const known = this.leafIndex.get(key);
    if (known !== undefined) return known;
    const inner = this.compileCheck(node);
    const id = this.leaves.length;
    this.leaves.push((c) => {
      const r = inner(c);
      c.nodeStamp[id] = c.stamp;
      c.nodeValue[id] = r ? 1 : 0;
      return r;
    });
    this.leafIndex.set(key, id);
    return id;
  }

  /** Fallback for trees nested too deeply for generated code. */
  private closureTree(node: ConditionNode): Predicate {
    switch (node.kind) {
      case 'and': {
        const parts = node.children.map((n) => this.closureTree(n));
        return (c) => {
          for (let i = 0; i < parts.length; i++) if (!parts[i]!(c)) return false;
          return true;
        };
      }
      case 'or': {
        const parts = node.children.map((n) => this.closureTree(n));
        return (c) => {
          for (let i = 0; i < parts.length; i++) if (parts[i]!(c)) return true;
          return false;
        };
      }
      case 'not': {
        const inner = this.closureTree(node.child);
        return (c) => !inner(c);
      }
      case 'macro':
        throw new CompileError(`undefined macro '${node.name}' used in filter`, node);
      case 'check': {
        const id = this.leafId(node);
        const leaf = this.leaves[id]!;
        return (c) => (c.nodeStamp[id] === c.stamp ? c.nodeValue[id] === 1 : leaf(c));
      }
    }
  }

  /** Memoizes an extractor in a per-event slot keyed by its canonical text. */
  private memo(key: string, get: Extractor): Extractor {
    let slot = this.slots.get(key);
    if (slot === undefined) this.slots.set(key, (slot = this.slots.size));
    const s = slot;
    return (c) => {
      if (c.slotStamp[s] === c.stamp) return c.slotValue[s];
      const v = get(c);
      c.slotStamp[s] = c.stamp;
      c.slotValue[s] = v;
      return v;
    };
  }

  resolveField(ref: FieldRef): { def: FieldDef; get: Extractor } {
    const def = findField(ref.name, ref.arg);
    if (!def) throw new CompileError(`filter_check called with nonexistent field ${ref.name}`, ref, true);
    if (def.arg === 'none' && ref.arg !== undefined && !ref.name.startsWith('evt.arg') && !ref.name.startsWith('evt.rawarg')) {
      throw new CompileError(`field '${ref.name}' does not take an argument`, ref);
    }
    if ((def.arg === 'index' || def.arg === 'key') && ref.arg === undefined) throw new CompileError(`field '${ref.name}' requires an argument`, ref);
    if ((def.arg === 'index' || def.arg === 'index_opt') && ref.arg !== undefined && !/^\d+$/.test(ref.arg) && !(def.name === 'evt.arg' || def.name === 'evt.rawarg')) {
      throw new CompileError(`field '${ref.name}' needs a numeric index, got '${ref.arg}'`, ref);
    }
    const made = def.make(ref.arg);
    if (typeof made === 'string') throw new CompileError(made, ref);
    return { def, get: this.memo(printOperand(ref), made) };
  }

  /** Compiles a field or transformer operand. */
  compileOperand(o: Operand | TransformerArg): CompiledOperand {
    switch (o.kind) {
      case 'field': {
        const { def, get } = this.resolveField(o);
        const filterOnly = def.filterOnly || (def.ofProcess !== undefined && o.arg === undefined);
        return { key: printOperand(o), type: def.type, get, either: def.either, def, filterOnly };
      }
      case 'transformer':
        return this.compileTransformer(o);
      case 'literal': {
        const v = o.value;
        return { key: printOperand(o), type: 'string', get: () => v, either: false, def: undefined, filterOnly: false };
      }
      case 'tuple':
        throw new CompileError('a parenthesised list is only valid as the second argument of join()', o);
    }
  }

  private compileTransformer(t: TransformerRef): CompiledOperand {
    const key = printOperand(t);
    const one = (): CompiledOperand => {
      if (t.args.length !== 1) throw new CompileError(`transformer '${t.name}' takes exactly one argument`, t);
      const a = this.compileOperand(t.args[0]!);
      if (t.name !== 'len' && a.type !== 'string' && a.type !== 'bytebuf') throw new CompileError(`transformer '${t.name}' needs a string argument, '${a.key}' is ${a.type}`, t);
      return a;
    };
    let type: FieldType = 'string';
    let get: Extractor;
    if (t.index !== undefined && t.name !== 'getopt') throw new CompileError(`transformer '${t.name}' does not take an index`, t);
    switch (t.name) {
      case 'tolower':
      case 'toupper': {
        get = stringTransform(one().get, t.name === 'tolower' ? (s) => s.toLowerCase() : (s) => s.toUpperCase());
        break;
      }
      case 'b64': {
        get = stringTransform(one().get, (s) =>
          /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 !== 1 ? Buffer.from(s, 'base64').toString('latin1') : undefined,
        );
        break;
      }
      case 'basename': {
        get = stringTransform(one().get, (s) => s.slice(s.lastIndexOf('/') + 1));
        break;
      }
      case 'len': {
        const a = one().get;
        type = 'uint64';
        get = (c) => {
          const v = a(c);
          if (v === undefined) return undefined;
          return Array.isArray(v) || v instanceof Uint8Array || typeof v === 'string' ? (v as { length: number }).length : valueToString(v).length;
        };
        break;
      }
      case 'concat': {
        if (t.args.length < 2) throw new CompileError('concat() needs at least two arguments', t);
        const parts = t.args.map((a) => this.compileOperand(a).get);
        get = (c) => {
          let out = '';
          for (const p of parts) {
            const v = p(c);
            if (v === undefined) return undefined;
            out += valueToString(v);
          }
          return out;
        };
        break;
      }
      case 'join': {
        const [sepArg, listArg] = t.args;
        if (t.args.length !== 2 || sepArg?.kind !== 'literal') throw new CompileError('join() takes a quoted separator and a list: join(", ", (a, b))', t);
        const sep = sepArg.value;
        const items = listArg!.kind === 'tuple' ? listArg.items.map((a) => this.compileOperand(a).get) : [this.compileOperand(listArg!).get];
        get = (c) => {
          const out: string[] = [];
          for (const p of items) {
            const v = p(c);
            if (v === undefined) return undefined;
            if (Array.isArray(v)) out.push(...(v as string[]));
            else out.push(valueToString(v));
          }
          return out.join(sep);
        };
        break;
      }
      case 'getopt': {
        const [argvArg, optsArg] = t.args;
        if (t.args.length !== 2 || optsArg?.kind !== 'literal') throw new CompileError('getopt() takes an argument list and a quoted option string: getopt(proc.args, "ab:")[b]', t);
        if (t.index === undefined || t.index.length !== 1) throw new CompileError('getopt() needs the option letter as index, e.g. [b]', t);
        const argv = this.compileOperand(argvArg!).get;
        get = getopt(argv, optsArg.value, t.index);
        break;
      }
    }
    return { key, type, get: this.memo(key, get), either: false, def: undefined, filterOnly: false };
  }

  private compileCheck(node: CheckNode): Predicate {
    const lhs = this.compileOperand(node.lhs);
    const opNode = { at: node.opAt, src: node.src };
    if (!ALLOWED[lhs.type].has(node.op)) {
      throw new CompileError(`operator '${node.op}' is not supported by '${lhs.key}' (type ${lhs.type})`, opNode);
    }
    if (lhs.def?.ofProcess && node.lhs.kind === 'field' && node.lhs.arg === undefined) return this.compileAnyAncestor(node, lhs.def);
    const get = lhs.get;
    if (node.op === 'exists') return (c) => get(c) !== undefined;
    const rhs = node.rhs!;
    if (rhs.kind === 'val' || rhs.kind === 'transformer') return this.compileDynamic(node, lhs, rhs);
    const cmp = this.comparator(node, lhs.type, rhs);
    if (lhs.either || lhs.type === 'strlist') {
      const all = lhs.type === 'strlist' && node.op === 'in';
      return (c) => {
        const v = get(c);
        if (v === undefined) return false;
        if (!Array.isArray(v)) return cmp(v);
        if (all) {
          for (const x of v as FieldValue[]) if (!cmp(x)) return false;
          return (v as FieldValue[]).length > 0;
        }
        for (const x of v as FieldValue[]) if (cmp(x)) return true;
        return false;
      };
    }
    return (c) => {
      const v = get(c);
      return v !== undefined && cmp(v);
    };
  }

  /** `proc.aname = x` without index: true at the first ancestor (self excluded) that satisfies it. */
  private compileAnyAncestor(node: CheckNode, def: FieldDef): Predicate {
    const of = def.ofProcess!;
    if (node.op === 'exists') return (c) => c.parent() !== undefined;
    const rhs = node.rhs!;
    if (rhs.kind === 'val' || rhs.kind === 'transformer') throw new CompileError(`'${def.name}' without an index cannot be compared with ${rhs.kind === 'val' ? 'val()' : 'a transformer'}`, rhs);
    const cmp = this.comparator(node, def.type, rhs);
    return (c) => {
      let p = c.parent();
      for (let depth = 0; p !== undefined && depth < MAX_ANCESTORS; depth++) {
        const v = of(p, c);
        if (v !== undefined && cmp(v)) return true;
        if (p.ptgid <= 0 || p.ptgid === p.tgid) break;
        p = c.state.process(p.ptgid);
      }
      return false;
    };
  }

  /** Right-hand side computed per event (`val(field)` or a transformer). */
  private compileDynamic(node: CheckNode, lhs: CompiledOperand, rhs: Rhs): Predicate {
    const r = rhs.kind === 'val' ? this.compileOperand(rhs.field) : this.compileOperand(rhs as TransformerRef);
    const numeric = isNumericType(lhs.type);
    if (numeric !== isNumericType(r.type)) throw new CompileError(`cannot compare '${lhs.key}' (${lhs.type}) with '${r.key}' (${r.type})`, rhs);
    const op = node.op;
    const a = lhs.get;
    const b = r.get;
    if (op === 'in' || op === 'intersects' || op === 'pmatch') {
      return (c) => {
        const x = a(c);
        const y = b(c);
        if (x === undefined || y === undefined) return false;
        const ys = Array.isArray(y) ? (y as FieldValue[]).map(valueToString) : [valueToString(y)];
        if (op === 'pmatch') return compilePathMatch(ys)(valueToString(x));
        return ys.includes(valueToString(x));
      };
    }
    return (c) => {
      const x = a(c);
      const y = b(c);
      if (x === undefined || y === undefined) return false;
      return dynamicCompare(op, x, y);
    };
  }

  private literal(node: CheckNode, type: FieldType, text: string, at: { at: number; src: CheckNode['src'] }): FieldValue | IpNet {
    if (text.includes('\0') && type !== 'bytebuf') throw new CompileError('NUL byte in a string value', at);
    switch (type) {
      case 'string':
      case 'strlist':
        return text;
      case 'bool':
        if (text !== 'true' && text !== 'false') throw new CompileError(`'${text}' is not a boolean (true or false)`, at);
        return text === 'true';
      case 'ipaddr':
      case 'ipnet': {
        const net = parseNet(text);
        if (!net) throw new CompileError(`'${text}' is not an IP address or CIDR network`, at);
        return net;
      }
      case 'bytebuf':
        return node.op === 'bcontains' || node.op === 'bstartswith' ? hexBytes(text, at) : new Uint8Array(Buffer.from(text, 'latin1'));
      case 'abstime':
        if (!/^(0x[0-9a-fA-F]+|[+-]?\d+)$/.test(text)) throw new CompileError(`'${text}' is not an integer`, at);
        return BigInt(text);
      default: {
        if (!isNumberLiteral(text)) throw new CompileError(`'${text}' is not a number`, at);
        const n = Number(text);
        if (!Number.isFinite(n)) throw new CompileError(`'${text}' is not a number`, at);
        return n;
      }
    }
  }

  private comparator(node: CheckNode, type: FieldType, rhs: Rhs): Cmp {
    const op = node.op;
    if (rhs.kind === 'list') {
      if (node.modifier) {
        const each = rhs.items.map((item) => this.scalarComparator(node, type, this.literal(node, type, item.value, item), item));
        const mod = node.modifier;
        if (each.length === 0) return () => false;
        return (v) => {
          let hits = 0;
          for (const f of each) if (f(v)) hits++;
          return mod === 'anyof' ? hits > 0 : mod === 'allof' ? hits === each.length : hits === 1;
        };
      }
      if (op === 'pmatch') return compilePathMatch(rhs.items.map((i) => i.value)) as Cmp;
      const values = rhs.items.map((i) => this.literal(node, type, i.value, i));
      if (type === 'ipaddr' || type === 'ipnet') {
        const nets = values as IpNet[];
        return (v) => nets.some((n) => netContains(n, v as string));
      }
      if (type === 'bytebuf') {
        const bufs = values as Uint8Array[];
        return (v) => bufs.some((b) => Buffer.compare(Buffer.from(b), Buffer.from(v as Uint8Array)) === 0);
      }
      const set = new Set(values as FieldValue[]);
      return (v) => set.has(v);
    }
    if (rhs.kind !== 'literal') throw new CompileError('unexpected right-hand side', rhs);
    return this.scalarComparator(node, type, this.literal(node, type, rhs.value, rhs), rhs);
  }

  private scalarComparator(node: CheckNode, type: FieldType, value: FieldValue | IpNet, at: { at: number; src: CheckNode['src'] }): Cmp {
    const op = node.op;
    if (type === 'ipaddr' || type === 'ipnet') {
      const net = value as IpNet;
      if (op === '!=') return (v) => !netContains(net, v as string);
      return (v) => netContains(net, v as string);
    }
    if (type === 'bytebuf') {
      const needle = Buffer.from(value as Uint8Array);
      switch (op) {
        case '=':
        case '==':
          return (v) => Buffer.compare(Buffer.from(v as Uint8Array), needle) === 0;
        case '!=':
          return (v) => Buffer.compare(Buffer.from(v as Uint8Array), needle) !== 0;
        case 'contains':
        case 'bcontains':
          return (v) => bytesIndexOf(v as Uint8Array, needle) >= 0;
        case 'startswith':
        case 'bstartswith':
          return (v) => bytesIndexOf((v as Uint8Array).subarray(0, needle.length), needle) === 0;
        case 'endswith':
          return (v) => {
            const b = v as Uint8Array;
            return b.length >= needle.length && bytesIndexOf(b.subarray(b.length - needle.length), needle) === 0;
          };
      }
    }
    const lit = value as string | number | bigint | boolean;
    switch (op) {
      case '=':
      case '==':
        return (v) => v === lit;
      case '!=':
        return (v) => v !== lit;
      case '<':
        return (v) => (v as number) < (lit as number);
      case '<=':
        return (v) => (v as number) <= (lit as number);
      case '>':
        return (v) => (v as number) > (lit as number);
      case '>=':
        return (v) => (v as number) >= (lit as number);
      case 'contains': {
        const s = lit as string;
        return (v) => (v as string).includes(s);
      }
      case 'icontains': {
        const s = (lit as string).toLowerCase();
        return (v) => (v as string).toLowerCase().includes(s);
      }
      case 'startswith': {
        const s = lit as string;
        return (v) => (v as string).startsWith(s);
      }
      case 'endswith': {
        const s = lit as string;
        return (v) => (v as string).endsWith(s);
      }
      case 'glob':
        return compileGlob(lit as string) as Cmp;
      case 'iglob':
        return compileGlob(lit as string, true) as Cmp;
      case 'regex':
        try {
          return compileRegex(lit as string) as Cmp;
        } catch (err) {
          throw new CompileError(`invalid regular expression '${String(lit)}': ${(err as Error).message}`, at);
        }
      default:
        throw new CompileError(`operator '${op}' is not supported for type ${type}`, { at: node.opAt, src: node.src });
    }
  }
}

/** Generated predicate; undefined where code generation from strings is disabled. */
function generate(expr: string, leaves: Predicate[]): Predicate | undefined {
  try {
    const factory = new Function('L', `"use strict";return function rule(c){const S=c.nodeStamp,V=c.nodeValue,t=c.stamp;return ${expr};};`) as (l: Predicate[]) => Predicate;
    return factory(leaves);
  } catch {
    return undefined;
  }
}

/** Value of a check that only depends on the event type, or undefined. */
function staticCheck(node: CheckNode, typeName: string): boolean | undefined {
  if (node.lhs.kind !== 'field' || node.lhs.arg !== undefined || node.modifier !== undefined) return undefined;
  const rhs = node.rhs;
  const values = rhs?.kind === 'literal' ? [rhs.value] : rhs?.kind === 'list' ? rhs.items.map((i) => i.value) : undefined;
  if (values === undefined) return undefined;
  if (node.lhs.name === 'evt.type') {
    switch (node.op) {
      case '=':
      case '==':
      case 'in':
      case 'intersects':
        return values.includes(typeName);
      case '!=':
        return !values.includes(typeName);
      default:
        return undefined;
    }
  }
  if (node.lhs.name === 'evt.num') {
    const nums = values.map(Number);
    if (((node.op === '=' || node.op === '==') && nums[0] === 0) || (node.op === 'in' && nums.every((n) => n === 0))) return false;
  }
  return undefined;
}

function dynamicCompare(op: string, x: FieldValue, y: FieldValue): boolean {
  if (typeof x === 'number' || typeof x === 'bigint') {
    const a = x as number;
    const b = (typeof y === 'string' ? Number(y) : y) as number;
    switch (op) {
      case '=':
      case '==':
        return a == b;
      case '!=':
        return a != b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      default:
        return false;
    }
  }
  const a = valueToString(x);
  const b = valueToString(y);
  switch (op) {
    case '=':
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case 'contains':
      return a.includes(b);
    case 'icontains':
      return a.toLowerCase().includes(b.toLowerCase());
    case 'startswith':
      return a.startsWith(b);
    case 'endswith':
      return a.endsWith(b);
    case 'glob':
      return compileGlob(b)(a);
    case 'iglob':
      return compileGlob(b, true)(a);
    case 'regex':
      try {
        return compileRegex(b)(a);
      } catch {
        return false;
      }
    default:
      return false;
  }
}

/**
 * POSIX-style option scan over an argument list (a space-joined string or a list). Returns the
 * value of option `want` ('' for a flag without value); undefined when absent. Non-option words are
 * skipped (GNU-style permutation); `--` ends option parsing.
 */
function getopt(argv: Extractor, spec: string, want: string): Extractor {
  const takesValue = new Set<string>();
  for (let i = 0; i < spec.length; i++) if (spec[i + 1] === ':') takesValue.add(spec[i]!);
  return (c) => {
    const v = argv(c);
    if (v === undefined) return undefined;
    const words = Array.isArray(v) ? (v as string[]) : valueToString(v).split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--') break;
      if (w.length < 2 || w[0] !== '-' || w[1] === '-') continue;
      for (let k = 1; k < w.length; k++) {
        const o = w[k]!;
        if (takesValue.has(o)) {
          const value = k + 1 < w.length ? w.slice(k + 1) : words[++i];
          if (o === want) return value;
          break;
        }
        if (o === want) return '';
      }
    }
    return undefined;
  };
}

/** Names of event types in a condition must exist (Falco: unknown event type is a compile error). */
export function checkEventTypeName(name: string, at: CompileError['node']): void {
  if (!eventTypeByName(name)) throw new CompileError(`unknown event type '${name}'`, at, true);
}
