import { z } from 'zod';

/** The `metrics:` section of lanner.yaml (owned by src/metrics). Defaults live in lanner.yaml only. */
export const metricsConfigSchema = z.object({}).passthrough();
export type MetricsConfig = z.infer<typeof metricsConfigSchema>;
