/**
 * Transformers (`tolower(x)`, `b64(x)`, `len(x)`, `concat(…)`, `join(sep, (…))`,
 * `getopt(args, "ab:")[b]`): each becomes an extractor over the extractors of its arguments. An
 * argument that cannot be extracted makes the result unextractable.
 */
import type { Operand, TransformerArg, TransformerRef } from '../ast';
import { fieldValueText, type ExtractContext } from '../context';
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
      const parts = t.args.map((a) => {
        const c = compileOperand(a);
        if (c.type !== 'string') throw new CompileError(`concat() arguments must be strings, '${c.key}' is ${c.type}`, a);
        return c.get;
      });
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
      if (t.args.length !== 2) throw new CompileError('join() takes a separator and a list: join(", ", (a, b))', t);
      const sep = compileOperand(sepArg!);
      if (sep.type === 'strlist') throw new CompileError('join() separator must be a single value, not a list', sepArg!);
      const items = listItems(listArg!, compileOperand);
      if (!items) throw new CompileError('join() second argument must be a list, e.g. (a, b)', listArg!);
      return {
        type: 'string',
        get: (c) => {
          const s = sep.get(c);
          const list = items(c);
          return s === undefined || list === undefined ? undefined : list.join(fieldValueText(s));
        },
      };
    }
    case 'getopt': {
      const [argvArg, optsArg] = t.args;
      if (t.args.length !== 2) throw new CompileError('getopt() takes an argument list and an option string: getopt(proc.args, "ab:")', t);
      if (argvArg!.kind === 'literal') throw new CompileError('getopt() first argument must be a list, e.g. (a, b), or proc.args', argvArg!);
      const argv = listItems(argvArg!, compileOperand) ?? splitWords(compileOperand(argvArg!), argvArg!);
      const opts = compileOperand(optsArg!);
      if (opts.type !== 'string') throw new CompileError('getopt() option string must be a single string', optsArg!);
      if (t.index !== undefined && t.index.length !== 1) throw new CompileError('getopt() field argument must be a single option character', t);
      return { type: t.index === undefined ? 'strlist' : 'string', get: getopt(argv, opts.get, t.index) };
    }
  }
}

/** The items of a list argument: a `(a, b)` tuple or a list-valued field; undefined for anything else. */
function listItems(arg: TransformerArg, compileOperand: (o: Operand | TransformerArg) => CompiledOperand): ((c: ExtractContext) => string[] | undefined) | undefined {
  if (arg.kind === 'tuple') {
    const parts = arg.items.map((a) => compileOperand(a).get);
    return (c) => {
      const out: string[] = [];
      for (const p of parts) {
        const v = p(c);
        if (v === undefined) return undefined;
        if (Array.isArray(v)) out.push(...(v as string[]));
        else out.push(fieldValueText(v));
      }
      return out;
    };
  }
  if (arg.kind === 'literal') return undefined;
  const list = compileOperand(arg);
  if (list.type !== 'strlist') return undefined;
  return (c) => {
    const v = list.get(c);
    return v === undefined ? undefined : Array.isArray(v) ? [...(v as string[])] : [fieldValueText(v)];
  };
}

/** A single string field read as a command line (Lanner also lets getopt() take proc.args). */
function splitWords(arg: CompiledOperand, at: TransformerArg): (c: ExtractContext) => string[] | undefined {
  if (arg.type !== 'string') throw new CompileError(`getopt() first argument must be a list or a string, '${arg.key}' is ${arg.type}`, at);
  return (c) => {
    const v = arg.get(c);
    return v === undefined ? undefined : fieldValueText(v).split(/\s+/).filter(Boolean);
  };
}

/** A transformer over the text of its argument; an unextractable argument stays unextractable. */
function stringTransform(arg: Extractor, f: (s: string) => string | undefined): Extractor {
  return (c) => {
    const v = arg(c);
    return v === undefined ? undefined : f(fieldValueText(v));
  };
}

/**
 * getopt(3)-style scan, as libsinsp's getopt() transformer does it: stops at `--` and at the
 * first non-option word, skips long options, expands clusters (`-nt`), takes a value from the
 * rest of the word or the next one. Without a selector the result is the list of options (unknown
 * ones as '?') each followed by its value; a missing value is ''. With a selector, the value of
 * the last occurrence of that option (the option itself when it takes none); absent → undefined.
 */
function getopt(argv: (c: ExtractContext) => string[] | undefined, optstring: Extractor, want: string | undefined): Extractor {
  return (c) => {
    const words = argv(c);
    const specValue = optstring(c);
    if (words === undefined || specValue === undefined) return undefined;
    const spec = fieldValueText(specValue);
    const out: string[] = [];
    let selected: string | undefined;
    const emit = (name: string, value: string | undefined): void => {
      if (want !== undefined) selected = value ?? name;
      else {
        out.push(name);
        if (value !== undefined) out.push(value);
      }
    };
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--') break;
      if (w.length > 2 && w.startsWith('--')) continue;
      if (w.length < 2 || w[0] !== '-') break;
      for (let k = 1; k < w.length; k++) {
        const o = w[k]!;
        const at = o === ':' ? -1 : spec.indexOf(o, spec[0] === ':' ? 1 : 0);
        if (at < 0) {
          if (want === undefined) out.push('?');
          continue;
        }
        const match = want === undefined || o === want;
        if (spec[at + 1] !== ':') {
          if (match) emit(o, undefined);
          continue;
        }
        const value = k + 1 < w.length ? w.slice(k + 1) : i + 1 < words.length ? words[++i] : undefined;
        if (match) emit(value === undefined ? '' : o, value);
        break;
      }
    }
    if (want !== undefined) return selected;
    return out;
  };
}
