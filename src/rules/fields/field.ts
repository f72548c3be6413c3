/**
 * What a field is: its type, argument form and extractor, and the two constructors every field
 * class uses. Extractors read the event through `EventView` and state through `StateReader` only
 * (via `ExtractContext`), and return undefined when the value cannot be extracted (Falco's
 * "not extractable": every comparison false).
 */
import type { ProcessInfo } from '../../state/types';
import type { ExtractContext, FieldValue } from '../context';

export type FieldType = 'string' | 'int64' | 'int32' | 'uint64' | 'double' | 'uint32' | 'port' | 'bool' | 'ipaddr' | 'ipnet' | 'reltime' | 'abstime' | 'bytebuf' | 'strlist';

/** `none`: no brackets allowed; `index`/`key`: required; `*_opt`: optional. */
export type FieldArgForm = 'none' | 'index' | 'key' | 'index_opt' | 'key_opt';

export type Extractor = (c: ExtractContext) => FieldValue | undefined;

export interface FieldInfo {
  readonly name: string;
  readonly type: FieldType;
  readonly description: string;
  readonly arg: FieldArgForm;
  /** Cannot be printed in outputs (e.g. `fd.net`, bare `proc.aname`). */
  readonly filterOnly: boolean;
  readonly deprecated: boolean;
  /** The comparison holds if it holds for any of the values (`fd.ip` = client or server). */
  readonly either: boolean;
  /** Falco has it but this probe can never fill it: it loads, is always null, and `validate` warns. */
  readonly alwaysNull?: boolean;
}

export interface FieldDef extends FieldInfo {
  /** Extractor for a given bracket argument (validated against `arg`). */
  make(arg: string | undefined): Extractor | string;
  /** Ancestor fields: the value for one process, used for `[N]` and the any-ancestor form. */
  readonly ofProcess?: (p: ProcessInfo, c: ExtractContext) => FieldValue | undefined;
  /** Text form for outputs when it differs from String(value) (times). */
  readonly text?: (v: FieldValue) => string;
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['int64', 'int32', 'double', 'uint64', 'uint32', 'port', 'reltime', 'abstime']);
export function isNumericType(t: FieldType): boolean {
  return NUMERIC.has(t);
}

export interface FieldOptions {
  arg?: FieldArgForm;
  filterOnly?: boolean;
  deprecated?: boolean;
  either?: boolean;
  text?: (v: FieldValue) => string;
}

/** A Falco field this probe cannot fill: it compiles, extracts nothing, and rules using it get a warning. */
export function nullField(name: string, type: FieldType, description: string, why: string, opts: FieldOptions = {}): FieldDef {
  return { ...fieldWithArg(name, type, `${description} (always null here: ${why})`, () => () => undefined, opts), alwaysNull: true };
}

/** A field with one extractor. */
export function field(name: string, type: FieldType, description: string, extract: Extractor, opts: FieldOptions = {}): FieldDef {
  return fieldWithArg(name, type, description, () => extract, opts);
}

/** A field whose extractor depends on its bracket argument; returning a string reports an error. */
export function fieldWithArg(name: string, type: FieldType, description: string, make: (arg: string | undefined) => Extractor | string, opts: FieldOptions = {}): FieldDef {
  return {
    name,
    type,
    description,
    arg: opts.arg ?? 'none',
    filterOnly: opts.filterOnly ?? false,
    deprecated: opts.deprecated ?? false,
    either: opts.either ?? false,
    make,
    ...(opts.text ? { text: opts.text } : {}),
  };
}
