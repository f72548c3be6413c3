import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert, AlertSink, SinkStats } from '../../src/outputs/alert';
import { FALCO_DEFAULT_FORMAT, formatJson } from '../../src/outputs/format';
import { createOutputs, Outputs, SUPPRESSED_SUMMARY_RULE, type SuppressionPolicy } from '../../src/outputs/index';
import {makeAlert, silentLogger } from './helpers';
import { sampleOutputsConfig } from './sample-config';
import { expectSidekickAccepts } from './sidekick-validator';
import { freeLoopbackPort } from '../support/net';

class MemorySink implements AlertSink {
  readonly alerts: Alert[] = [];
  readonly healthy = true;
  closedWith: number | undefined;
  constructor(readonly name = 'memory') {}
  offer(a: Alert): boolean {
    this.alerts.push(a);
    return true;
  }
  stats(): SinkStats {
    return { sent: this.alerts.length, failed: 0, dropped: 0, queueDepth: 0, queueCapacity: 1 };
  }
  async close(deadlineMs: number): Promise<void> {
    this.closedWith = deadlineMs;
  }
}

function policy(over: Partial<SuppressionPolicy> = {}): SuppressionPolicy {
  return {
    rateLimit: { enabled: false, rate: 1, burst: 3, maxRules: 100 },
    dedup: { enabled: false, windowMs: 10_000, maxEntries: 1_000 },
    summaryIntervalMs: 60_000,
    summaryPriority: 7,
    ...over,
  };
}

function setup(p: SuppressionPolicy): { outputs: Outputs; sink: MemorySink; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const sink = new MemorySink();
  const outputs = new Outputs([sink], p, { logger: silentLogger, hostname: 'node-1', now: () => clock.now });
  return { outputs, sink, clock };
}

describe('Outputs fan-out', () => {
  it('rate limits per rule with a token bucket (rate + burst), independently per rule', async () => {
    const { outputs, sink, clock } = setup(policy({ rateLimit: { enabled: true, rate: 2, burst: 3, maxRules: 100 } }));
    const results = Array.from({ length: 10 }, () => outputs.publish(makeAlert({ rule: 'A' })));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(outputs.publish(makeAlert({ rule: 'B' }))).toBe(true);
    clock.now += 500; // one token back at 2/s
    expect(outputs.publish(makeAlert({ rule: 'A' }))).toBe(true);
    expect(outputs.publish(makeAlert({ rule: 'A' }))).toBe(false);
    clock.now += 10_000; // refills to the burst, not beyond
    expect(Array.from({ length: 5 }, () => outputs.publish(makeAlert({ rule: 'A' }))).filter(Boolean)).toHaveLength(3);
    expect(sink.alerts.map((a) => a.rule)).toEqual(['A', 'A', 'A', 'B', 'A', 'A', 'A', 'A']);
    expect(outputs.stats()).toMatchObject({ published: 18, rateLimited: 10, deduplicated: 0 });
    await outputs.close(10);
  });

  it('de-duplicates same rule + same message within the window only', async () => {
    const { outputs, sink, clock } = setup(policy({ dedup: { enabled: true, windowMs: 5_000, maxEntries: 1_000 } }));
    const same = (): Alert => makeAlert({ rule: 'R', message: 'same text' });
    expect(outputs.publish(same())).toBe(true);
    expect(outputs.publish(same())).toBe(false);
    expect(outputs.publish(makeAlert({ rule: 'R', message: 'other text' }))).toBe(true);
    expect(outputs.publish(makeAlert({ rule: 'R2', message: 'same text' }))).toBe(true);
    clock.now += 4_999;
    expect(outputs.publish(same())).toBe(false);
    clock.now += 1;
    expect(outputs.publish(same())).toBe(true);
    expect(sink.alerts).toHaveLength(4);
    expect(outputs.stats().deduplicated).toBe(2);
    await outputs.close(10);
  });

  it('bounds the dedup table: the oldest entry is forgotten first', async () => {
    const { outputs } = setup(policy({ dedup: { enabled: true, windowMs: 60_000, maxEntries: 2 } }));
    for (const m of ['m1', 'm2', 'm3']) outputs.publish(makeAlert({ rule: 'R', message: m }));
    expect(outputs.publish(makeAlert({ rule: 'R', message: 'm1' }))).toBe(true); // evicted, so new again
    expect(outputs.publish(makeAlert({ rule: 'R', message: 'm3' }))).toBe(false);
    await outputs.close(10);
  });

  it('summarises suppressed alerts in one internal alert per interval, and none when nothing was suppressed', async () => {
    const { outputs, sink, clock } = setup(policy({ rateLimit: { enabled: true, rate: 1, burst: 1, maxRules: 100 }, dedup: { enabled: true, windowMs: 1_000, maxEntries: 100 } }));
    for (let i = 0; i < 5; i++) outputs.publish(makeAlert({ rule: 'noisy', message: `n${i}` }));
    outputs.publish(makeAlert({ rule: 'dup', message: 'x' }));
    outputs.publish(makeAlert({ rule: 'dup', message: 'x' }));
    clock.now += 30_000;
    const summary = outputs.emitSummary()!;
    expect(summary).toBeDefined();
    expect(sink.alerts.at(-1)).toBe(summary);
    expect(summary.rule).toBe(SUPPRESSED_SUMMARY_RULE);
    expect(summary.source).toBe('internal');
    expect(summary.priority).toBe(7);
    expect(summary.outputFields).toMatchObject({ suppressed: '5', rate_limited: '4', deduplicated: '1', interval_s: '30', rules: '2' });
    expect(summary.outputFields.top_rules).toBe('noisy=4; dup=1');
    for (const v of Object.values(summary.outputFields)) expect(typeof v).toBe('string');
    expectSidekickAccepts(formatJson(summary, FALCO_DEFAULT_FORMAT));
    expect(outputs.emitSummary()).toBeUndefined();
    expect(outputs.stats().internal).toBe(1);
    await outputs.close(10);
  });

  it('publish stays cheap and O(1) per alert with limits on: 100k alerts across 1k rules', async () => {
    const { outputs, sink } = setup(policy({ rateLimit: { enabled: true, rate: 10, burst: 10, maxRules: 10_000 }, dedup: { enabled: true, windowMs: 1_000, maxEntries: 10_000 } }));
    const alerts = Array.from({ length: 100_000 }, (_, i) => makeAlert({ rule: `rule-${i % 1000}`, message: `m${i % 5000}` }));
    for (const a of alerts) outputs.publish(a);
    const s = outputs.stats();
    expect(s.published).toBe(100_000);
    expect(sink.alerts.length + s.rateLimited + s.deduplicated).toBe(100_000);
    expect(sink.alerts.length).toBe(5_000); // 5 distinct messages per rule pass dedup, within the burst of 10
    await outputs.close(10);
  });

  it('close() emits the last summary, then closes every sink with the deadline', async () => {
    const { outputs, sink } = setup(policy({ rateLimit: { enabled: true, rate: 1, burst: 1, maxRules: 10 } }));
    outputs.publish(makeAlert({ rule: 'A' }));
    outputs.publish(makeAlert({ rule: 'A' }));
    await outputs.close(1234);
    expect(sink.alerts.at(-1)!.rule).toBe(SUPPRESSED_SUMMARY_RULE);
    expect(sink.closedWith).toBe(1234);
    expect(outputs.publish(makeAlert())).toBe(false);
  });

  it('createOutputs wires configured sinks; each sink drops on its own, others unaffected; close flushes within the deadline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-outputs-'));
    try {
      const deadPort = await freeLoopbackPort();
      const config = sampleOutputsConfig();
      config.stdout.enabled = false;
      config.rate_limit.enabled = false;
      config.file = { ...config.file, enabled: true, path: join(dir, 'alerts.json'), queue_capacity: 5_000 };
      config.http = { ...config.http, enabled: true, url: `http://127.0.0.1:${deadPort}/`, queue_capacity: 10, timeout_ms: 100 };
      const extra = new MemorySink('extra');
      const outputs = createOutputs(config, { logger: silentLogger, hostname: 'node-1', extraSinks: [extra] });
      await outputs.start();
      for (let i = 0; i < 1_000; i++) outputs.publish(makeAlert());
      const before = outputs.stats();
      expect(Object.keys(before.sinks).sort()).toEqual(['extra', 'file', 'http']);
      expect(before.sinks.http).toMatchObject({ dropped: 990, queueDepth: 10, queueCapacity: 10 });
      expect(before.sinks.file!.dropped).toBe(0);
      const t0 = Date.now();
      await outputs.close(500);
      expect(Date.now() - t0).toBeLessThan(3_000);
      const after = outputs.stats().sinks;
      expect(after.http).toMatchObject({ sent: 0, failed: 10, queueDepth: 0 });
      expect(after.file).toMatchObject({ sent: 1_000, queueDepth: 0 });
      const lines = readFileSync(join(dir, 'alerts.json'), 'utf8').split('\n').filter(Boolean);
      expect(lines).toHaveLength(1_000);
      for (const l of lines.slice(0, 20)) expectSidekickAccepts(l);
      expect(extra.alerts).toHaveLength(1_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
