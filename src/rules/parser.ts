/**
 * Recursive-descent parser for Falco's condition language. It accepts and rejects what libsinsp's
 * filter parser does (test/rules/libs-parser-cases.test.ts holds libsinsp's own parse cases), token
 * shapes in ./condition-lexer. It reports the offset of the first character it could not accept,
 * which the loader turns into file:line:column.
 *
 * Long `a and b and c …` chains are read in a loop into one flat node, and a run of `not`s
 * collapses to its parity as in libsinsp, so only parentheses and transformers nest (bounded by
 * MAX_NESTING_DEPTH).
 */
import { TRANSFORMERS, type CondSource, type ConditionNode, type FieldRef, type ListLiteral, type Literal, type Modifier, type Operand, type Rhs, type TransformerArg, type TransformerName, type TransformerRef } from './ast';
import { bareFieldArgEnd, bareStringEnd, EscapeError, fieldNameEnd, identifierEnd, isBlank, isSpaceClass, numberEnd, quotedEnd, unescapeQuoted } from './condition-lexer';

export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

/** Parentheses and transformers nested deeper than this are refused (Falco raises libs' 100 to 1000). */
export const MAX_NESTING_DEPTH = 1000;

/** Comparison operators taking a string (or a transformer); the word ones need a blank after them. */
const STRING_OPS = ['==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex'] as const;
const NUM_OPS = ['<=', '<', '>=', '>'] as const;
const LIST_OPS = ['intersects', 'in', 'pmatch'] as const;
const MODIFIERS: readonly Modifier[] = ['oneof', 'anyof', 'allof'];
const TRANSFORMER_SET: ReadonlySet<string> = new Set(TRANSFORMERS);

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly text: string;

  constructor(private readonly src: CondSource) {
    this.text = src.text;
  }

  parse(): ConditionNode {
    if (this.text.length === 0) this.fail('empty condition');
    const node = this.parseOr();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.peekToken()}': expected 'and', 'or' or the end of the condition`);
    return node;
  }

  /** The whole text as one field or transformer, nothing around it (an output's `%field`). */
  parseLoneOperand(): Operand {
    const operand = this.tryOperand();
    if (!operand) this.fail(`expected a field name or a transformer but found ${this.describeHere()}`);
    if (this.pos !== this.text.length) this.fail(`unexpected '${this.text.slice(this.pos)}' after the field`);
    return operand;
  }

  private fail(message: string, at = this.pos): never {
    throw new ConditionSyntaxError(message, at);
  }

  private peekToken(): string {
    const m = /^\S{1,20}/.exec(this.text.slice(this.pos, this.pos + 20));
    return m ? m[0] : this.text.charAt(this.pos);
  }

  private describeHere(): string {
    return this.pos >= this.text.length ? 'the end of the condition' : `'${this.peekToken()}'`;
  }

  private push(): void {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`nesting deeper than ${MAX_NESTING_DEPTH}`);
  }

  private skipBlanks(): boolean {
    const start = this.pos;
    while (isBlank(this.text[this.pos])) this.pos++;
    return this.pos > start;
  }

  private eat(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  /**
   * `and-chain (or and-chain)*` in a loop, one flat node when there is more than one. Keywords
   * are matched as a prefix (as libsinsp does) and must be followed by a blank or `(`. The
   * two chain levels are written out (no shared helper taking a callback) to keep the stack
   * frames per parenthesis level few: nesting is bounded by MAX_NESTING_DEPTH, not by the stack.
   */
  private parseOr(): ConditionNode {
    this.skipBlanks();
    const at = this.pos;
    const first = this.parseAnd();
    if (!this.text.startsWith('or', this.pos)) return first;
    const children = [first];
    while (this.text.startsWith('or', this.pos)) {
      children.push(this.afterKeyword('or') ? this.parseAnd() : this.parseGroupRest());
      this.skipBlanks();
    }
    return { kind: 'or', children, at, src: this.src };
  }

  private parseAnd(): ConditionNode {
    this.skipBlanks();
    const at = this.pos;
    const first = this.parseNot();
    this.skipBlanks();
    if (!this.text.startsWith('and', this.pos)) return first;
    const children = [first];
    while (this.text.startsWith('and', this.pos)) {
      children.push(this.afterKeyword('and') ? this.parseNot() : this.parseGroupRest());
      this.skipBlanks();
    }
    return { kind: 'and', children, at, src: this.src };
  }

  /** Past `and`/`or` at the cursor: true when blanks follow, false when `(` (consumed) does. */
  private afterKeyword(keyword: 'and' | 'or'): boolean {
    const kwAt = this.pos;
    this.pos += keyword.length;
    if (this.skipBlanks()) return true;
    if (this.eat('(')) return false;
    this.fail(this.pos >= this.text.length ? `expected a condition after '${keyword}'` : `'${keyword}' must be followed by a blank or '('`, kwAt);
  }

  /** Any run of `not `s (their parity counts), then `not(…)` or a check. */
  private parseNot(): ConditionNode {
    this.skipBlanks();
    const at = this.pos;
    let negate = false;
    while (this.text.startsWith('not', this.pos) && isSpaceClass(this.text[this.pos + 3])) {
      this.pos += 3;
      while (isSpaceClass(this.text[this.pos])) this.pos++;
      negate = !negate;
    }
    let child: ConditionNode;
    if (this.eat('not(')) {
      negate = !negate;
      child = this.parseGroupRest();
    } else child = this.parseCheck();
    return negate ? { kind: 'not', child, at, src: this.src } : child;
  }

  /** After `(`: a condition and its `)`. */
  private parseGroupRest(): ConditionNode {
    const open = this.pos - 1;
    this.push();
    const inner = this.parseOr();
    this.skipBlanks();
    if (!this.eat(')')) this.fail(this.pos >= this.text.length ? `'(' at column ${open + 1} is never closed` : `expected ')' but found ${this.describeHere()}`);
    this.depth--;
    return inner;
  }

  private parseCheck(): ConditionNode {
    this.skipBlanks();
    if (this.eat('(')) return this.parseGroupRest();
    const at = this.pos;
    const operand = this.tryOperand();
    if (operand) return this.parseComparison(operand);
    const end = identifierEnd(this.text, this.pos);
    if (end < 0) this.fail(`expected a field, a macro, 'not' or '(' but found ${this.describeHere()}`);
    this.pos = end;
    return { kind: 'macro', name: this.text.slice(at, end), at, src: this.src };
  }

  /** A field (with its optional `[arg]`) or a transformer call at the cursor; undefined when neither. */
  private tryOperand(): Operand | undefined {
    const at = this.pos;
    const end = fieldNameEnd(this.text, at);
    if (end >= 0) {
      this.pos = end;
      return { kind: 'field', name: this.text.slice(at, end), arg: this.optionalArg(), at, src: this.src };
    }
    return this.tryTransformer();
  }

  /** `name(` for a known transformer, then its arguments, `)` and an optional `[arg]`. */
  private tryTransformer(): TransformerRef | undefined {
    const at = this.pos;
    const end = identifierEnd(this.text, at);
    if (end < 0 || this.text[end] !== '(') return undefined;
    const name = this.text.slice(at, end);
    if (!TRANSFORMER_SET.has(name)) return undefined;
    this.pos = end + 1;
    this.push();
    this.skipBlanks();
    const args: TransformerArg[] = [];
    do {
      args.push(this.transformerArg());
      this.skipBlanks();
    } while (this.eat(','));
    if (!this.eat(')')) this.fail(`expected ',' or ')' in '${name}(...)' but found ${this.describeHere()}`);
    this.depth--;
    return { kind: 'transformer', name: name as TransformerName, args, index: this.optionalArg(), at, src: this.src };
  }

  /** A number, a quoted string, a `(…)` list, a transformer or a field. */
  private transformerArg(): TransformerArg {
    this.skipBlanks();
    const at = this.pos;
    const num = this.tryNumber();
    if (num) return num;
    const quoted = this.tryQuoted();
    if (quoted !== undefined) return { kind: 'literal', value: quoted, at, src: this.src };
    if (this.eat('(')) return this.transformerList(at);
    const operand = this.tryOperand();
    if (operand) return operand;
    this.fail(`expected a field, a transformer, a quoted string, a number or a list but found ${this.describeHere()}`);
  }

  /** After `(` inside a transformer: `()` or items (fields, transformers, quoted strings, numbers), no nested lists. */
  private transformerList(at: number): TransformerArg {
    this.skipBlanks();
    const items: TransformerArg[] = [];
    if (!this.eat(')')) {
      for (;;) {
        const itemAt = this.pos;
        const operand = this.tryOperand();
        const quoted = operand ? undefined : this.tryQuoted();
        const item: TransformerArg | undefined = operand ?? (quoted !== undefined ? { kind: 'literal', value: quoted, at: itemAt, src: this.src } : this.tryNumber());
        if (!item) this.fail(`expected a field, a transformer, a quoted string or a number in the list but found ${this.describeHere()}`);
        items.push(item);
        this.skipBlanks();
        if (!this.eat(',')) break;
        this.skipBlanks();
      }
      if (!this.eat(')')) this.fail(`expected ',' or ')' in the list but found ${this.describeHere()}`);
    }
    return { kind: 'tuple', items, at, src: this.src };
  }

  /** `[quoted]` or `[bare]` right after a field or transformer; undefined without `[`. */
  private optionalArg(): string | undefined {
    if (this.text[this.pos] !== '[') return undefined;
    this.pos++;
    let value = this.tryQuoted();
    if (value === undefined) {
      const end = bareFieldArgEnd(this.text, this.pos);
      if (end < 0) this.fail(this.pos >= this.text.length ? "unterminated '['" : `expected a field argument (a quoted or bare string) but found ${this.describeHere()}`);
      value = this.text.slice(this.pos, end);
      this.pos = end;
    }
    if (!this.eat(']')) this.fail(this.pos >= this.text.length ? "unterminated '['" : `expected ']' but found ${this.describeHere()}`);
    return value;
  }

  private tryNumber(): Literal | undefined {
    const at = this.pos;
    const end = numberEnd(this.text, at);
    if (end < 0) return undefined;
    this.pos = end;
    return { kind: 'literal', value: this.text.slice(at, end), at, src: this.src };
  }

  /** The unescaped value of a quoted string at the cursor; undefined when none starts (or closes) here. */
  private tryQuoted(): string | undefined {
    const at = this.pos;
    const end = quotedEnd(this.text, at);
    if (end < 0) {
      if (this.text[at] === '"' || this.text[at] === "'") this.fail('unterminated quoted string');
      return undefined;
    }
    try {
      const value = unescapeQuoted(this.text, at, end);
      this.pos = end;
      return value;
    } catch (err) {
      if (err instanceof EscapeError) this.fail(err.message, err.at);
      throw err;
    }
  }

  private parseComparison(lhs: Operand): ConditionNode {
    const at = lhs.at;
    const afterOperand = this.pos;
    this.skipBlanks();
    let opAt = this.pos;
    if (this.eat('exists')) return { kind: 'check', lhs, op: 'exists', modifier: undefined, rhs: undefined, at, opAt, src: this.src };
    this.skipBlanks();
    opAt = this.pos;
    for (const op of NUM_OPS) {
      if (this.eat(op)) return { kind: 'check', lhs, op, modifier: undefined, rhs: this.numberRhs(op), at, opAt, src: this.src };
    }
    for (const op of STRING_OPS) {
      const word = /^[a-z]/.test(op);
      if (!this.text.startsWith(op, this.pos) || (word && !isBlank(this.text[this.pos + op.length]))) continue;
      this.pos += op.length;
      const hadBlank = this.skipBlanks() || word;
      const modifier = hadBlank ? this.tryModifier() : undefined;
      if (modifier) return { kind: 'check', lhs, op, modifier, rhs: this.listOrName(), at, opAt, src: this.src };
      return { kind: 'check', lhs, op, modifier: undefined, rhs: this.stringRhs(op), at, opAt, src: this.src };
    }
    for (const op of LIST_OPS) {
      if (this.eat(op)) return { kind: 'check', lhs, op, modifier: undefined, rhs: this.listRhs(op), at, opAt, src: this.src };
    }
    this.pos = afterOperand;
    this.skipBlanks();
    this.fail(`expected an operator after '${this.text.slice(at, afterOperand)}' but found ${this.describeHere()}`);
  }

  /**
   * `oneof`/`anyof`/`allof` and blanks, when a list or a list name follows that is not `and`,
   * `or` or `not`; otherwise the word is an ordinary value and the cursor does not move.
   */
  private tryModifier(): Modifier | undefined {
    const save = this.pos;
    for (const m of MODIFIERS) {
      if (!this.text.startsWith(m, this.pos) || !isBlank(this.text[this.pos + m.length])) continue;
      this.pos += m.length;
      this.skipBlanks();
      const listFollows = this.text[this.pos] === '(' || identifierEnd(this.text, this.pos) >= 0;
      const keywordFollows = ['and', 'or', 'not'].some((k) => this.text.startsWith(k, this.pos) && !isAlnum(this.text[this.pos + k.length]));
      if (listFollows && !keywordFollows) return m;
      break;
    }
    this.pos = save;
    return undefined;
  }

  /** `val(field)` or a transformer at the cursor. */
  private tryValOrTransformer(): Rhs | undefined {
    this.skipBlanks();
    const at = this.pos;
    if (this.eat('val(')) {
      this.skipBlanks();
      const fieldAt = this.pos;
      const end = fieldNameEnd(this.text, fieldAt);
      if (end < 0) this.fail(`expected a field inside 'val(...)' but found ${this.describeHere()}`);
      this.pos = end;
      const field: FieldRef = { kind: 'field', name: this.text.slice(fieldAt, end), arg: this.optionalArg(), at: fieldAt, src: this.src };
      this.skipBlanks();
      if (!this.eat(')')) this.fail(`expected ')' after the field in 'val(...)' but found ${this.describeHere()}`);
      const index = this.optionalArg();
      return index === undefined ? { kind: 'val', field, at, src: this.src } : { kind: 'val', field, index, at, src: this.src };
    }
    return this.tryTransformer();
  }

  private numberRhs(op: string): Rhs {
    this.skipBlanks();
    const operand = this.tryValOrTransformer();
    if (operand) return operand;
    const num = this.tryNumber();
    if (num) return num;
    this.fail(`operator '${op}' needs a number but found ${this.describeHere()}`);
  }

  private stringRhs(op: string): Rhs {
    const operand = this.tryValOrTransformer();
    if (operand) return operand;
    const value = this.tryValue();
    if (value) return value;
    this.fail(this.text[this.pos] === '(' ? `operator '${op}' takes a single value, not a list` : `operator '${op}' needs a value but found ${this.describeHere()}`);
  }

  /** A quoted or bare value at the cursor (after blanks). */
  private tryValue(): Literal | undefined {
    this.skipBlanks();
    const at = this.pos;
    const quoted = this.tryQuoted();
    if (quoted !== undefined) return { kind: 'literal', value: quoted, at, src: this.src };
    const end = bareStringEnd(this.text, at);
    if (end < 0) return undefined;
    this.pos = end;
    return { kind: 'literal', value: this.text.slice(at, end), at, src: this.src };
  }

  /** `(a, 'b', c)` at the cursor, or undefined when no `(` is there. */
  private tryList(): ListLiteral | undefined {
    const at = this.pos;
    if (!this.eat('(')) return undefined;
    const items: Literal[] = [];
    const first = this.tryValue();
    if (first) {
      items.push(first);
      this.skipBlanks();
      while (this.eat(',')) {
        const next = this.tryValue();
        if (!next) this.fail(`expected a value after ',' but found ${this.describeHere()}`);
        items.push(next);
        this.skipBlanks();
      }
    } else this.skipBlanks();
    if (!this.eat(')')) this.fail(`expected ',' or ')' in the list but found ${this.describeHere()}`);
    return { kind: 'list', items, at, src: this.src };
  }

  /** A list name used where a list goes: a one-item list until the loader substitutes the list. */
  private tryListName(): ListLiteral | undefined {
    const at = this.pos;
    const end = identifierEnd(this.text, at);
    if (end < 0) return undefined;
    this.pos = end;
    return { kind: 'list', items: [{ kind: 'literal', value: this.text.slice(at, end), at, src: this.src }], at, src: this.src };
  }

  /** After a modifier: a list or a list name. */
  private listOrName(): ListLiteral {
    this.skipBlanks();
    const rhs = this.tryList() ?? this.tryListName();
    if (!rhs) this.fail(`expected a list or a list name but found ${this.describeHere()}`);
    return rhs;
  }

  private listRhs(op: string): Rhs {
    this.skipBlanks();
    const rhs = this.tryList() ?? this.tryValOrTransformer() ?? this.tryListName();
    if (!rhs) this.fail(`operator '${op}' needs a list like '(a, b)' but found ${this.describeHere()}`);
    return rhs;
  }
}

/** Parses one condition; throws `ConditionSyntaxError` with the offset of the offending character. */
export function parseCondition(src: CondSource): ConditionNode {
  return new Parser(src).parse();
}

/** Parses a lone operand (a field or transformer), as written inside an output's `%(...)` token. */
export function parseOperand(src: CondSource): Operand {
  return new Parser(src).parseLoneOperand();
}

/** A source for text with no file behind it (tests, `-o` style one-liners). */
export function inlineSource(text: string, file = '<inline>'): CondSource {
  return {
    text,
    itemKind: 'none',
    itemName: '',
    locate(offset: number) {
      return { file, line: 1, column: offset + 1 };
    },
  };
}

/** Operators the language knows, for messages and exception `comps`. */
export const KNOWN_OPERATORS: ReadonlySet<string> = new Set<string>([...STRING_OPS, ...NUM_OPS, ...LIST_OPS, 'exists']);
