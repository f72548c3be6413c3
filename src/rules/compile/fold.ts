/**
 * Folding by event type: a rule is compiled once per event type it can match, and checks that
 * the event type alone decides become constants there, so `evt.type = open and …` costs nothing
 * in the `open` bucket and drops the rule from the others.
 */
import type { CheckNode } from '../ast';
import { eventTypeByName } from '../../probe/event-types';
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

/** Names of event types in a condition must exist (Falco: unknown event type is a compile error). */
export function checkEventTypeName(name: string, at: SourceNode): void {
  if (!eventTypeByName(name)) throw new CompileError(`unknown event type '${name}'`, at, true);
}
