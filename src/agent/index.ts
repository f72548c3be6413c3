/** The composition root: the pipeline wiring and the agent's ordered start and stop. */
export { buildPipeline, type Pipeline, type PipelineOptions } from './pipeline';
export { Lifecycle, StartError, type LifecycleStep, type StopFailure } from './lifecycle';
export { runAgent } from './run-agent';
export { logLoadMessages, minPriorityOf, probeOptionsOf, resolveHostname, rulesPaths } from './settings';
