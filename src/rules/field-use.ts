/**
 * Which fields the loaded rules read, in conditions or outputs, and which event types they match:
 * lets the agent ask the kernel only for data some rule can use (e.g. the exec environment behind
 * proc.env, or the caller's side of a clone).
 */
import type { ConditionNode, Operand, Rhs, TransformerArg } from './ast';
import type { CompiledRuleset } from './ruleset';
import { eventTypeByName } from '../probe/event-types';
import { IP_NAME_FIELDS } from './fields/fd';

/** Whether any enabled rule matches one of the event types named in `types`. */
export function rulesetMatchesType(ruleset: CompiledRuleset, types: readonly string[]): boolean {
  return types.some((name) => {
    const t = eventTypeByName(name);
    return t !== undefined && (ruleset.byType[t.id]?.length ?? 0) > 0;
  });
}

/** Whether any enabled rule reads one of `fields` (a bare name also covers its `name[arg]` form). */
export function rulesetReadsField(ruleset: CompiledRuleset, fields: ReadonlySet<string>): boolean {
  for (const rule of ruleset.rules) {
    if (!rule.enabled) continue;
    if (conditionReads(rule.expandedCondition, fields)) return true;
    for (const tok of rule.output.tokens) if (fields.has(baseName(tok.key))) return true;
  }
  return false;
}

/**
 * The literal values enabled rules compare one of `fields` with (`fd.sip.name = a.example`,
 * `fd.sip.name in (pool_domains)` after list expansion): what must be known before such a field
 * can be extracted (the DNS names to resolve).
 */
export function literalsComparedWith(ruleset: CompiledRuleset, fields: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const visit = (node: ConditionNode): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        node.children.forEach(visit);
        return;
      case 'not':
        visit(node.child);
        return;
      case 'check':
        if (node.lhs.kind !== 'field' || !fields.has(node.lhs.name) || node.rhs === undefined) return;
        if (node.rhs.kind === 'literal') out.add(node.rhs.value);
        else if (node.rhs.kind === 'list') for (const item of node.rhs.items) out.add(item.value);
        return;
      default:
        return;
    }
  };
  for (const rule of ruleset.rules) if (rule.enabled) visit(rule.expandedCondition);
  return out;
}

/** The DNS names the rules compare addresses with (fd.sip.name and its siblings). */
export function hostNamesToResolve(ruleset: CompiledRuleset): Set<string> {
  return literalsComparedWith(ruleset, IP_NAME_FIELDS);
}

function baseName(key: string): string {
  const k = key.startsWith('(') && key.endsWith(')') ? key.slice(1, -1) : key;
  const bracket = k.indexOf('[');
  return bracket < 0 ? k : k.slice(0, bracket);
}

function conditionReads(node: ConditionNode, fields: ReadonlySet<string>): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.some((c) => conditionReads(c, fields));
    case 'not':
      return conditionReads(node.child, fields);
    case 'check':
      return operandReads(node.lhs, fields) || (node.rhs !== undefined && rhsReads(node.rhs, fields));
    default:
      // Macros are expanded before this point; an unresolved one reads nothing.
      return false;
  }
}

function operandReads(op: Operand | TransformerArg, fields: ReadonlySet<string>): boolean {
  switch (op.kind) {
    case 'field':
      return fields.has(op.name);
    case 'transformer':
      return op.args.some((a) => operandReads(a, fields));
    case 'tuple':
      return op.items.some((a) => operandReads(a, fields));
    default:
      return false;
  }
}

function rhsReads(rhs: Rhs, fields: ReadonlySet<string>): boolean {
  if (rhs.kind === 'val') return fields.has(rhs.field.name);
  if (rhs.kind === 'transformer') return operandReads(rhs, fields);
  return false;
}
