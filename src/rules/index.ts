/** Public surface of the rule language: loading, compiling, validating, field catalogue. */
export { compileRules, loadRules, type CompiledRule, type CompiledRuleset, type RulesetOptions } from './ruleset';
export { reportRules, validateRules, type KernelFilterReport, type RuleReport, type ValidationResult } from './rule-report';
export { readRulesFiles, ENGINE_VERSION, type RulesFileInput } from './loader';
export { formatLoadMessage, formatLoadMessageWithSource, type LoadMessage, type SourcePosition } from './messages';
export { formatFieldList, listFields, findField, type FieldInfo, type FieldType } from './fields';
export { parseCondition, inlineSource, ConditionSyntaxError } from './parser';
export { printCondition, type ConditionNode } from './ast';
