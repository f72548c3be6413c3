/** What compiling an operand or a check produces; shared by the compiler and its helpers. */
import type { ExtractContext } from '../context';
import type { Extractor, FieldDef, FieldType } from '../fields';

export type Predicate = (c: ExtractContext) => boolean;

export interface CompiledOperand {
  readonly key: string;
  readonly type: FieldType;
  readonly get: Extractor;
  /** Multi-valued "either" field: a comparison holds if it holds for any value. */
  readonly either: boolean;
  readonly def: FieldDef | undefined;
  readonly filterOnly: boolean;
}
