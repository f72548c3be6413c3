/**
 * Compiles expanded condition trees into predicates. One `ConditionCompiler` serves a whole
 * ruleset: fields are interned into memo slots (each extracted at most once per event) and
 * structurally identical sub-expressions are hash-consed into one predicate whose result is cached
 * per event, so a macro shared by twenty rules is evaluated once.
 */
import { printCondition, printOperand, type CheckNode, type ConditionNode, type FieldRef, type Operand, type TransformerArg } from '../ast';
import type { FieldValue } from '../context';
import { findField, type Extractor, type FieldDef } from '../fields';
import { closureTree, emitCondition, generatePredicate } from './codegen';
import { foldConditionForType, foldInfo } from './fold';
import { constantComparator, OPERATORS_BY_TYPE } from './compare';
import { dynamicComparison } from './dynamic';
import { CompileError } from './error';
import type { CompiledOperand, Predicate } from './operand';
import { compileTransformer } from './transformers';

/** Conditions with more checks than this are not specialised per event type (see compileFor). */
const MAX_SPECIALISED_LEAVES = 2000;

/** The any-ancestor form gives up past this many generations (a cycle in stale state, or a very deep tree). */
const MAX_ANCESTORS = 64;

/** Printed form per node object; expanded macros share subtrees, so this avoids re-printing them. */
const printed = new WeakMap<ConditionNode, string>();
function keyOf(node: ConditionNode): string {
  let k = printed.get(node);
  if (k === undefined) printed.set(node, (k = printCondition(node)));
  return k;
}

/** Finds a field definition by name and bracket argument: each event source has its own catalogue. */
export type FieldLookup = (name: string, arg: string | undefined) => FieldDef | undefined;

export class ConditionCompiler {
  /** `lookup`: the field catalogue of the source whose rules this compiler compiles (syscall by default). */
  constructor(private readonly lookup: FieldLookup = findField) {}

  private readonly slots = new Map<string, number>();
  private readonly nodes = new Map<string, Predicate>();
  private readonly leafIndex = new Map<string, number>();
  private readonly leaves: Predicate[] = [];
  private readonly internLeaf = (node: CheckNode): number => this.leafId(node);

  get slotCount(): number {
    return this.slots.size;
  }
  /** Distinct leaves (checks), each with a per-event result cache slot. */
  get nodeCount(): number {
    return this.leaves.length;
  }

  /** Compiles a macro-free tree into one predicate (generated code, see ./codegen). */
  compile(node: ConditionNode): Predicate {
    return this.compileFor(node, undefined) as Predicate;
  }

  /**
   * Like `compile`, specialised for events of one type: checks decided by the event type alone
   * are folded to constants (./fold). Returns a constant when the whole condition folds.
   */
  compileFor(node: ConditionNode, typeName: string | undefined): Predicate | boolean {
    if (typeName !== undefined) {
      // Specialise only when a check can fold and the tree is small: a condition without
      // evt.type/evt.num checks is the same function in every bucket, and a huge one is compiled
      // once (cost linear in its size), not once per event type.
      const folded = foldConditionForType(node, typeName);
      if (folded !== undefined) return folded;
      const info = foldInfo(node);
      if (!info.foldable || info.leaves > MAX_SPECIALISED_LEAVES) return this.compileFor(node, undefined);
    }
    const key = typeName === undefined ? keyOf(node) : `${typeName}\u0000${keyOf(node)}`;
    const known = this.nodes.get(key);
    if (known) return known;
    const expr = emitCondition(node, this.internLeaf, typeName);
    if (typeName !== undefined && typeof expr === 'boolean') return expr;
    let fn: Predicate;
    const generated = typeof expr === 'string' ? generatePredicate(expr, this.leaves) : undefined;
    if (generated) fn = generated;
    else if (typeof expr === 'boolean') {
      const v = expr;
      fn = () => v;
    } else fn = closureTree(node, this.internLeaf, this.leaves);
    this.nodes.set(key, fn);
    return fn;
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
    const def = this.lookup(ref.name, ref.arg);
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
      case 'transformer': {
        const key = printOperand(o);
        const { type, get } = compileTransformer(o, (arg) => this.compileOperand(arg));
        return { key, type, get: this.memo(key, get), either: false, def: undefined, filterOnly: false };
      }
      case 'literal': {
        const v = o.value;
        return { key: printOperand(o), type: 'string', get: () => v, either: false, def: undefined, filterOnly: false };
      }
      case 'tuple':
        throw new CompileError('a parenthesised list is only valid as an argument of join() or getopt()', o);
    }
  }

  private compileCheck(node: CheckNode): Predicate {
    const lhs = this.compileOperand(node.lhs);
    const opNode = { at: node.opAt, src: node.src };
    if (!OPERATORS_BY_TYPE[lhs.type].has(node.op)) {
      throw new CompileError(`operator '${node.op}' is not supported by '${lhs.key}' (type ${lhs.type})`, opNode);
    }
    if (lhs.def?.ofProcess && node.lhs.kind === 'field' && node.lhs.arg === undefined) return this.compileAnyAncestor(node, lhs.def);
    const get = lhs.get;
    if (node.op === 'exists') return (c) => get(c) !== undefined;
    const rhs = node.rhs!;
    if (rhs.kind === 'val' || rhs.kind === 'transformer') {
      if (node.op === 'regex') throw new CompileError("'regex' compares with a constant pattern, not with a field or a transformer", rhs);
      if (rhs.kind === 'transformer') return dynamicComparison(node, lhs, this.compileOperand(rhs), rhs);
      if (rhs.index !== undefined) throw new CompileError("transformer 'val' does not support field arguments", rhs);
      const other = this.compileOperand(rhs.field);
      if (other.filterOnly || other.either) throw new CompileError(`field '${other.key}' cannot be used inside val()`, rhs.field);
      return dynamicComparison(node, lhs, other, rhs);
    }
    const cmp = constantComparator(node, lhs.type, rhs);
    if (lhs.either || lhs.type === 'strlist') {
      // `in` on a list field needs every item listed; `!=` on client-or-server fields needs both
      // sides to differ (libsinsp: `fd.ip != x` is false when either end is x).
      const all = (lhs.type === 'strlist' && node.op === 'in') || (lhs.either && node.op === '!=');
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
    const cmp = constantComparator(node, def.type, rhs);
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
}
