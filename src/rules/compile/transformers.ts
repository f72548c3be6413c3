/**
 * Transformers (`tolower(x)`, `b64(x)`, `len(x)`, `concat(…)`, `join(sep, (…))`,
 * `getopt(args, "ab:")[b]`): each becomes an extractor over the extractors of its arguments. An
 * argument that cannot be extracted makes the result unextractable.
 */
import type { Operand, TransformerArg, TransformerRef } from '../ast';
import { fieldValueText } from '../context';
import type { Extractor, FieldType } from '../fields';
import { CompileError } from './error';
import type { CompiledOperand } from './operand';

/** The type and (unmemoized) extractor of a transformer; `compileOperand` compiles its arguments. */
export function compileTransformer(t: TransformerRef, compileOperand: (o: Operand | TransformerArg) => CompiledOperand): { type: FieldType; get: Extractor } {
  const one = (): CompiledOperand => {
    if (t.args.length !== 1) throw new CompileError(`transformer '${t.name}' takes exactly one argument`, t);
    const a = compileOperand(t.args[0]!);
    if (t.name !== 'len' && a.type !== 'string' && a.type !== 'bytebuf') throw new CompileError(`transformer '${t.name}' needs a string argument, '${a.key}' is ${a.type}`, t);
    return a;
  };
  if (t.index !== undefined && t.name !== 'getopt') throw new CompileError(`transformer '${t.name}' does not take an index`, t);
  switch (t.name) {
    case 'tolower':
    case 'toupper':
      return { type: 'string', get: stringTransform(one().get, t.name === 'tolower' ? (s) => s.toLowerCase() : (s) => s.toUpperCase()) };
    case 'b64':
      return {
        type: 'string',
        get: stringTransform(one().get, (s) => (/^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 !== 1 ? Buffer.from(s, 'base64').toString('latin1') : undefined)),
      };
    case 'basename':
      return { type: 'string', get: stringTransform(one().get, (s) => s.slice(s.lastIndexOf('/') + 1)) };
    case 'len': {
      const a = one().get;
      return {
        type: 'uint64',
        get: (c) => {
          const v = a(c);
          if (v === undefined) return undefined;
          return Array.isArray(v) || v instanceof Uint8Array || typeof v === 'string' ? (v as { length: number }).length : fieldValueText(v).length;
        },
      };
    }
    case 'concat': {
      if (t.args.length < 2) throw new CompileError('concat() needs at least two arguments', t);
      const parts = t.args.map((a) => compileOperand(a).get);
      return {
        type: 'string',
        get: (c) => {
          let out = '';
          for (const p of parts) {
            const v = p(c);
            if (v === undefined) return undefined;
            out += fieldValueText(v);
          }
          return out;
        },
      };
    }
    case 'join': {
      const [sepArg, listArg] = t.args;
      if (t.args.length !== 2 || sepArg?.kind !== 'literal') throw new CompileError('join() takes a quoted separator and a list: join(", ", (a, b))', t);
      const sep = sepArg.value;
      const items = listArg!.kind === 'tuple' ? listArg.items.map((a) => compileOperand(a).get) : [compileOperand(listArg!).get];
      return {
        type: 'string',
        get: (c) => {
          const out: string[] = [];
          for (const p of items) {
            const v = p(c);
            if (v === undefined) return undefined;
            if (Array.isArray(v)) out.push(...(v as string[]));
            else out.push(fieldValueText(v));
          }
          return out.join(sep);
        },
      };
    }
    case 'getopt': {
      const [argvArg, optsArg] = t.args;
      if (t.args.length !== 2 || optsArg?.kind !== 'literal') throw new CompileError('getopt() takes an argument list and a quoted option string: getopt(proc.args, "ab:")[b]', t);
      if (t.index === undefined || t.index.length !== 1) throw new CompileError('getopt() needs the option letter as index, e.g. [b]', t);
      const argv = compileOperand(argvArg!).get;
      return { type: 'string', get: getopt(argv, optsArg.value, t.index) };
    }
  }
}

/** A transformer over the text of its argument; an unextractable argument stays unextractable. */
function stringTransform(arg: Extractor, f: (s: string) => string | undefined): Extractor {
  return (c) => {
    const v = arg(c);
    return v === undefined ? undefined : f(fieldValueText(v));
  };
}

/**
 * POSIX-style option scan over an argument list (a space-joined string or a list). Returns the
 * value of option `want` ('' for a flag without value); undefined when absent. Non-option words are
 * skipped (GNU-style permutation); `--` ends option parsing.
 */
function getopt(argv: Extractor, spec: string, want: string): Extractor {
  const takesValue = new Set<string>();
  for (let i = 0; i < spec.length; i++) if (spec[i + 1] === ':') takesValue.add(spec[i]!);
  return (c) => {
    const v = argv(c);
    if (v === undefined) return undefined;
    const words = Array.isArray(v) ? (v as string[]) : fieldValueText(v).split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--') break;
      if (w.length < 2 || w[0] !== '-' || w[1] === '-') continue;
      for (let k = 1; k < w.length; k++) {
        const o = w[k]!;
        if (takesValue.has(o)) {
          const value = k + 1 < w.length ? w.slice(k + 1) : words[++i];
          if (o === want) return value;
          break;
        }
        if (o === want) return '';
      }
    }
    return undefined;
  };
}
