import { RE2JS } from 're2js';
import { z } from 'zod';
import { SYSLOG_FACILITIES } from './syslog-facilities';

/** The `outputs:` section of lanner.yaml (owned by src/outputs). Defaults live in lanner.yaml only. */

const queueCapacity = z.number().int().min(1).max(10_000_000);

export const PRIORITY_KEYWORDS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'info', 'debug'] as const;
/** A priority name as rules and `priority:` spell it, case-insensitive. */
export const priorityName = z
  .string()
  .refine((s) => (PRIORITY_KEYWORDS as readonly string[]).includes(s.toLowerCase()), {
    message: 'must be one of emergency, alert, critical, error, warning, notice, informational (info), debug',
  });

const names = z.array(z.string().min(1));
const alertSelector = z.object({ rules: names, tags: names, sources: names }).strict();
/**
 * Which alerts a sink takes (routing.ts): at least `min_priority`, matching every non-empty
 * `include` list and no `exclude` entry.
 */
const routing = { min_priority: priorityName, include: alertSelector, exclude: alertSelector };
const port = z.number().int().min(1).max(65535);

const clientTls = z
  .object({
    ca_file: z.string(),
    cert_file: z.string(),
    key_file: z.string(),
    insecure: z.boolean(),
  })
  .strict()
  .refine((t) => (t.cert_file === '') === (t.key_file === ''), { message: 'cert_file and key_file go together' });

const formatSection = z
  .object({
    json_output: z.boolean(),
    json_include_output_property: z.boolean(),
    json_include_message_property: z.boolean(),
    json_include_output_fields_property: z.boolean(),
    json_include_tags_property: z.boolean(),
    time_format_iso_8601: z.boolean(),
  })
  .strict();

const stdoutSection = z.object({ enabled: z.boolean(), queue_capacity: queueCapacity, ...routing }).strict();

const fileSection = z
  .object({
    enabled: z.boolean(),
    path: z.string().min(1),
    queue_capacity: queueCapacity,
    max_bytes: z.number().int().min(0),
    rotate_interval_s: z.number().min(0),
    keep: z.number().int().min(0).max(1000),
    ...routing,
  })
  .strict();

const syslogSection = z
  .object({
    enabled: z.boolean(),
    transport: z.enum(['unix', 'udp', 'tcp', 'tls']),
    path: z.string().min(1),
    host: z.string().min(1),
    port,
    facility: z.enum(Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES, ...(keyof typeof SYSLOG_FACILITIES)[]]),
    app_name: z.string().min(1).max(48),
    max_message_bytes: z.number().int().min(480).max(65000),
    queue_capacity: queueCapacity,
    tls: clientTls,
    ...routing,
  })
  .strict();

const httpSection = z
  .object({
    enabled: z.boolean(),
    url: z.string(),
    queue_capacity: queueCapacity,
    batch_size: z.number().int().min(1).max(10_000),
    timeout_ms: z.number().int().min(1),
    user_agent: z.string(),
    headers: z.record(z.string()),
    retry: z
      .object({
        max_attempts: z.number().int().min(0),
        initial_backoff_ms: z.number().int().min(1),
        max_backoff_ms: z.number().int().min(1),
      })
      .strict(),
    tls: clientTls,
    ...routing,
  })
  .strict()
  .refine((h) => !h.enabled || /^https?:\/\/./.test(h.url), { message: 'url must be an http:// or https:// URL when enabled', path: ['url'] });

const grpcSection = z
  .object({
    enabled: z.boolean(),
    bind_address: z.string().regex(/^(unix:\/\/\/.+|(\[[0-9a-fA-F:]+\]|[^:\s/]+):\d{1,5})$/, 'must be unix:///path or host:port'),
    subscriber_queue_capacity: queueCapacity,
    backlog_capacity: queueCapacity,
    max_subscribers: z.number().int().min(1),
    tls: z
      .object({ cert_file: z.string(), key_file: z.string(), ca_file: z.string(), require_client_cert: z.boolean() })
      .strict()
      .refine((t) => (t.cert_file === '') === (t.key_file === ''), { message: 'cert_file and key_file go together' })
      .refine((t) => !t.require_client_cert || t.ca_file !== '', { message: 'require_client_cert needs ca_file' }),
    ...routing,
  })
  .strict();

export const outputsConfigSchema = z
  .object({
    format: formatSection,
    rate_limit: z.object({ enabled: z.boolean(), rate: z.number().positive(), burst: z.number().min(1), max_rules: z.number().int().min(1) }).strict(),
    dedup: z.object({ enabled: z.boolean(), window_s: z.number().positive(), max_entries: z.number().int().min(1) }).strict(),
    summary: z.object({ interval_s: z.number().positive(), priority: z.enum(['debug', 'informational', 'notice', 'warning']) }).strict(),
    shutdown_deadline_ms: z.number().int().min(0),
    stdout: stdoutSection,
    file: fileSection,
    syslog: syslogSection,
    http: httpSection,
    grpc: grpcSection,
  })
  .strict();
export type OutputsConfig = z.infer<typeof outputsConfigSchema>;

/** `append_output:` (Falco's shape): extra output text and fields for the rules an entry matches. */
export const appendOutputSchema = z.array(
  z
    .object({
      match: z.object({ rule: z.string().min(1), source: z.string().min(1), tags: names }).partial().strict().optional(),
      extra_output: z.string().optional(),
      // A field name (`evt.hostname`), or one `name: format` pair whose format may hold %fields.
      extra_fields: z.array(z.union([z.string().min(1), z.record(z.string()).refine((m) => Object.keys(m).length === 1, { message: 'one name: format pair per item' })])).optional(),
      // Falco's switch for plugin-suggested fields; Lanner's equivalent is engine.append_container_fields.
      suggested_output: z.boolean().optional(),
    })
    .strict(),
);
export type AppendOutputConfig = z.infer<typeof appendOutputSchema>;

/** `static_fields:` (Falco's name): name → value added to every alert's output_fields as `static.<name>`. */
export const staticFieldsSchema = z.record(z.union([z.string(), z.number(), z.boolean()]));
export type StaticFieldsConfig = z.infer<typeof staticFieldsSchema>;

/** `redaction:` masks secret-looking values in alerts (redaction.ts); user patterns are RE2. */
export const redactionSchema = z
  .object({
    enabled: z.boolean(),
    patterns: z.array(
      z.string().superRefine((p, ctx) => {
        const problem = re2Problem(p);
        if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not an RE2 pattern: ${problem}` });
      }),
    ),
  })
  .strict();
export type RedactionConfig = z.infer<typeof redactionSchema>;

function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
