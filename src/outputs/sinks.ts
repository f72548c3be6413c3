/**
 * The configured sinks: what each enabled `outputs.<sink>` section builds, with its route and a
 * fingerprint of the settings the sink object itself holds. A reload compares fingerprints: a sink
 * whose fingerprint is unchanged is kept (queue, connections, file and all) even when its routing
 * changed; a changed one is replaced.
 */
import type { Logger } from 'pino';
import type { AlertSink } from './alert';
import type { OutputsConfig } from './config';
import { FileSink } from './file-sink';
import { LineFormatter, type FormatOptions } from './format';
import { GrpcSink } from './grpc-sink';
import { HttpSink } from './http-sink';
import { SinkRoute, type RoutingConfig } from './routing';
import { StdoutSink } from './stdout-sink';
import { SyslogSink } from './syslog-sink';

export const SINK_KINDS = ['stdout', 'file', 'syslog', 'http', 'grpc'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkPlan {
  readonly kind: SinkKind;
  readonly route: SinkRoute;
  /** The sink's own settings (routing excluded) and the format it writes. */
  readonly fingerprint: string;
  build(): AlertSink;
}

export interface SinkBuildDeps {
  readonly logger: Logger;
  readonly version?: string;
}

export function formatOptions(config: OutputsConfig): FormatOptions {
  const f = config.format;
  return {
    jsonOutput: f.json_output,
    includeOutput: f.json_include_output_property,
    includeMessage: f.json_include_message_property,
    includeOutputFields: f.json_include_output_fields_property,
    includeTags: f.json_include_tags_property,
    timeIso8601: f.time_format_iso_8601,
  };
}

function withoutRouting(section: RoutingConfig & Record<string, unknown>): Record<string, unknown> {
  const { min_priority: _p, include: _i, exclude: _e, ...own } = section;
  return own;
}

/** One plan per enabled sink, in a fixed order (stdout, file, syslog, http, grpc). */
export function sinkPlans(config: OutputsConfig, deps: SinkBuildDeps): SinkPlan[] {
  const format = formatOptions(config);
  // One formatter per configuration: sinks built from it share the one serialisation per alert.
  let formatter: LineFormatter | undefined;
  const lines = (): LineFormatter => (formatter ??= new LineFormatter(format));
  const sinkDeps = { logger: deps.logger };
  const plans: SinkPlan[] = [];
  const plan = (kind: SinkKind, section: RoutingConfig & Record<string, unknown>, usesFormat: boolean, build: () => AlertSink): void => {
    plans.push({ kind, route: new SinkRoute(section), fingerprint: JSON.stringify({ own: withoutRouting(section), format: usesFormat ? format : format.timeIso8601 }), build });
  };
  if (config.stdout.enabled) plan('stdout', config.stdout, true, () => new StdoutSink({ queueCapacity: config.stdout.queue_capacity }, lines(), sinkDeps));
  const f = config.file;
  if (f.enabled) {
    plan('file', f, true, () => new FileSink({ path: f.path, queueCapacity: f.queue_capacity, maxBytes: f.max_bytes, rotateIntervalMs: f.rotate_interval_s * 1000, keep: f.keep }, lines(), sinkDeps));
  }
  const s = config.syslog;
  if (s.enabled) {
    plan('syslog', s, true, () =>
      new SyslogSink(
        { transport: s.transport, path: s.path, host: s.host, port: s.port, facility: s.facility, appName: s.app_name, maxMessageBytes: s.max_message_bytes, queueCapacity: s.queue_capacity, tls: s.tls },
        lines(),
        sinkDeps,
      ),
    );
  }
  const h = config.http;
  if (h.enabled) {
    plan('http', h, true, () =>
      new HttpSink(
        {
          url: h.url,
          queueCapacity: h.queue_capacity,
          batchSize: h.batch_size,
          timeoutMs: h.timeout_ms,
          userAgent: h.user_agent,
          headers: h.headers,
          maxAttempts: h.retry.max_attempts,
          initialBackoffMs: h.retry.initial_backoff_ms,
          maxBackoffMs: h.retry.max_backoff_ms,
          tls: h.tls,
        },
        lines(),
        sinkDeps,
      ),
    );
  }
  const g = config.grpc;
  if (g.enabled) {
    plan('grpc', g, false, () =>
      new GrpcSink(
        {
          bindAddress: g.bind_address,
          subscriberQueueCapacity: g.subscriber_queue_capacity,
          backlogCapacity: g.backlog_capacity,
          maxSubscribers: g.max_subscribers,
          timeIso8601: config.format.time_format_iso_8601,
          tls: g.tls,
        },
        { logger: deps.logger, ...(deps.version === undefined ? {} : { version: deps.version }) },
      ),
    );
  }
  return plans;
}
