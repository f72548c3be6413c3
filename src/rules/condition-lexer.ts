/**
 * Token shapes of Falco's condition language, as libsinsp's filter parser reads them: which
 * characters are blanks, what a field name, a macro name, a number and a bare string look like,
 * and how a quoted string ends and is unescaped. Each reader takes the text and an offset and
 * returns the end offset of the token (or -1 when there is none there), so the parser never
 * allocates to look ahead.
 */

/**
 * Blanks between tokens: space, tab, backspace, CR and LF. Vertical tab and form feed are not
 * blanks here (libsinsp's lexer) although they end bare words and follow `not`.
 */
export function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\b';
}

/** POSIX `[[:space:]]`: what ends a bare word and what may follow a `not`. */
export function isSpaceClass(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
function isWordChar(c: string | undefined): boolean {
  return c !== undefined && (isAlpha(c) || (c >= '0' && c <= '9') || c === '_');
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
function isHexDigit(c: string | undefined): boolean {
  return c !== undefined && (isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

/** A letter, then letters, digits and underscores: a macro or list name (`[a-zA-Z]+[a-zA-Z0-9_]*`). */
export function identifierEnd(text: string, at: number): number {
  if (!isAlpha(text[at])) return -1;
  let i = at + 1;
  while (isWordChar(text[i])) i++;
  return i;
}

/** Two or more identifiers joined by dots, each part starting with a letter (`proc.name`, `k8s.ns.name`). */
export function fieldNameEnd(text: string, at: number): number {
  let end = identifierEnd(text, at);
  if (end < 0) return -1;
  let parts = 1;
  while (text[end] === '.') {
    const next = identifierEnd(text, end + 1);
    if (next < 0) break;
    end = next;
    parts++;
  }
  return parts > 1 ? end : -1;
}

/** `0x…`/`0X…` with at least one hex digit. */
export function hexNumberEnd(text: string, at: number): number {
  if (text[at] !== '0' || (text[at + 1] !== 'x' && text[at + 1] !== 'X') || !isHexDigit(text[at + 2])) return -1;
  let i = at + 3;
  while (isHexDigit(text[i])) i++;
  return i;
}

/** `[+-]digits[.digits][e[+-]digits]`: the exponent needs its sign, a trailing dot is allowed. */
export function decimalNumberEnd(text: string, at: number): number {
  let i = at;
  if (text[i] === '+' || text[i] === '-') i++;
  if (!isDigit(text[i])) return -1;
  while (isDigit(text[i])) i++;
  if (text[i] === '.') {
    i++;
    while (isDigit(text[i])) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])) {
    i += 3;
    while (isDigit(text[i])) i++;
  }
  return i;
}

/** A hex or decimal number token at `at`. */
export function numberEnd(text: string, at: number): number {
  const hex = hexNumberEnd(text, at);
  return hex >= 0 ? hex : decimalNumberEnd(text, at);
}

/** Bare (unquoted) value: anything but parentheses, quotes, `=`, `,` and POSIX spaces. */
export function bareStringEnd(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text[i];
    if (c === undefined || c === '(' || c === ')' || c === '"' || c === "'" || c === '=' || c === ',' || isSpaceClass(c)) break;
    i++;
  }
  return i > at ? i : -1;
}

/** Bare field argument inside `[...]`: anything but brackets, quotes and POSIX spaces. */
export function bareFieldArgEnd(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text[i];
    if (c === undefined || c === '[' || c === ']' || c === '"' || c === "'" || isSpaceClass(c)) break;
    i++;
  }
  return i > at ? i : -1;
}

/**
 * End of a quoted string that opens at `at` (one past its closing quote), or -1 when it never
 * closes. The string ends at the first quote of its kind not preceded by a backslash, so
 * `"a\\"` does not end at its last quote (libsinsp reads it the same way).
 */
export function quotedEnd(text: string, at: number): number {
  const q = text[at];
  if (q !== '"' && q !== "'") return -1;
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === q && text[i - 1] !== '\\') return i + 1;
  }
  return -1;
}

export class EscapeError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/**
 * The value of the quoted string `text[at, end)` (quotes included). Escapes: `\b \f \n \r \t`,
 * `\\`, `\/`, `\xHH`, the string's own quote, and a legacy `\ ` that stands for a backslash.
 */
export function unescapeQuoted(text: string, at: number, end: number): string {
  const q = text[at]!;
  const close = end - 1;
  let out = '';
  for (let i = at + 1; i < close; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i]!;
    switch (e) {
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
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case '"':
      case "'":
        if (e !== q) throw new EscapeError(`invalid \\${e} escape in a ${q}-quoted string`, i - 1);
        out += e;
        break;
      case 'x': {
        if (i + 2 >= close) throw new EscapeError('truncated \\x escape: it needs two hex digits', i - 1);
        if (!isHexDigit(text[i + 1]) || !isHexDigit(text[i + 2])) throw new EscapeError(`invalid \\x escape: '${text.slice(i + 1, i + 3)}' is not two hex digits`, i - 1);
        out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      }
      default:
        throw new EscapeError(`unsupported escape sequence '\\${e}'`, i - 1);
    }
  }
  return out;
}
