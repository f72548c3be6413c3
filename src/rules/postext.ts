/**
 * Text that remembers where each character came from. Conditions are assembled from YAML scalars
 * (appended conditions, expanded exceptions, substituted lists); every piece keeps a locator, so
 * an offset in the final string maps back to a file position.
 */
import type { Scalar } from 'yaml';
import type { LineCounter } from 'yaml';
import type { SourcePosition } from './messages';

export type Locator = (offset: number) => SourcePosition;

interface Piece {
  readonly start: number;
  readonly locate: Locator;
}

export class PosText {
  private constructor(
    readonly text: string,
    private readonly pieces: readonly Piece[],
  ) {}

  static of(text: string, locate: Locator): PosText {
    return new PosText(text, [{ start: 0, locate }]);
  }

  /** Text whose every character maps to one fixed position. */
  static fixed(text: string, pos: SourcePosition): PosText {
    return new PosText(text, [{ start: 0, locate: () => pos }]);
  }

  concat(...parts: PosText[]): PosText {
    let text = this.text;
    const pieces: Piece[] = [...this.pieces];
    for (const p of parts) {
      for (const piece of p.pieces) pieces.push({ start: piece.start + text.length, locate: shift(piece.locate, 0) });
      text += p.text;
    }
    return new PosText(text, pieces);
  }

  /** A slice keeping positions. */
  slice(from: number, to = this.text.length): PosText {
    if (from >= to) return PosText.fixed('', this.locate(from));
    const pieces: Piece[] = [];
    for (let i = 0; i < this.pieces.length; i++) {
      const p = this.pieces[i]!;
      const end = i + 1 < this.pieces.length ? this.pieces[i + 1]!.start : Infinity;
      if (end <= from || p.start >= to) continue;
      const base = Math.max(p.start, from);
      pieces.push({ start: base - from, locate: shift(p.locate, base - p.start) });
    }
    return new PosText(this.text.slice(from, to), pieces);
  }

  locate(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.pieces[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const p = this.pieces[lo]!;
    return p.locate(offset - p.start);
  }
}

function shift(locate: Locator, by: number): Locator {
  return by === 0 ? locate : (off) => locate(off + by);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * Maps offsets of a YAML scalar's value to file positions. The value is aligned greedily with the
 * scalar's source text: exact for plain and quoted single-line scalars and for block scalars
 * (`>`, `|`) whose lines only differ by indentation and folding; inside escape sequences and
 * other rewritten spans the position falls on the next source character that matches.
 */
export function scalarLocator(file: string, source: string, node: Scalar, lc: LineCounter): Locator {
  const range = node.range;
  const value = typeof node.value === 'string' ? node.value : String(node.value);
  if (!range) return () => ({ file, line: 1, column: 1 });
  let map: Int32Array | undefined;
  const build = (): Int32Array => {
    const m = new Int32Array(value.length + 1);
    let si = range[0];
    const end = range[1];
    const t = node.type;
    if (t === 'BLOCK_FOLDED' || t === 'BLOCK_LITERAL') {
      const nl = source.indexOf('\n', si);
      si = nl < 0 ? end : nl + 1;
    } else if (t === 'QUOTE_DOUBLE' || t === 'QUOTE_SINGLE') si++;
    for (let vi = 0; vi < value.length; vi++) {
      const c = value[vi]!;
      let k = si;
      // Skip what the YAML scanner removed: indentation, line breaks, escape backslashes, quotes.
      while (k < end && source[k] !== c && !(isSpace(c) && isSpace(source[k])) && (isSpace(source[k]) || source[k] === '\\' || source[k] === '"' || source[k] === "'")) k++;
      if (k < end && (source[k] === c || (isSpace(c) && isSpace(source[k])))) {
        m[vi] = k;
        si = k + 1;
        if (isSpace(c) && source[k] === '\n') while (si < end && (source[si] === ' ' || source[si] === '\t')) si++;
      } else m[vi] = Math.min(si, end);
    }
    m[value.length] = Math.min(si, Math.max(end - 1, range[0]));
    return m;
  };
  return (offset) => {
    map ??= build();
    const fileOffset = map[Math.max(0, Math.min(offset, value.length))]!;
    const { line, col } = lc.linePos(fileOffset);
    return { file, line, column: col };
  };
}
