/**
 * Condition compilation: the compiler (./compiler), code generation (./codegen), event-type
 * folding (./fold), comparisons against constants (./compare) and between fields (./dynamic),
 * transformers (./transformers).
 */
export { ConditionCompiler } from './compiler';
export { CompileError } from './error';
export { checkEventTypeName } from './fold';
export type { CompiledOperand, Predicate } from './operand';
