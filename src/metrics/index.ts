export { metricsConfigSchema, parseListenAddress, type MetricsConfig } from './config';
export { BucketHistogram, LATENCY_BUCKETS_SECONDS, createPipelineHistograms, geometricBuckets } from './histogram';
export { RuleMatchFeed, TotalsFeed } from './monotonic';
export { READINESS_CHECKS, createLannerRegistry, failingReadinessChecks, type LannerRegistryOptions } from './registry';
export { MetricsListenError, startMetricsServer, type MetricsServer } from './server';
export type {
  AuditSourceMetrics,
  BpfProgramStats,
  CaptureMetrics,
  EngineStats,
  MetricsIdentity,
  MetricsSources,
  PostureCount,
  PostureStatus,
  ReadinessChecks,
  RuleIdentity,
  RuleMatchTable,
  RuleMatchTotal,
  RulesInfo,
  SinkStatsSource,
  KernelFilterInfo,
  PathFilterTypeInfo,
} from './sources';
export { POSTURE_STATUSES } from './sources';
