/**
 * Rule output templates: `%field`, `%field[arg]`, `%(field)` and `%transformer(...)` tokens.
 * Rendering gives Falco's text (`<NA>` for missing values) and the typed `output_fields` map.
 */
import { fieldValueText, type ExtractContext, type FieldValue } from './context';
import { CompileError, type ConditionCompiler } from './compile';
import type { FieldType } from './fields';
import { parseOperand, ConditionSyntaxError } from './parser';
import type { PosText } from './postext';
import type { CondSource } from './ast';

/**
 * A typed output field value: strings, numbers (ints), bigint (ns timestamps beyond 2^53, emitted
 * as raw digits), booleans, or null when the field could not be extracted.
 */
export type OutputFieldValue = string | number | bigint | boolean | null;

interface OutputToken {
  readonly key: string;
  readonly type: FieldType;
  readonly get: (c: ExtractContext) => FieldValue | undefined;
  readonly text: ((v: FieldValue) => string) | undefined;
}

export interface CompiledOutput {
  readonly template: string;
  /** Literal text pieces; token i sits between literal i and i+1. */
  readonly literals: readonly string[];
  readonly tokens: readonly OutputToken[];
  /**
   * falco.yaml `append_output` extra fields (append-output.ts): in output_fields only. A format
   * that is one bare `%field` keeps the field's type; any other is rendered as text.
   */
  readonly extraFields?: readonly { readonly key: string; readonly output: CompiledOutput }[];
}

export interface RenderedOutput {
  readonly message: string;
  readonly fields: Record<string, OutputFieldValue>;
}

/** Falco's suggested container fields appended to every rule output. */
export const CONTAINER_OUTPUT_SUFFIX =
  'container_id=%container.id container_name=%container.name container_image_repository=%container.image.repository container_image_tag=%container.image.tag k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name';

function isTokenChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_.]/.test(c);
}

/** Finds the end of a `%` token starting at `i` (just after '%'); returns -1 when `%` is literal. */
function tokenEnd(s: string, i: number): { start: number; end: number; next: number } | undefined {
  if (s[i] === '(') {
    let depth = 0;
    for (let k = i; k < s.length; k++) {
      if (s[k] === '(') depth++;
      else if (s[k] === ')' && --depth === 0) return { start: i + 1, end: k, next: k + 1 };
    }
    return undefined;
  }
  if (!/[A-Za-z]/.test(s[i] ?? '')) return undefined;
  let k = i;
  while (isTokenChar(s[k])) k++;
  while (k > i && s[k - 1] === '.') k--;
  if (s[k] === '(') {
    let depth = 0;
    for (let j = k; j < s.length; j++) {
      if (s[j] === '(') depth++;
      else if (s[j] === ')' && --depth === 0) {
        k = j + 1;
        break;
      }
    }
  }
  if (s[k] === '[') {
    const close = s.indexOf(']', k);
    if (close > 0) k = close + 1;
  }
  return { start: i, end: k, next: k };
}

export function compileOutput(compiler: ConditionCompiler, tpl: PosText, itemName: string): CompiledOutput {
  const s = tpl.text;
  const literals: string[] = [];
  const tokens: OutputToken[] = [];
  let lit = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch !== '%') {
      lit += ch;
      i++;
      continue;
    }
    const t = tokenEnd(s, i + 1);
    if (!t || t.end <= t.start) {
      lit += ch;
      i++;
      continue;
    }
    const text = s.slice(t.start, t.end);
    const base = t.start;
    const src: CondSource = { text, itemKind: 'output', itemName, locate: (off) => tpl.locate(base + off) };
    let operand;
    try {
      operand = parseOperand(src);
    } catch (err) {
      if (err instanceof ConditionSyntaxError) throw new CompileError(`invalid output token '%${text}': ${err.message}`, { at: err.at, src }, true);
      throw err;
    }
    const compiled = compiler.compileOperand(operand);
    if (compiled.filterOnly) throw new CompileError(`field '${text}' can only be used in conditions, not in outputs`, operand);
    literals.push(lit);
    lit = '';
    tokens.push({ key: text, type: compiled.type, get: compiled.get, text: compiled.def?.text });
    i = t.next;
  }
  literals.push(lit);
  return { template: s, literals, tokens };
}

function typed(type: FieldType, v: FieldValue | undefined): OutputFieldValue {
  if (v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return type === 'abstime' && !Number.isSafeInteger(v) ? BigInt(Math.trunc(v)) : v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return (v as readonly string[]).join(',');
}

function asText(tok: OutputToken, v: FieldValue | undefined): string {
  if (v === undefined) return '<NA>';
  return tok.text ? tok.text(v) : fieldValueText(v);
}

export function renderOutput(out: CompiledOutput, c: ExtractContext): RenderedOutput {
  let message = out.literals[0]!;
  const fields: Record<string, OutputFieldValue> = {};
  for (let i = 0; i < out.tokens.length; i++) {
    const tok = out.tokens[i]!;
    const v = tok.get(c);
    fields[tok.key] = typed(tok.type, v);
    message += asText(tok, v) + out.literals[i + 1]!;
  }
  const extra = out.extraFields;
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) fields[extra[i]!.key] = renderExtraField(extra[i]!.output, c);
  return { message, fields };
}

function renderExtraField(out: CompiledOutput, c: ExtractContext): OutputFieldValue {
  if (out.tokens.length === 1 && out.literals[0] === '' && out.literals[1] === '') return typed(out.tokens[0]!.type, out.tokens[0]!.get(c));
  return renderOutput(out, c).message;
}
