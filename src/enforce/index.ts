/** Enforcement: rules with `actions: [kill]` (README, "Enforcement"). */
export { enforcementConfigSchema, type EnforcementConfig } from './config';
export { Enforcer, ENFORCEMENT_FIELD, ENFORCEMENT_REASON_FIELD, ENFORCEMENT_RESULTS, KERNEL_KILL_RESULTS, KILL_DELAY_FIELD, type EnforcementMetrics, type EnforcementResult, type KillTablesTarget } from './enforcer';
export { killPlacementOf, kernelComparesPath, type KernelKillSpec, type KillPlacement } from './kernel-predicate';
export { killRefusal, planEnforcement, type EnforcementPlan, type KillRulePlan, type KillRuleStatus } from './plan';
