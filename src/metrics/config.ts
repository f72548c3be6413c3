import { z } from 'zod';

/** `host:port` with an IPv4 address/name or a bracketed IPv6 address; port 0 asks the kernel for a free one. */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/, 'must be host:port (IPv6 in brackets: [::1]:8766)')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { message: 'port must be 0..65535' });

/** The `metrics:` section of lanner.yaml (owned by src/metrics). Defaults live in lanner.yaml only. */
export const metricsConfigSchema = z
  .object({
    /** Serve /metrics, /healthz and /readyz. */
    enabled: z.boolean(),
    listen: listenAddress,
    /** prom-client's process/Node.js series (CPU, RSS, heap, event-loop lag). */
    process_metrics: z.boolean(),
    /**
     * How often the event-loop lag monitor samples (ms). Each sample is a main-thread wakeup of its
     * own: at prom-client's 10 ms default they were most of an idle agent's CPU.
     */
    event_loop_resolution_ms: z.number().int().min(10).max(10_000),
  })
  .strict();
export type MetricsConfig = z.infer<typeof metricsConfigSchema>;

/** Splits a validated `host:port`; brackets are removed from IPv6 hosts. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  let host = listen.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(listen.slice(colon + 1)) };
}
