/**
 * Field-to-field comparison: the right-hand side is computed per event (`val(field)` or a
 * transformer), so values are compared as they come, numbers numerically and everything else as
 * text, and glob/regex patterns are compiled per evaluation.
 */
import type { CheckNode } from '../ast';
import { fieldValueText, type FieldValue } from '../context';
import { isNumericType } from '../fields';
import { compileGlob, compilePathMatch, compileRegex } from '../match';
import { CompileError, type SourceNode } from './error';
import type { CompiledOperand, Predicate } from './operand';

/** `lhs op rhs` with both sides extracted per event; `at` locates the right-hand side for errors. */
export function dynamicComparison(node: CheckNode, lhs: CompiledOperand, rhs: CompiledOperand, at: SourceNode): Predicate {
  const numeric = isNumericType(lhs.type);
  const textual = (t: string): boolean => t === 'string' || t === 'strlist';
  const compatible = numeric ? isNumericType(rhs.type) : lhs.type === rhs.type || (textual(lhs.type) && textual(rhs.type));
  if (!compatible) throw new CompileError(`cannot compare '${lhs.key}' (${lhs.type}) with '${rhs.key}' (${rhs.type})`, at);
  const op = node.op;
  const a = lhs.get;
  const b = rhs.get;
  if (op === 'in' || op === 'intersects' || op === 'pmatch') {
    return (c) => {
      const x = a(c);
      const y = b(c);
      if (x === undefined || y === undefined) return false;
      const ys = Array.isArray(y) ? (y as FieldValue[]).map(fieldValueText) : [fieldValueText(y)];
      if (op === 'pmatch') return compilePathMatch(ys)(fieldValueText(x));
      return ys.includes(fieldValueText(x));
    };
  }
  return (c) => {
    const x = a(c);
    const y = b(c);
    if (x === undefined || y === undefined) return false;
    return compareValues(op, x, y);
  };
}

/** The ordering and equality operators, for two numbers or two strings; undefined for any other operator. */
function compareOrdered(op: string, a: number | string, b: number | string): boolean | undefined {
  switch (op) {
    case '=':
    case '==':
      // Loose: a bigint field value equals the same number.
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
      return undefined;
  }
}

function compareValues(op: string, x: FieldValue, y: FieldValue): boolean {
  if (typeof x === 'number' || typeof x === 'bigint') {
    return compareOrdered(op, x as number, (typeof y === 'string' ? Number(y) : y) as number) ?? false;
  }
  const a = fieldValueText(x);
  const b = fieldValueText(y);
  const ordered = compareOrdered(op, a, b);
  if (ordered !== undefined) return ordered;
  switch (op) {
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
