/**
 * Condition syntax tree. Every node remembers the text it was parsed from (`src`) and its offset
 * in that text (`at`), so compile errors found after macro expansion still point into the right
 * item of the right file.
 */
import type { SourcePosition } from './messages';

/** Where a condition string came from; `locate` maps an offset in `text` to a file position. */
export interface CondSource {
  readonly text: string;
  readonly itemKind: 'rule' | 'macro' | 'output' | 'none';
  readonly itemName: string;
  locate(offset: number): SourcePosition;
}

export const CMP_OPS = ['=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex'] as const;
export const LIST_OPS = ['in', 'intersects', 'pmatch'] as const;
export type CmpOp = (typeof CMP_OPS)[number];
/** Operators whose right-hand side is a number (or a transformer). */
export const NUMERIC_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);
export type ListOp = (typeof LIST_OPS)[number];
export type Operator = CmpOp | ListOp | 'exists';
export type Modifier = 'oneof' | 'anyof' | 'allof';
export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'] as const;
export type TransformerName = (typeof TRANSFORMERS)[number];

interface Located {
  readonly at: number;
  readonly src: CondSource;
}

export interface FieldRef extends Located {
  readonly kind: 'field';
  readonly name: string;
  /** Text inside `[...]`; undefined when there are no brackets (`[""]` gives ''). */
  readonly arg: string | undefined;
}

export interface TransformerRef extends Located {
  readonly kind: 'transformer';
  readonly name: TransformerName;
  readonly args: readonly TransformerArg[];
  /** `getopt(...)[o]` selector. */
  readonly index: string | undefined;
}

export interface Literal extends Located {
  readonly kind: 'literal';
  readonly value: string;
}

export interface Tuple extends Located {
  readonly kind: 'tuple';
  readonly items: readonly TransformerArg[];
}

export type TransformerArg = FieldRef | TransformerRef | Literal | Tuple;
export type Operand = FieldRef | TransformerRef;

export interface ListLiteral extends Located {
  readonly kind: 'list';
  readonly items: readonly Literal[];
}

export interface ValRef extends Located {
  readonly kind: 'val';
  readonly field: FieldRef;
  /** `val(f)[x]`: parsed as libsinsp does, refused by the compiler. */
  readonly index?: string;
}

export type Rhs = Literal | ListLiteral | ValRef | TransformerRef;

export interface CheckNode extends Located {
  readonly kind: 'check';
  readonly lhs: Operand;
  readonly op: Operator;
  readonly modifier: Modifier | undefined;
  readonly rhs: Rhs | undefined;
  readonly opAt: number;
}

export interface AndNode extends Located {
  readonly kind: 'and';
  readonly children: readonly ConditionNode[];
}
export interface OrNode extends Located {
  readonly kind: 'or';
  readonly children: readonly ConditionNode[];
}
export interface NotNode extends Located {
  readonly kind: 'not';
  readonly child: ConditionNode;
}
export interface MacroRefNode extends Located {
  readonly kind: 'macro';
  readonly name: string;
}

export type ConditionNode = AndNode | OrNode | NotNode | MacroRefNode | CheckNode;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/**
 * Always double-quoted, so the printed form parses back to the same value whatever it holds. A
 * final backslash is written `\x5c`: a quote right after `\\` does not close a string in Falco.
 */
export function quote(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const e = ch === '\\' && i === value.length - 1 ? '\\x5c' : ESCAPES[ch];
    if (e !== undefined) out += e;
    else if (ch.charCodeAt(0) < 0x20 || ch === '\x7f') out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

export function printOperand(o: Operand | TransformerArg): string {
  switch (o.kind) {
    case 'field':
      return o.arg === undefined ? o.name : `${o.name}[${quote(o.arg)}]`;
    case 'transformer':
      return `${o.name}(${o.args.map(printOperand).join(', ')})${o.index === undefined ? '' : `[${quote(o.index)}]`}`;
    case 'literal':
      return quote(o.value);
    case 'tuple':
      return `(${o.items.map(printOperand).join(', ')})`;
  }
}

function printRhs(r: Rhs): string {
  switch (r.kind) {
    case 'literal':
      return quote(r.value);
    case 'list':
      return `(${r.items.map((i) => quote(i.value)).join(', ')})`;
    case 'val':
      return `val(${printOperand(r.field)})${r.index === undefined ? '' : `[${quote(r.index)}]`}`;
    case 'transformer':
      return printOperand(r);
  }
}

/** Canonical text: fully parenthesised, every string quoted. Used for hash-consing and round-trips. */
export function printCondition(n: ConditionNode): string {
  switch (n.kind) {
    case 'and':
      return `(${n.children.map(printCondition).join(' and ')})`;
    case 'or':
      return `(${n.children.map(printCondition).join(' or ')})`;
    case 'not':
      // `not not x` would parse back as x: a negated negation keeps its parentheses.
      return n.child.kind === 'not' ? `not (${printCondition(n.child)})` : `not ${printCondition(n.child)}`;
    case 'macro':
      return n.name;
    case 'check': {
      const lhs = printOperand(n.lhs);
      if (n.op === 'exists') return `${lhs} exists`;
      const mod = n.modifier ? ` ${n.modifier}` : '';
      // Numeric comparisons take bare numbers only.
      const rhs = n.rhs!.kind === 'literal' && NUMERIC_OPS.has(n.op) ? n.rhs!.value : printRhs(n.rhs!);
      return `${lhs} ${n.op}${mod} ${rhs}`;
    }
  }
}
