/**
 * Recursive-descent parser for Falco's condition language (Falco's published grammar, with
 * libsinsp's filter parser as the reference). It reports the offset of the first character it
 * could not accept, which the loader turns into file:line:column.
 */
import {
  CMP_OPS,
  LIST_OPS,
  TRANSFORMERS,
  type CondSource,
  type ConditionNode,
  type FieldRef,
  type ListLiteral,
  type Literal,
  type Modifier,
  type Operand,
  type Operator,
  type Rhs,
  type TransformerArg,
  type TransformerName,
  type TransformerRef,
} from './ast';

export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

/** Falco raises libs' default of 100 to 1000. */
export const MAX_NESTING_DEPTH = 1000;

const NUMERIC_OPS = new Set<string>(['<', '<=', '>', '>=']);
const WORD_OPS = new Set<string>([...CMP_OPS.filter((o) => /^[a-z]/.test(o)), ...LIST_OPS, 'exists']);
const LIST_OP_SET = new Set<string>(LIST_OPS);
const TRANSFORMER_SET = new Set<string>(TRANSFORMERS);
const MODIFIERS = new Set<string>(['oneof', 'anyof', 'allof']);
/** Operators that accept oneof/anyof/allof. */
const MODIFIABLE = new Set<string>(['=', '==', '!=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex']);

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}
function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && (isAlpha(c) || (c >= '0' && c <= '9') || c === '_');
}
/** Characters a bare (unquoted) value may not contain. */
function isBareStop(c: string | undefined): boolean {
  return c === undefined || isBlank(c) || c === '(' || c === ')' || c === '"' || c === "'" || c === '=' || c === ',';
}

const NUMBER_RE = /^(?:0x[0-9a-fA-F]+|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$/;

export function isNumberLiteral(text: string): boolean {
  return NUMBER_RE.test(text);
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly text: string;

  constructor(private readonly src: CondSource) {
    this.text = src.text;
  }

  parse(): ConditionNode {
    this.skipBlanks();
    if (this.pos >= this.text.length) this.fail('empty condition');
    const node = this.parseOr();
    this.skipBlanks();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.peekToken()}', expected 'and', 'or' or the end of the condition`);
    return node;
  }

  /** The whole text as one field or transformer, nothing around it. */
  parseLoneOperand(): Operand {
    const name = this.readIdentifier();
    this.pos = 0; // only looked ahead for a transformer's '('
    const operand: Operand = this.text[name.length] === '(' && TRANSFORMER_SET.has(name) ? this.parseTransformer() : this.parseField();
    if (this.pos !== this.text.length) this.fail(`unexpected '${this.text.slice(this.pos)}' after the field`);
    return operand;
  }

  private fail(message: string, at = this.pos): never {
    throw new ConditionSyntaxError(message, at);
  }

  private peekToken(): string {
    const m = /^\S{1,20}/.exec(this.text.slice(this.pos));
    return m ? m[0] : this.text.charAt(this.pos);
  }

  private push(): void {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`nesting deeper than ${MAX_NESTING_DEPTH}`);
  }
  private pop(): void {
    this.depth--;
  }

  private skipBlanks(): boolean {
    const start = this.pos;
    while (isBlank(this.text[this.pos])) this.pos++;
    return this.pos > start;
  }

  /** Keyword at the cursor followed by a GAP (blank, or nothing before '('). */
  private keywordAhead(word: string, allowParen: boolean): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const next = this.text[this.pos + word.length];
    return isBlank(next) || (allowParen && next === '(');
  }

  private parseOr(): ConditionNode {
    return this.parseChain('or', () => this.parseAnd());
  }

  private parseAnd(): ConditionNode {
    return this.parseChain('and', () => this.parseNot());
  }

  /** `operand (keyword operand)*`, flattened into one node of that kind when there is more than one. */
  private parseChain(keyword: 'and' | 'or', operand: () => ConditionNode): ConditionNode {
    const at = this.pos;
    const first = operand();
    const children = [first];
    for (;;) {
      const save = this.pos;
      this.skipBlanks();
      if (!this.keywordAhead(keyword, true)) {
        this.pos = save;
        break;
      }
      this.pos += keyword.length;
      this.skipBlanks();
      children.push(operand());
    }
    return children.length === 1 ? first : { kind: keyword, children, at, src: this.src };
  }

  private parseNot(): ConditionNode {
    const at = this.pos;
    if (this.keywordAhead('not', true)) {
      this.pos += 3;
      this.skipBlanks();
      this.push();
      const child = this.parseNot();
      this.pop();
      return { kind: 'not', child, at, src: this.src };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): ConditionNode {
    const c = this.text[this.pos];
    if (c === '(') {
      this.pos++;
      this.push();
      this.skipBlanks();
      const inner = this.parseOr();
      this.skipBlanks();
      if (this.text[this.pos] !== ')') this.fail(`expected ')' but found ${this.describeHere()}`);
      this.pos++;
      this.pop();
      return inner;
    }
    if (!isAlpha(c)) this.fail(`expected a field, a macro, 'not' or '(' but found ${this.describeHere()}`);
    const at = this.pos;
    const name = this.readIdentifier();
    if (this.text[this.pos] === '(' && TRANSFORMER_SET.has(name)) {
      this.pos = at;
      return this.parseCheck(this.parseTransformer());
    }
    if (name.includes('.')) {
      this.pos = at;
      return this.parseCheck(this.parseField());
    }
    if (name === 'and' || name === 'or' || name === 'not') {
      if (this.pos >= this.text.length) this.fail(`expected a condition after '${name}'`);
      this.fail(`unexpected keyword '${name}'`, at);
    }
    if (this.text[this.pos] === '[') this.fail(`'[' after macro name '${name}'`);
    return { kind: 'macro', name, at, src: this.src };
  }

  private describeHere(): string {
    return this.pos >= this.text.length ? 'the end of the condition' : `'${this.peekToken()}'`;
  }

  /** NAME ( "." NAME )* — names after the first dot may start with a digit. */
  private readIdentifier(): string {
    const start = this.pos;
    while (isIdentChar(this.text[this.pos])) this.pos++;
    while (this.text[this.pos] === '.' && isIdentChar(this.text[this.pos + 1])) {
      this.pos++;
      while (isIdentChar(this.text[this.pos])) this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  private parseField(): FieldRef {
    const at = this.pos;
    if (!isAlpha(this.text[this.pos])) this.fail(`expected a field name but found ${this.describeHere()}`);
    const name = this.readIdentifier();
    if (!name.includes('.')) this.fail(`'${name}' is not a field name (fields look like 'class.name')`, at);
    const arg = this.text[this.pos] === '[' ? this.parseBracketArg() : undefined;
    return { kind: 'field', name, arg, at, src: this.src };
  }

  /** `[key]`, `["quoted key"]` or `[2]`; no blanks inside, no empty `[]`. */
  private parseBracketArg(): string {
    this.pos++; // '['
    const c = this.text[this.pos];
    let value: string;
    if (c === '"' || c === "'") {
      value = this.readQuoted();
    } else {
      const start = this.pos;
      while (this.pos < this.text.length && this.text[this.pos] !== ']' && this.text[this.pos] !== '[' && !isBlank(this.text[this.pos])) this.pos++;
      if (this.pos === start) this.fail(this.pos >= this.text.length ? "unterminated '['" : `expected a field argument but found ${this.describeHere()}`);
      value = this.text.slice(start, this.pos);
    }
    if (this.text[this.pos] !== ']') this.fail(this.pos >= this.text.length ? "unterminated '['" : `expected ']' but found ${this.describeHere()}`);
    this.pos++;
    return value;
  }

  private parseTransformer(): TransformerRef {
    const at = this.pos;
    const name = this.readIdentifier() as TransformerName;
    this.pos++; // '('
    this.push();
    this.skipBlanks();
    if (this.text[this.pos] === ')') this.fail(`transformer '${name}' needs at least one argument`);
    const args = this.parseArgList(` in '${name}(...)'`);
    this.pop();
    const index = this.text[this.pos] === '[' ? this.parseBracketArg() : undefined;
    return { kind: 'transformer', name, args, index, at, src: this.src };
  }

  /** `arg (, arg)* )` after an opening parenthesis; `where` names the construct in errors. */
  private parseArgList(where: string): TransformerArg[] {
    const items: TransformerArg[] = [];
    for (;;) {
      this.skipBlanks();
      items.push(this.parseTransformerArg());
      this.skipBlanks();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === ')') {
        this.pos++;
        return items;
      }
      this.fail(`expected ',' or ')'${where} but found ${this.describeHere()}`);
    }
  }

  private parseTransformerArg(): TransformerArg {
    const at = this.pos;
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return { kind: 'literal', value: this.readQuoted(), at, src: this.src };
    if (c === '(') {
      this.pos++;
      this.push();
      const items = this.parseArgList('');
      this.pop();
      return { kind: 'tuple', items, at, src: this.src };
    }
    if (isAlpha(c)) {
      const save = this.pos;
      const name = this.readIdentifier();
      this.pos = save;
      if (this.text[save + name.length] === '(' && TRANSFORMER_SET.has(name)) return this.parseTransformer();
      if (name.includes('.')) return this.parseField();
    }
    const word = this.readBare();
    if (!isNumberLiteral(word)) this.fail(`expected a field, a transformer, a quoted string or a number but found '${word}'`, at);
    return { kind: 'literal', value: word, at, src: this.src };
  }

  private readBare(): string {
    const start = this.pos;
    while (!isBareStop(this.text[this.pos])) this.pos++;
    if (this.pos === start) this.fail(`expected a value but found ${this.describeHere()}`);
    return this.text.slice(start, this.pos);
  }

  /** Quoted string with Falco's escapes (libs escaping.cpp). Cursor on the opening quote. */
  private readQuoted(): string {
    const q = this.text[this.pos]!;
    const open = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated quoted string', open);
      const c = this.text[this.pos]!;
      if (c === q) {
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.text[this.pos + 1];
      switch (e) {
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case ' ':
          // Legacy: a backslash before a space is kept as a backslash.
          out += '\\';
          this.pos++;
          continue;
        case 'x': {
          const hex = this.text.slice(this.pos + 2, this.pos + 4);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail('\\x needs exactly two hex digits');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          continue;
        }
        default:
          if (e === q) {
            out += q;
            break;
          }
          this.fail(`invalid escape '\\${e ?? ''}'`);
      }
      this.pos += 2;
    }
  }

  private parseCheck(lhs: Operand): ConditionNode {
    const at = lhs.at;
    const afterOperand = this.pos;
    const hadBlank = this.skipBlanks();
    const opAt = this.pos;
    const op = this.readOperator(hadBlank);
    if (op === undefined) {
      this.pos = afterOperand;
      this.skipBlanks();
      this.fail(`expected an operator after '${this.text.slice(at, afterOperand)}' but found ${this.describeHere()}`);
    }
    if (op === 'exists') return { kind: 'check', lhs, op, modifier: undefined, rhs: undefined, at, opAt, src: this.src };
    const isWord = WORD_OPS.has(op);
    const blankAfter = this.skipBlanks();
    if (isWord && !blankAfter && !(LIST_OP_SET.has(op) && this.text[this.pos] === '(')) {
      this.fail(`operator '${op}' must be followed by a blank`);
    }
    if (LIST_OP_SET.has(op)) {
      return { kind: 'check', lhs, op, modifier: undefined, rhs: this.parseListRhs(op), at, opAt, src: this.src };
    }
    let modifier: Modifier | undefined;
    if (MODIFIABLE.has(op)) {
      const m = /^(oneof|anyof|allof)[ \t\r\n]+\(/.exec(this.text.slice(this.pos, this.pos + 16));
      if (m && MODIFIERS.has(m[1]!)) {
        modifier = m[1] as Modifier;
        this.pos += m[1]!.length;
        this.skipBlanks();
        return { kind: 'check', lhs, op, modifier, rhs: this.parseList(), at, opAt, src: this.src };
      }
    }
    const rhs = this.parseScalarRhs(op);
    return { kind: 'check', lhs, op, modifier, rhs, at, opAt, src: this.src };
  }

  /** Longest operator at the cursor; word operators must end at a non-identifier char. */
  private readOperator(hadBlank: boolean): Operator | undefined {
    const t = this.text;
    const c = t[this.pos];
    for (const sym of ['==', '!=', '<=', '>=', '=', '<', '>'] as const) {
      if (t.startsWith(sym, this.pos)) {
        this.pos += sym.length;
        return sym;
      }
    }
    if (!hadBlank || !isAlpha(c)) return undefined;
    const start = this.pos;
    while (isIdentChar(t[this.pos])) this.pos++;
    const word = t.slice(start, this.pos);
    if (WORD_OPS.has(word)) return word as Operator;
    this.pos = start;
    return undefined;
  }

  private parseListRhs(op: string): Rhs {
    const c = this.text[this.pos];
    if (c === '(') return this.parseList();
    const rhs = this.tryRhsOperand();
    if (rhs) return rhs;
    this.fail(`operator '${op}' needs a list like '(a, b)' but found ${this.describeHere()}`);
  }

  private tryRhsOperand(): Rhs | undefined {
    if (!isAlpha(this.text[this.pos])) return undefined;
    const save = this.pos;
    const name = this.readIdentifier();
    const paren = this.text[this.pos] === '(';
    this.pos = save;
    if (paren && TRANSFORMER_SET.has(name)) return this.parseTransformer();
    if (paren && name === 'val') {
      const at = this.pos;
      this.pos += 4;
      this.skipBlanks();
      const field = this.parseField();
      this.skipBlanks();
      if (this.text[this.pos] !== ')') this.fail(`expected ')' after the field in 'val(...)' but found ${this.describeHere()}`);
      this.pos++;
      return { kind: 'val', field, at, src: this.src };
    }
    return undefined;
  }

  private parseList(): ListLiteral {
    const at = this.pos;
    if (this.text[this.pos] !== '(') this.fail(`expected '(' but found ${this.describeHere()}`);
    this.pos++;
    const items: Literal[] = [];
    this.skipBlanks();
    if (this.text[this.pos] === ')') {
      this.pos++;
      return { kind: 'list', items, at, src: this.src };
    }
    for (;;) {
      this.skipBlanks();
      items.push(this.parseScalar());
      this.skipBlanks();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        return { kind: 'list', items, at, src: this.src };
      }
      this.fail(`expected ',' or ')' in the list but found ${this.describeHere()}`);
    }
  }

  private parseScalar(): Literal {
    const at = this.pos;
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return { kind: 'literal', value: this.readQuoted(), at, src: this.src };
    return { kind: 'literal', value: this.readBare(), at, src: this.src };
  }

  private parseScalarRhs(op: string): Rhs {
    const operand = this.tryRhsOperand();
    if (operand) {
      if (op === 'regex' && operand.kind === 'val') this.fail("'regex' cannot compare against 'val()'", operand.at);
      return operand;
    }
    if (this.text[this.pos] === '(') this.fail(`operator '${op}' takes a single value, not a list`);
    const lit = this.parseScalar();
    if (NUMERIC_OPS.has(op) && !isNumberLiteral(lit.value)) this.fail(`operator '${op}' needs a number but found '${lit.value}'`, lit.at);
    return lit;
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
