/**
 * Folding by event type: a rule is compiled once per event type it can match, and checks that
 * the event type alone decides become constants there, so `evt.type = open and …` costs nothing
 * in the `open` bucket and drops the rule from the others.
 */
import type { CheckNode, ConditionNode } from '../ast';
import { eventTypeByName, UNTRACED_EVENT_NAMES } from '../../probe/event-types';
import { CompileError, type SourceNode } from './error';

/**
 * Value of a check on events of type `typeName` when the type alone decides it (`evt.type` tests,
 * and `evt.num` tests only 0 satisfies — evt.num starts at 1), else undefined.
 */
export function foldCheckForType(node: CheckNode, typeName: string): boolean | undefined {
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

const UNTRACED: ReadonlySet<string> = new Set(UNTRACED_EVENT_NAMES);

/** An event name libsinsp knows that this probe does not trace (a rule on it loads, with a warning). */
export function isUntracedEventName(name: string): boolean {
  return UNTRACED.has(name) && !eventTypeByName(name);
}

/**
 * The value of a whole condition on events of type `typeName` when the type alone decides it
 * (three-valued: and/or/not over folded checks), else undefined. Linear in the tree.
 */
export function foldConditionForType(node: ConditionNode, typeName: string): boolean | undefined {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const isAnd = node.kind === 'and';
      let open = false;
      for (const c of node.children) {
        const v = foldConditionForType(c, typeName);
        if (v === undefined) open = true;
        else if (v !== isAnd) return v;
      }
      return open ? undefined : isAnd;
    }
    case 'not': {
      const v = foldConditionForType(node.child, typeName);
      return v === undefined ? undefined : !v;
    }
    case 'check':
      return foldCheckForType(node, typeName);
    case 'macro':
      return undefined;
  }
}

const foldStats = new WeakMap<ConditionNode, { readonly foldable: boolean; readonly leaves: number }>();

/** Whether any check could fold by event type (evt.type / evt.num), and how many checks the tree has. */
export function foldInfo(node: ConditionNode): { readonly foldable: boolean; readonly leaves: number } {
  const known = foldStats.get(node);
  if (known) return known;
  let info: { foldable: boolean; leaves: number };
  switch (node.kind) {
    case 'and':
    case 'or': {
      info = { foldable: false, leaves: 0 };
      for (const c of node.children) {
        const ci = foldInfo(c);
        info.foldable ||= ci.foldable;
        info.leaves += ci.leaves;
      }
      break;
    }
    case 'not':
      info = { ...foldInfo(node.child) };
      break;
    case 'check':
      info = { foldable: node.lhs.kind === 'field' && (node.lhs.name === 'evt.type' || node.lhs.name === 'evt.num'), leaves: 1 };
      break;
    case 'macro':
      info = { foldable: false, leaves: 0 };
      break;
  }
  foldStats.set(node, info);
  return info;
}

/** Names of event types in a condition must be known to Falco (an unknown event type is a compile error). */
export function checkEventTypeName(name: string, at: SourceNode): void {
  if (!eventTypeByName(name) && !UNTRACED.has(name)) throw new CompileError(`unknown event type '${name}'`, at, true);
}
