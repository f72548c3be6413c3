/**
 * A real Prometheus scrapes the metrics server fed by fake parts; values are read back through
 * Prometheus's query API, so the exposition format, names and counter semantics are checked the
 * way a user's Prometheus sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server';
import { FakeAgent, FakeRuleset, TEST_IDENTITY } from './fake-sources';
import { prometheusUnavailable, startPrometheus, type PrometheusHandle } from './prometheus-harness';

const unavailable = prometheusUnavailable();
if (unavailable && process.env.CI !== 'true') console.warn(`skipping Prometheus scrape tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined && process.env.CI !== 'true')('Prometheus scraping the metrics server', () => {
  const agent = new FakeAgent();
  const rule = { name: 'Launch privileged container', priority: 6 as const, source: 'syscall' };
  let server: MetricsServer;
  let prom: PrometheusHandle;

  beforeAll(async () => {
    if (unavailable) throw new Error(`CI=true and Prometheus cannot run: ${unavailable}`);
    agent.ruleset = new FakeRuleset([rule, { name: 'Critical thing', priority: 2, source: 'syscall' }]);
    agent.addSink('stdout');
    server = await startMetricsServer({ listen: '127.0.0.1:0', process_metrics: true }, agent.sources(), agent.readiness(), TEST_IDENTITY);
    prom = await startPrometheus({ targets: [`127.0.0.1:${server.address.port}`], scrapeIntervalMs: 250 });
  });

  afterAll(async () => {
    await prom?.stop();
    await server?.close();
  });

  it('scrapes the target successfully', async () => {
    const targets = await prom.waitFor('up{job="lanner"}', (s) => s.length === 1 && s[0]!.value === 1);
    expect(targets[0]!.labels.instance).toBe(`127.0.0.1:${server.address.port}`);
    expect((await prom.targets())[0]!.lastError).toBe('');
  });

  it('returns the values the parts counted', async () => {
    agent.deliver('openat', 40);
    agent.deliver('connect', 2);
    agent.engine.droppedQueueFull = 3;
    agent.ruleset.match(rule.name, 4);
    agent.sinks[0]!.st.sent = 4;
    agent.histograms.eventLatency.observe(0.0001);
    agent.histograms.eventLatency.observe(0.0001);
    agent.histograms.eventLatency.observe(0.5);

    await prom.waitForValue('lanner_events_received_total{type="openat"}', (v) => v === 40);
    expect(await prom.waitForValue('sum(lanner_events_received_total)', (v) => v === 42)).toBe(42);
    expect(await prom.waitForValue('lanner_events_dropped_total{stage="engine_queue",reason="queue_full"}', (v) => v === 3)).toBe(3);
    expect(await prom.waitForValue(`lanner_rule_matches_total{rule="${rule.name}",priority="informational",source="syscall"}`, (v) => v === 4)).toBe(4);
    expect(await prom.waitForValue('lanner_output_alerts_total{sink="stdout",result="sent"}', (v) => v === 4)).toBe(4);
    // Two of three observations are ≤ 156.25 µs, so the median lies in that bucket's range.
    const median = await prom.waitForValue('histogram_quantile(0.5, lanner_event_latency_seconds_bucket)', (v) => Number.isFinite(v));
    expect(median).toBeGreaterThan(62.5e-6);
    expect(median).toBeLessThanOrEqual(156.25e-6);
    const rss = await prom.waitForValue('process_resident_memory_bytes', (v) => v > 0);
    expect(rss).toBeGreaterThan(1_000_000);
  });

  it('keeps lanner_rule_matches_total monotonic when the engine rebuilds its counters on reload', async () => {
    const before = await prom.waitForValue(`lanner_rule_matches_total{rule="${rule.name}"}`, (v) => v >= 4);
    // Matches after the last scrape still land in the old table; the reload then starts from zero.
    const retired = agent.ruleset;
    retired.match(rule.name, 3);
    agent.ruleset = new FakeRuleset([rule]);
    agent.ruleset.match(rule.name, 1);
    const after = await prom.waitForValue(`lanner_rule_matches_total{rule="${rule.name}"}`, (v) => v === before + 4);
    expect(after).toBe(before + 4);
    // Prometheus would see a reset if the exported value had gone down at any scrape.
    expect(await prom.waitForValue(`resets(lanner_rule_matches_total{rule="${rule.name}"}[1m])`, () => true)).toBe(0);
    expect(await prom.waitForValue('sum(resets(lanner_events_received_total[1m]))', () => true)).toBe(0);
  });

  it('reports readiness: lanner_ready drops to 0 and /readyz answers 503 when the probe detaches', async () => {
    await prom.waitForValue('min(lanner_ready)', (v) => v === 1);
    agent.ready.probe = false;
    const res = await fetch(`http://127.0.0.1:${server.address.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', failing: ['probe'] });
    expect(await prom.waitForValue('lanner_ready{check="probe"}', (v) => v === 0)).toBe(0);
    expect(await prom.waitForValue('lanner_ready{check="rules"}', () => true)).toBe(1);
    agent.ready.probe = true;
    expect((await fetch(`http://127.0.0.1:${server.address.port}/readyz`)).status).toBe(200);
  });
});
