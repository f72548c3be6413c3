/** Public surface of the rule engine. */
export { Engine, type EngineMetricsStats, type EvaluationGate, type EventHook, type HoldStats, type ValueObserver, type EngineOptions, type EngineStats, type RuleMatching, type RuleMatchCount } from './rule-engine';
export { EventQueue, type QueueStats } from './queue';
export { RulesManager, expandRulesPaths, type ReloadResult, type RulesManagerOptions } from './manager';
