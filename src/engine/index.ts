/** Public surface of the rule engine. */
export { Engine, type EngineMetricsStats, type ValueObserver, type EngineOptions, type EngineState, type EngineStats, type RuleMatching, type RuleMatchCount } from './engine';
export { EventQueue, type QueueStats } from './queue';
export { RulesManager, expandRulesPaths, type ReloadResult, type RulesManagerOptions } from './manager';
