/**
 * The k8s_audit event source: the audit log follower and/or the webhook, decoding into audit
 * events that the k8s_audit rules of the loaded ruleset evaluate, alerts going wherever the
 * agent's syscall alerts go. One object for the agent to build, start, feed rulesets and stop.
 */
import type { AuditSourceMetrics } from '../metrics/sources';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { Alert } from '../outputs/alert';
import type { CompiledRuleset } from '../rules/ruleset';
import { findApiserverAuditLog } from './apiserver';
import { BadInputCounter, type InputName } from './bad-input';
import type { AuditConfig } from './config';
import { AuditRuleEvaluator, type AuditEvaluatorStats, type AuditRuleMatches, type RuleMatching } from './evaluator';
import { decodeAuditJson, type AuditEvent, type BadInputKind, type DecodeSink } from './event';
import { AuditLogFollower, type FollowerStats } from './file-follower';
import { AuditWebhook, type WebhookOptions, type WebhookStats } from './webhook';

export interface AuditSourceDeps {
  readonly log: Logger;
  readonly hostname: string;
  readonly matching: RuleMatching;
  /** Where alerts go (the agent's `outputs.publish`, so per-rule rate limits apply). */
  readonly onAlert: (alert: Alert) => void;
  /** /proc, for finding the API server (tests point it elsewhere). */
  readonly procRoot?: string;
  readonly now?: () => number;
}

/** `off`: disabled; `waiting`: no input yet (no audit log found, no webhook request); `receiving`: an event within `RECEIVING_WINDOW_S`; `idle`: inputs up, no recent event. */
export type AuditSourceState = 'off' | 'waiting' | 'idle' | 'receiving';

export interface AuditSourceStatus {
  readonly state: AuditSourceState;
  /** The audit log followed, if any. */
  readonly file: string | undefined;
  /** The webhook's address, if it listens. */
  readonly webhook: string | undefined;
  /** Unix seconds of the last event received, 0 before the first. */
  readonly lastEventUnixSeconds: number;
}

export interface AuditSourceStats {
  readonly eventsByInput: Readonly<Record<InputName, number>>;
  readonly badInput: Readonly<Record<BadInputKind, number>>;
  readonly lastEventUnixSeconds: number;
  readonly evaluator: AuditEvaluatorStats;
  readonly file: FollowerStats | undefined;
  readonly webhook: WebhookStats | undefined;
}

/** "Receiving" means an event arrived within this many seconds. */
export const RECEIVING_WINDOW_S = 300;
/** How often /proc is scanned for the API server while no audit log is known. */
const DISCOVERY_INTERVAL_MS = 10_000;

export interface AuditSource {
  /** Starts the inputs; rejects when the webhook cannot listen (bad TLS files, port in use). */
  start(): Promise<void>;
  /** Stops the inputs; the follower saves its position. */
  stop(): Promise<void>;
  /** After every applied rules load: takes the ruleset's k8s_audit rules. */
  setRuleset(rs: CompiledRuleset): void;
  status(): AuditSourceStatus;
  stats(): AuditSourceStats;
  /** Per-rule match counts (source `k8s_audit`), cumulative across reloads. */
  ruleMatches(): AuditRuleMatches[];
  /** What the metrics part reads (src/metrics/sources.ts `AuditSourceMetrics`). */
  /** What /metrics exports for this source (the metrics part's own shape). */
  metricsStats(): AuditSourceMetrics;
  /** Feeds one JSON text as if read from the given input (tests, benchmarks). */
  ingest(text: string, input: InputName): number;
}

export function createAuditSource(config: AuditConfig, deps: AuditSourceDeps): AuditSource {
  const now = deps.now ?? Date.now;
  const evaluator = new AuditRuleEvaluator({ onAlert: deps.onAlert, hostname: deps.hostname, matching: deps.matching });
  const bad = new BadInputCounter(deps.log, config.bad_input_log_interval_s * 1000, now);
  const events: Record<InputName, number> = { file: 0, webhook: 0 };
  let lastEventMs = 0;

  const sinks: Record<InputName, DecodeSink> = {
    file: {
      event: (ev: AuditEvent) => {
        events.file++;
        evaluator.evaluate(ev);
      },
      bad: (kind, detail) => bad.note(kind, 'file', detail),
    },
    webhook: {
      event: (ev: AuditEvent) => {
        events.webhook++;
        evaluator.evaluate(ev);
      },
      bad: (kind, detail) => bad.note(kind, 'webhook', detail),
    },
  };
  const ingest = (text: string, input: InputName): number => {
    const n = decodeAuditJson(text, config.max_event_bytes, sinks[input]);
    if (n > 0) lastEventMs = now();
    return n;
  };

  let discovered: string | undefined;
  let nextDiscoveryMs = 0;
  const resolvePath = (): string | undefined => {
    if (config.file.path !== '') return config.file.path;
    // Reached through /proc/<pid>/root: stale once that API server is gone.
    const procRoot = deps.procRoot ?? '/proc';
    const pid = discovered?.startsWith(`${procRoot}/`) ? /^(\d+)\/root\//.exec(discovered.slice(procRoot.length + 1))?.[1] : undefined;
    if (pid !== undefined && !existsSync(join(procRoot, pid))) discovered = undefined;
    if (discovered === undefined && now() >= nextDiscoveryMs) {
      nextDiscoveryMs = now() + DISCOVERY_INTERVAL_MS;
      const found = findApiserverAuditLog(procRoot);
      if (found) {
        discovered = found.path;
        deps.log.info({ pid: found.pid, flag: found.flagValue, path: found.path }, 'k8s audit log found from the running kube-apiserver (--audit-log-path)');
      }
    }
    return discovered;
  };

  const follower =
    config.enabled && config.file.enabled
      ? new AuditLogFollower({
          resolvePath,
          stateFile: config.file.state_file,
          startAt: config.file.start_at,
          readChunkBytes: config.file.read_chunk_bytes,
          maxLineBytes: config.max_event_bytes,
          onLine: (line) => {
            // With no k8s_audit rule loaded the lines are only counted: nothing would read them.
            if (evaluator.hasRules) ingest(line, 'file');
            else {
              events.file++;
              lastEventMs = now();
            }
          },
          onBad: (kind, detail) => bad.note(kind, 'file', detail),
          log: deps.log,
          now,
        })
      : undefined;

  let webhook: AuditWebhook | undefined;
  const webhookOptions = (): WebhookOptions => {
    const w = config.webhook;
    const colon = w.listen.lastIndexOf(':');
    const host = w.listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    return {
      host,
      port: Number(w.listen.slice(colon + 1)),
      path: w.path,
      maxRequestBytes: w.max_request_bytes,
      tls: w.tls,
      onBody: (text) => ingest(text, 'webhook') > 0,
      onBad: (kind, detail) => bad.note(kind, 'webhook', detail),
      log: deps.log,
    };
  };

  const status = (): AuditSourceStatus => {
    const file = follower?.stats();
    const address = webhook?.address;
    const last = lastEventMs;
    let state: AuditSourceState;
    if (!config.enabled) state = 'off';
    else if (last > 0 && now() - last <= RECEIVING_WINDOW_S * 1000) state = 'receiving';
    else if (last > 0 || file?.open === true) state = 'idle';
    else state = 'waiting';
    return {
      state,
      file: follower === undefined ? undefined : (file?.path ?? (config.file.path || discovered)),
      webhook: address ? `${address.host}:${address.port}` : undefined,
      lastEventUnixSeconds: last / 1000,
    };
  };

  return {
    async start() {
      if (!config.enabled) return;
      if (config.webhook.enabled) {
        webhook = new AuditWebhook(webhookOptions());
        await webhook.start();
      }
      follower?.start(config.file.poll_interval_ms);
    },
    async stop() {
      follower?.stop();
      await webhook?.close();
    },
    setRuleset(rs) {
      evaluator.setRuleset(rs);
    },
    status,
    stats() {
      return {
        eventsByInput: { ...events },
        badInput: bad.byKind(),
        lastEventUnixSeconds: lastEventMs / 1000,
        evaluator: evaluator.stats(),
        file: follower?.stats(),
        webhook: webhook?.stats(),
      };
    },
    ruleMatches: () => evaluator.ruleMatches(),
    metricsStats: () => ({
      eventsByInput: { ...events },
      badInput: bad.byKind(),
      lastEventUnixSeconds: lastEventMs / 1000,
      receiving: status().state === 'receiving',
      ruleMatches: evaluator.ruleMatches(),
    }),
    ingest,
  };
}
