/**
 * Condition compilation: the compiler (./compiler), code generation (./codegen), event-type
 * folding (./fold), comparisons against constants (./compare) and between fields (./dynamic),
 * transformers (./transformers).
 */
export { ConditionCompiler, type FieldLookup } from './compiler';
export { CompileError } from './error';
export { checkEventTypeName, isUntracedEventName } from './fold';
export type { CompiledOperand, Predicate } from './operand';
