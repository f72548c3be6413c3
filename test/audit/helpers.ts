import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AuditConfig } from '../../src/audit/config';
import { createAuditSource, type AuditSource } from '../../src/audit/source';
import type { Logger } from '../../src/log';
import type { Alert } from '../../src/outputs/alert';
import { loadRules, type CompiledRuleset } from '../../src/rules/ruleset';
import { STOCK_K8S_AUDIT } from '../support/stock-rules';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

/** A pino logger whose lines land in `lines` (parsed). */
export function captureLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

export function tempDir(prefix = 'lanner-audit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The packaged defaults with the follower off (tests turn on what they use). */
export function auditConfig(dir: string, patch: { file?: Partial<AuditConfig['file']>; webhook?: Partial<AuditConfig['webhook']>; max_event_bytes?: number } = {}): AuditConfig {
  return {
    enabled: true,
    max_event_bytes: patch.max_event_bytes ?? 262144,
    bad_input_log_interval_s: 60,
    file: { enabled: false, path: join(dir, 'audit.log'), state_file: join(dir, 'state', 'audit-log.state'), start_at: 'beginning', poll_interval_ms: 20, read_chunk_bytes: 1 << 20, ...patch.file },
    webhook: {
      enabled: false,
      listen: '127.0.0.1:0',
      path: '/k8s-audit',
      max_request_bytes: 1 << 20,
      tls: { cert_file: '', key_file: '', ca_file: '', require_client_cert: false },
      ...patch.webhook,
    },
  };
}

let stock: CompiledRuleset | undefined;
/** Falco's k8s_audit_rules.yaml, compiled once per test file. */
export function stockAuditRules(): CompiledRuleset {
  stock ??= loadRules([STOCK_K8S_AUDIT]);
  return stock;
}

export interface TestSource {
  readonly source: AuditSource;
  readonly alerts: Alert[];
  readonly log: Logger;
  readonly lines: LogLine[];
  /** Names of the rules that fired, in order. */
  fired(): string[];
}

/** A source over the stock rules that collects its alerts; `all` reports every matching rule. */
export function stockSource(config: AuditConfig, matching: 'first' | 'all' = 'all', rules: CompiledRuleset = stockAuditRules()): TestSource {
  const alerts: Alert[] = [];
  const { log, lines } = captureLogger();
  const source = createAuditSource(config, { log, hostname: 'cp-1', matching, onAlert: (a) => void alerts.push(a) });
  source.setRuleset(rules);
  return { source, alerts, log, lines, fired: () => alerts.map((a) => a.rule) };
}
