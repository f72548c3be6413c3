import { z } from 'zod';
import type { ProbeOptions } from './probe';

/**
 * The `probe:` section of lanner.yaml (owned by src/probe). Defaults live in lanner.yaml only.
 * Superset of the inline schema in src/config.ts; the lead can switch to this one.
 */
export const probeConfigSchema = z
  .object({
    ring_buffer_bytes: z.number().int().min(4096).max(1 << 30),
    batch_bytes: z.number().int().min(65536),
    drain_interval_ms: z.number().int().min(1).max(1000),
    drain_max_latency_ms: z.number().int().min(1).max(1000),
    drain_gather_min_rate: z.number().int().min(0).max(100_000_000),
    max_string_bytes: z.number().int().min(64).max(4096),
    max_argv_bytes: z.number().int().min(64).max(16384),
    drop_failed_syscalls: z.boolean(),
    close_tracked_only: z.boolean().optional(),
    enter_hooks: z.boolean().optional(),
    wakeup_fraction: z.number().gt(0).lt(1).optional(),
    adaptive_wakeup: z.boolean(),
    wakeup_gap_ms: z.number().int().min(1).max(1000),
    pressure_fraction: z.number().min(0).lt(1).optional(),
    open_path_filter: z.boolean(),
    resolve_aliases: z.boolean(),
  })
  .strict();

export type ProbeConfig = z.infer<typeof probeConfigSchema>;

export function probeOptionsFromConfig(c: ProbeConfig): ProbeOptions {
  return {
    ringBytes: c.ring_buffer_bytes,
    batchBytes: c.batch_bytes,
    drainIntervalMs: c.drain_interval_ms,
    drainMaxLatencyMs: c.drain_max_latency_ms,
    drainGatherMinRate: c.drain_gather_min_rate,
    maxStringBytes: c.max_string_bytes,
    maxArgvBytes: c.max_argv_bytes,
    dropFailedSyscalls: c.drop_failed_syscalls,
    closeTrackedOnly: c.close_tracked_only,
    enterHooks: c.enter_hooks,
    wakeupFraction: c.wakeup_fraction,
    adaptiveWakeup: c.adaptive_wakeup,
    wakeupGapMs: c.wakeup_gap_ms,
    pressureFraction: c.pressure_fraction,
  };
}
