/**
 * Infers the set of event types a condition can possibly match (rule-language.md §10), used to
 * index rules by event type and to tell the probe what to capture.
 */
import type { ConditionNode } from './ast';
import { checkEventTypeName, isUntracedEventName } from './compile';
import { EVENT_TYPES, eventTypeByName } from '../probe/event-types';

/** `complement` true means ALL − ids. */
interface TypeSet {
  readonly complement: boolean;
  readonly ids: ReadonlySet<number>;
}

const ALL: TypeSet = { complement: true, ids: new Set() };
const NONE: TypeSet = { complement: false, ids: new Set() };

function intersect(a: TypeSet, b: TypeSet): TypeSet {
  if (!a.complement && !b.complement) return { complement: false, ids: new Set([...a.ids].filter((x) => b.ids.has(x))) };
  if (a.complement && b.complement) return { complement: true, ids: new Set([...a.ids, ...b.ids]) };
  const [pos, neg] = a.complement ? [b, a] : [a, b];
  return { complement: false, ids: new Set([...pos.ids].filter((x) => !neg.ids.has(x))) };
}

function union(a: TypeSet, b: TypeSet): TypeSet {
  if (!a.complement && !b.complement) return { complement: false, ids: new Set([...a.ids, ...b.ids]) };
  if (a.complement && b.complement) return { complement: true, ids: new Set([...a.ids].filter((x) => b.ids.has(x))) };
  const [pos, neg] = a.complement ? [b, a] : [a, b];
  return { complement: true, ids: new Set([...neg.ids].filter((x) => !pos.ids.has(x))) };
}

function flip(s: TypeSet): TypeSet {
  return { complement: !s.complement, ids: s.ids };
}

/** An `evt.num` test that only 0 (or nothing) satisfies. */
function evtNumNeverTrue(op: string, values: readonly string[]): boolean {
  const nums = values.map(Number);
  switch (op) {
    case '=':
    case '==':
      return nums[0] === 0;
    case '<':
      return nums[0]! <= 1;
    case '<=':
      return nums[0]! <= 0;
    case 'in':
    case 'intersects':
      return nums.every((n) => n === 0);
    default:
      return false;
  }
}

function infer(node: ConditionNode, negated: boolean, untraced: Set<string>): TypeSet {
  switch (node.kind) {
    case 'and': {
      let acc = infer(node.children[0]!, negated, untraced);
      for (let i = 1; i < node.children.length; i++) {
        const next = infer(node.children[i]!, negated, untraced);
        acc = negated ? union(acc, next) : intersect(acc, next);
      }
      return acc;
    }
    case 'or': {
      let acc = infer(node.children[0]!, negated, untraced);
      for (let i = 1; i < node.children.length; i++) {
        const next = infer(node.children[i]!, negated, untraced);
        acc = negated ? intersect(acc, next) : union(acc, next);
      }
      return acc;
    }
    case 'not':
      return infer(node.child, !negated, untraced);
    case 'macro':
      return ALL;
    case 'check': {
      if (node.lhs.kind !== 'field' || node.modifier !== undefined || node.lhs.arg !== undefined) return ALL;
      const rhs = node.rhs;
      const values = rhs?.kind === 'literal' ? [rhs.value] : rhs?.kind === 'list' ? rhs.items.map((i) => i.value) : undefined;
      if (node.lhs.name === 'evt.num') {
        if (values === undefined) return ALL;
        return evtNumNeverTrue(node.op, values) ? (negated ? ALL : NONE) : ALL;
      }
      if (node.lhs.name !== 'evt.type' || values === undefined) return ALL;
      const items = rhs!.kind === 'list' ? rhs!.items : [rhs as { value: string; at: number; src: typeof node.src }];
      for (const it of items) checkEventTypeName(it.value, it);
      let set: TypeSet;
      const ids = new Set<number>();
      for (const v of values) {
        const t = eventTypeByName(v);
        if (t) ids.add(t.id);
      }
      const positive = node.op === '=' || node.op === '==' || node.op === 'in' || node.op === 'intersects';
      if (positive !== negated) for (const v of values) if (isUntracedEventName(v)) untraced.add(v);
      if (positive) set = { complement: false, ids };
      else if (node.op === '!=') set = { complement: true, ids };
      else return ALL;
      return negated ? flip(set) : set;
    }
  }
}

const RULE_TYPE_IDS: readonly number[] = EVENT_TYPES.filter((t) => t.category !== 'meta').map((t) => t.id);

export interface EventTypeInference {
  /** Event type ids, ascending. */
  readonly ids: readonly number[];
  /** True when no evt.type bound the set (Falco's ALL or ALL − {…}), which deserves LOAD_NO_EVTTYPE. */
  readonly unbounded: boolean;
  /** Event names the condition asks for that this probe does not trace, sorted. */
  readonly untraced: readonly string[];
}

export function inferEventTypes(node: ConditionNode): EventTypeInference {
  const untraced = new Set<string>();
  const s = infer(node, false, untraced);
  const ids = s.complement ? RULE_TYPE_IDS.filter((id) => !s.ids.has(id)) : [...s.ids].sort((a, b) => a - b);
  return { ids, unbounded: s.complement, untraced: [...untraced].sort() };
}
