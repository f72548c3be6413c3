import { z } from 'zod';

/**
 * The `capture:` section of lanner.yaml: Falco's rule-triggered captures (`enabled`,
 * `path_prefix`, `mode`, `default_duration`, `max_file_size_mb`, as in falco.yaml 0.42+) and
 * Lanner's own bounds (the window before the match, the file count and disk use). Defaults live in
 * lanner.yaml only.
 */
export const captureConfigSchema = z
  .object({
    enabled: z.boolean(),
    /** Directory and file name start: files are `<path_prefix>_<match time ns>_<n>.cap`. */
    path_prefix: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/') && !p.endsWith('/'), { message: 'must be an absolute path naming a file prefix (not ending in /)' }),
    /** rules: only rules with `capture: true`; all_rules: every enabled syscall rule. */
    mode: z.enum(['rules', 'all_rules']),
    /** Milliseconds of events after the match, for rules without `capture_duration`. */
    default_duration: z.number().int().min(1).max(3_600_000),
    /** Milliseconds of events before the match, kept in memory while a loaded rule wants captures. */
    pre_duration: z.number().int().min(0).max(600_000),
    /** Memory for the events before a match (a second bound on pre_duration). */
    ring_bytes: z.number().int().min(1 << 16).max(1 << 30),
    /** Hard cap on one capture file; a capture that reaches it stops there. */
    max_file_size_mb: z.number().gt(0).max(4096),
    /** Capture files kept under path_prefix, those of earlier runs included. */
    max_files: z.number().int().min(1).max(100_000),
    /** Disk used by those files together. */
    max_total_size_mb: z.number().gt(0).max(1 << 20),
    /** When a new capture would pass max_files or max_total_size_mb. */
    when_full: z.enum(['delete_oldest', 'refuse']),
  })
  .strict()
  .refine((c) => c.max_total_size_mb >= c.max_file_size_mb, { message: 'max_total_size_mb must be at least max_file_size_mb', path: ['max_total_size_mb'] });

export type CaptureConfig = z.infer<typeof captureConfigSchema>;

const MB = 1 << 20;

/** Bytes of a `*_mb` setting (fractions allowed, so tests and small nodes can use small files). */
export function megabytes(mb: number): number {
  return Math.floor(mb * MB);
}
