/** The k8s_audit source's series: events by input, bad input by kind, receiving, and its rule matches. */
import { describe, expect, it } from 'vitest';
import { createLannerRegistry } from '../../src/metrics/registry';
import type { AuditSourceMetrics } from '../../src/metrics/sources';
import { bindingToClusterAdmin, execIntoPod } from './events';
import { auditConfig, stockSource, tempDir } from './helpers';

describe('k8s audit metrics', () => {
  it('exports what the source counted, its rule matches under source k8s_audit', async () => {
    const t = stockSource(auditConfig(tempDir()));
    t.source.ingest(JSON.stringify(execIntoPod()), 'file');
    t.source.ingest(JSON.stringify(bindingToClusterAdmin()), 'webhook');
    t.source.ingest('{oops', 'file');
    const audit = (): AuditSourceMetrics => t.source.metricsStats();
    const registry = createLannerRegistry({ audit }, { version: 't', commit: '', probe: 'none', hostname: 'cp-1' }, { probe: () => true, rules: () => true, outputs: () => true }, { processMetrics: false });
    const text = await registry.metrics();
    expect(text).toContain('lanner_audit_events_total{input="file"} 1');
    expect(text).toContain('lanner_audit_events_total{input="webhook"} 1');
    expect(text).toContain('lanner_audit_bad_input_total{kind="malformed_json"} 1');
    expect(text).toContain('lanner_audit_bad_input_total{kind="too_large"} 0');
    expect(text).toContain('lanner_audit_receiving 1');
    expect(text).toContain('lanner_rule_matches_total{rule="Attach/Exec Pod",priority="notice",source="k8s_audit"} 1');
    expect(text).toContain('lanner_rule_matches_total{rule="Attach to cluster-admin Role",priority="warning",source="k8s_audit"} 1');
    expect(text).toMatch(/lanner_audit_last_event_timestamp_seconds \d{10}/);
  });
});
