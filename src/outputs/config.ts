import { z } from 'zod';
import { SYSLOG_FACILITIES } from './syslog-facilities';

/** The `outputs:` section of lanner.yaml (owned by src/outputs). Defaults live in lanner.yaml only. */

const queueCapacity = z.number().int().min(1).max(10_000_000);
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

const stdoutSection = z.object({ enabled: z.boolean(), queue_capacity: queueCapacity }).strict();

const fileSection = z
  .object({
    enabled: z.boolean(),
    path: z.string().min(1),
    queue_capacity: queueCapacity,
    max_bytes: z.number().int().min(0),
    rotate_interval_s: z.number().min(0),
    keep: z.number().int().min(0).max(1000),
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
