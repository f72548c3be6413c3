import { z } from 'zod';

/** `host:port`; IPv6 in brackets; port 0 asks the kernel for a free one. */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/, 'must be host:port (IPv6 in brackets: [::]:9765)')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { message: 'port must be 0..65535' });

/** The `audit:` section of lanner.yaml (owned by src/audit). Defaults live in lanner.yaml only. */
export const auditConfigSchema = z
  .object({
    /** Run the k8s_audit source at all (its rules still load and validate when off). */
    enabled: z.boolean(),
    /** A single audit event larger than this (serialized JSON) is counted and skipped. */
    max_event_bytes: z.number().int().min(1024).max(64 * 1024 * 1024),
    /** Bad input is logged once per kind, then at most once per kind per this many seconds. */
    bad_input_log_interval_s: z.number().positive(),
    file: z
      .object({
        enabled: z.boolean(),
        /** The audit log to follow; empty: the running kube-apiserver's --audit-log-path. */
        path: z.string(),
        /** Where the follower keeps the file identity and offset it reached (rewritten atomically). */
        state_file: z.string().min(1),
        /** With no saved offset: start at the end of the file (new events only) or at its beginning. */
        start_at: z.enum(['end', 'beginning']),
        poll_interval_ms: z.number().int().min(10).max(60_000),
        /** At most this many bytes are read per poll before yielding to the event loop. */
        read_chunk_bytes: z.number().int().min(4096).max(64 * 1024 * 1024),
      })
      .strict(),
    webhook: z
      .object({
        enabled: z.boolean(),
        listen: listenAddress,
        /** The URL path the API server's webhook kubeconfig points at. */
        path: z.string().regex(/^\/\S*$/, 'must start with /'),
        /** Bodies larger than this are refused with 413 (the API server batches up to 10 MiB by default). */
        max_request_bytes: z.number().int().min(1024).max(256 * 1024 * 1024),
        tls: z
          .object({ cert_file: z.string(), key_file: z.string(), ca_file: z.string(), require_client_cert: z.boolean() })
          .strict()
          .refine((t) => !t.require_client_cert || t.ca_file !== '', { message: 'require_client_cert needs ca_file' }),
      })
      .strict()
      .refine((w) => !w.enabled || (w.tls.cert_file !== '' && w.tls.key_file !== ''), {
        message: 'the webhook serves HTTPS only: set tls.cert_file and tls.key_file',
        path: ['tls'],
      }),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditConfigSchema>;
