/**
 * Code generation for condition trees. A macro-free tree becomes one generated function: and/or/not
 * become inline JS operators (each leaf call site stays monomorphic), and every leaf reads its
 * per-event result cache in the context's node arrays before calling the leaf, so a check shared by
 * many rules runs once per event. The generated source only contains operators and numeric leaf
 * indexes, never rule text. Trees too deep or too large for that, or hosts where code generation
 * from strings is disabled, get an equivalent tree of closures.
 */
import type { CheckNode, ConditionNode } from '../ast';
import { CompileError } from './error';
import { foldCheckForType } from './fold';
import type { Predicate } from './operand';

/** Deeper trees would overflow V8's parser on the generated source. */
const MAX_GENERATED_DEPTH = 200;
const MAX_GENERATED_LENGTH = 1_000_000;

/** Interns a check as a leaf (its predicate records its result in the cache) and returns its index. */
export type LeafIndexer = (node: CheckNode) => number;

/**
 * JS expression for a tree over the leaf table `L`, or a constant when it folds (checks decided
 * by `typeName` alone, then and/or/not over constants); undefined when too deep for generated code.
 * Every check is interned as a leaf, folded or not.
 */
export function emitCondition(node: ConditionNode, leafIndex: LeafIndexer, typeName: string | undefined, depth = 0): string | boolean | undefined {
  if (depth > MAX_GENERATED_DEPTH) return undefined;
  switch (node.kind) {
    case 'and':
    case 'or': {
      const isAnd = node.kind === 'and';
      const parts: string[] = [];
      for (const c of node.children) {
        const e = emitCondition(c, leafIndex, typeName, depth + 1);
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
      const e = emitCondition(node.child, leafIndex, typeName, depth + 1);
      return e === undefined ? undefined : typeof e === 'boolean' ? !e : `!${e}`;
    }
    case 'macro':
      throw new CompileError(`undefined macro '${node.name}' used in filter`, node);
    case 'check': {
      const i = leafIndex(node);
      const folded = typeName === undefined ? undefined : foldCheckForType(node, typeName);
      return folded ?? `(S[${i}]===t?V[${i}]===1:L[${i}](c))`;
    }
  }
}

/** The predicate for an expression from `emitCondition`; undefined when too large or where code generation from strings is disabled. */
export function generatePredicate(expr: string, leaves: readonly Predicate[]): Predicate | undefined {
  if (expr.length >= MAX_GENERATED_LENGTH) return undefined;
  try {
    const factory = new Function('L', `"use strict";return function rule(c){const S=c.nodeStamp,V=c.nodeValue,t=c.stamp;return ${expr};};`) as (l: readonly Predicate[]) => Predicate;
    return factory(leaves);
  } catch {
    return undefined;
  }
}

/** The same evaluation as generated code, as a tree of closures (no folding). */
export function closureTree(node: ConditionNode, leafIndex: LeafIndexer, leaves: readonly Predicate[]): Predicate {
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map((n) => closureTree(n, leafIndex, leaves));
      return (c) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i]!(c)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = node.children.map((n) => closureTree(n, leafIndex, leaves));
      return (c) => {
        for (let i = 0; i < parts.length; i++) if (parts[i]!(c)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = closureTree(node.child, leafIndex, leaves);
      return (c) => !inner(c);
    }
    case 'macro':
      throw new CompileError(`undefined macro '${node.name}' used in filter`, node);
    case 'check': {
      const id = leafIndex(node);
      const leaf = leaves[id]!;
      return (c) => (c.nodeStamp[id] === c.stamp ? c.nodeValue[id] === 1 : leaf(c));
    }
  }
}
