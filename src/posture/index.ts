/** Node hardening checks (CIS Kubernetes Benchmark controls), continuous and one-shot. */
export { activeBenchmarks, BENCHMARKS, LANNER_NODE, postureConfigSchema, type Benchmark, type CisBenchmark, type PostureConfig, type PosturePaths } from './config';
export { PostureEngine, type PostureEngineOptions, type PostureStats } from './evaluator';
export { postureExitCode, runPostureReport, renderPostureText, toKubeBench, type BenchmarkReport, type PostureReport, type PostureReportOptions, type KubeBenchReport } from './report';
export type { CheckResult, CheckStatus, StatusChange, ProcessInput, PostureSummary, StatusCounts, Component } from './types';
export { isAlertworthy, postureAlertPriority, postureRuleName, statusChangeToAlert } from './alerts';
export { PostureTap, type PostureTapOptions, type PostureTapStats } from './tap';
