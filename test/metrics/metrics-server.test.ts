import { afterEach, describe, expect, it } from 'vitest';
import { metricsConfigSchema, parseListenAddress } from '../../src/metrics/config';
import { BucketHistogram, LATENCY_BUCKETS_SECONDS, geometricBuckets } from '../../src/metrics/histogram';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server';
import type { MetricsSources } from '../../src/metrics/sources';
import { FakeAgent, FakeRuleset, TEST_IDENTITY } from './fake-sources';
import { parseExposition, valueOf } from './exposition';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(agent: FakeAgent, sources: MetricsSources = agent.sources(), processMetrics = false): Promise<{ base: string; server: MetricsServer }> {
  const server = await startMetricsServer({ listen: '127.0.0.1:0', process_metrics: processMetrics }, sources, agent.readiness(), TEST_IDENTITY);
  servers.push(server);
  return { base: `http://127.0.0.1:${server.address.port}`, server };
}

async function scrape(base: string): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

describe('metrics config', () => {
  it('accepts host:port forms and rejects the rest', () => {
    const ok = (listen: string) => metricsConfigSchema.safeParse({ enabled: true, listen, process_metrics: true, event_loop_resolution_ms: 250 }).success;
    expect(ok('127.0.0.1:8766')).toBe(true);
    expect(ok('0.0.0.0:0')).toBe(true);
    expect(ok('[::1]:8766')).toBe(true);
    expect(ok('localhost:8766')).toBe(true);
    expect(ok('8766')).toBe(false);
    expect(ok('::1:8766')).toBe(false);
    expect(ok('127.0.0.1:70000')).toBe(false);
    expect(metricsConfigSchema.safeParse({ enabled: true, listen: '127.0.0.1:1', process_metrics: true, event_loop_resolution_ms: 250, extra: 1 }).success).toBe(false);
    // Below 10 ms the lag monitor's own wakeups would cost more than the lag it reports.
    expect(metricsConfigSchema.safeParse({ enabled: true, listen: '127.0.0.1:1', process_metrics: true, event_loop_resolution_ms: 1 }).success).toBe(false);
    expect(parseListenAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseListenAddress('0.0.0.0:8766')).toEqual({ host: '0.0.0.0', port: 8766 });
  });
});

describe('BucketHistogram', () => {
  it('uses 10 µs … 1 s buckets in ×2.5 steps', () => {
    expect(LATENCY_BUCKETS_SECONDS[0]).toBeCloseTo(10e-6, 12);
    expect(LATENCY_BUCKETS_SECONDS.at(-1)).toBe(1);
    for (let i = 1; i < LATENCY_BUCKETS_SECONDS.length - 1; i++) {
      expect(LATENCY_BUCKETS_SECONDS[i]! / LATENCY_BUCKETS_SECONDS[i - 1]!).toBeCloseTo(2.5, 4);
    }
  });

  it('counts each value in the first bucket whose bound is >= it, cumulatively', () => {
    const h = new BucketHistogram([1, 2, 4]);
    for (const v of [0.5, 1, 1.5, 3, 4, 100, Number.NaN]) h.observe(v);
    // le=1: 0.5, 1; le=2: +1.5; le=4: +3, 4; +Inf: +100; NaN ignored.
    expect(h.cumulative()).toEqual([2, 3, 5, 6]);
    expect(h.count).toBe(6);
    expect(h.sum).toBeCloseTo(110, 9);
  });

  it('rejects bounds that are not increasing', () => {
    expect(() => new BucketHistogram([1, 1])).toThrow(RangeError);
    expect(() => geometricBuckets(1, 1, 2)).toThrow(RangeError);
  });
});

describe('metrics server', () => {
  it('exports the agent counters as lanner_ series', async () => {
    const agent = new FakeAgent();
    agent.deliver('openat', 7);
    agent.deliver('execve', 2);
    agent.source.droppedRingFull = 3;
    agent.source.droppedTooLarge = 1;
    agent.source.batches = 40;
    agent.source.trickleWaits = 9;
    agent.engine.droppedQueueFull = 5;
    agent.engine.queueDepth = 12;
    agent.engine.holds = { settled: 4, timedOut: 1, queueHalfFull: 0 };
    agent.ruleset = new FakeRuleset([
      { name: 'Terminal shell in container', priority: 5, source: 'syscall' },
      { name: 'Write below etc', priority: 3, source: 'syscall' },
    ]);
    agent.ruleset.match('Write below etc', 6);
    const stdout = agent.addSink('stdout', 500);
    stdout.sent = 9;
    stdout.dropped = 2;
    stdout.queueDepth = 1;
    agent.state.processes = 321;
    agent.state.processEvictions = 8;
    agent.state.containers = 4;
    agent.state.containerLookups = 10;
    agent.state.containerLookupFailures = 3;
    Object.assign(agent.rules, { enabled: 40, disabled: 3, warnings: 2, lastReloadTimestampSeconds: 1_700_000_000, reloadsSucceeded: 2, reloadsFailed: 1 });
    agent.dropAlerts = 1;
    agent.posture = [
      { benchmark: 'cis-1.24', status: 'pass', count: 11 },
      { benchmark: 'cis-1.24', status: 'fail', count: 2 },
    ];
    agent.kernelFilters = [{ filter: 'open', active: true, entries: [{ kind: 'prefix', count: 18 }, { kind: 'name', count: 2 }] }];
    agent.histograms.eventLatency.observe(0.00002); // 20 µs → bucket le=0.000025
    agent.histograms.eventLatency.observe(0.3);
    agent.histograms.batchEvaluate.observe(0.001);

    const { base } = await serve(agent);
    const { samples, types } = await scrape(base);
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(samples, name, labels);

    expect(v('lanner_events_received_total', { type: 'openat' })).toBe(7);
    expect(v('lanner_events_received_total', { type: 'execve' })).toBe(2);
    expect(samples.some((s) => s.name === 'lanner_events_received_total' && s.labels.type === 'connect')).toBe(false);
    expect(v('lanner_events_dropped_total', { stage: 'ring', reason: 'ringbuf_full' })).toBe(3);
    expect(v('lanner_events_dropped_total', { stage: 'kernel', reason: 'too_large' })).toBe(1);
    expect(v('lanner_events_dropped_total', { stage: 'kernel', reason: 'scratch_overflow' })).toBe(0);
    expect(samples.some((s) => s.labels.stage === 'native_queue' || s.labels.queue === 'native')).toBe(false);
    expect(v('lanner_events_dropped_total', { stage: 'engine_queue' })).toBe(5);
    expect(v('lanner_queue_depth', { queue: 'engine' })).toBe(12);
    expect(v('lanner_probe_deliveries_total', { result: 'delivered' })).toBe(40);
    expect(v('lanner_probe_deliveries_total', { result: 'waited' })).toBe(9);
    expect(v('lanner_engine_holds_total', { result: 'settled' })).toBe(4);
    expect(v('lanner_engine_holds_total', { result: 'timedOut' })).toBe(1);
    expect(v('lanner_engine_holds_total', { result: 'queueHalfFull' })).toBe(0);
    expect(v('lanner_queue_capacity', { queue: 'output_stdout' })).toBe(500);
    expect(v('lanner_rule_matches_total', { rule: 'Write below etc', priority: 'error', source: 'syscall' })).toBe(6);
    expect(v('lanner_rule_matches_total', { rule: 'Terminal shell in container', priority: 'notice' })).toBe(0);
    expect(v('lanner_output_alerts_total', { sink: 'stdout', result: 'sent' })).toBe(9);
    expect(v('lanner_output_alerts_total', { sink: 'stdout', result: 'dropped' })).toBe(2);
    expect(v('lanner_process_table_entries')).toBe(321);
    expect(v('lanner_process_table_capacity')).toBe(65536);
    expect(v('lanner_process_table_evictions_total')).toBe(8);
    expect(v('lanner_container_cache_entries')).toBe(4);
    expect(v('lanner_container_lookups_total', { result: 'success' })).toBe(7);
    expect(v('lanner_container_lookups_total', { result: 'failure' })).toBe(3);
    expect(v('lanner_rules_loaded', { state: 'enabled' })).toBe(40);
    expect(v('lanner_rules_loaded', { state: 'disabled' })).toBe(3);
    expect(v('lanner_rules_load_warnings')).toBe(2);
    expect(v('lanner_rules_last_reload_timestamp_seconds')).toBe(1_700_000_000);
    expect(v('lanner_rules_reloads_total', { result: 'error' })).toBe(1);
    expect(v('lanner_drop_alerts_total')).toBe(1);
    expect(v('lanner_posture_checks', { benchmark: 'cis-1.24', status: 'fail' })).toBe(2);
    expect(v('lanner_posture_checks', { benchmark: 'cis-1.24', status: 'warn' })).toBe(0);
    expect(v('lanner_kernel_filter_active', { filter: 'open' })).toBe(1);
    expect(v('lanner_kernel_filter_entries', { filter: 'open', kind: 'prefix' })).toBe(18);
    expect(v('lanner_kernel_filter_entries', { filter: 'open', kind: 'name' })).toBe(2);
    expect(v('lanner_build_info', { version: '0.1.0-test', commit: 'abc1234', probe: 'fake', node_version: process.version })).toBe(1);
    expect(v('lanner_host_info', { kernel_release: '6.18.0-test', hostname: 'node-a' })).toBe(1);
    expect(v('lanner_ready', { check: 'probe' })).toBe(1);

    expect(types.get('lanner_event_latency_seconds')).toBe('histogram');
    expect(v('lanner_event_latency_seconds_bucket', { le: '0.00001' })).toBe(0);
    expect(v('lanner_event_latency_seconds_bucket', { le: '0.000025' })).toBe(1);
    expect(v('lanner_event_latency_seconds_bucket', { le: '0.238419' })).toBe(1);
    expect(v('lanner_event_latency_seconds_bucket', { le: '0.596046' })).toBe(2);
    expect(v('lanner_event_latency_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(v('lanner_event_latency_seconds_count')).toBe(2);
    expect(v('lanner_event_latency_seconds_sum')).toBeCloseTo(0.30002, 9);
    expect(v('lanner_batch_processing_seconds_count', { stage: 'evaluate' })).toBe(1);
    expect(v('lanner_batch_processing_seconds_count', { stage: 'decode' })).toBe(0);
    for (const [name, type] of types) {
      if (name.endsWith('_total')) expect(type, name).toBe('counter');
    }
  });

  it('keeps counters monotonic across rule reloads and restarted sources', async () => {
    const agent = new FakeAgent();
    const rule = { name: 'Read sensitive file', priority: 4 as const, source: 'syscall' };
    agent.ruleset = new FakeRuleset([rule]);
    agent.ruleset.match(rule.name, 5);
    agent.deliver('openat', 100);
    const { base } = await serve(agent);
    const match = async () => valueOf((await scrape(base)).samples, 'lanner_rule_matches_total', { rule: rule.name });
    expect(await match()).toBe(5);

    // More matches land in the old table after the scrape, then the engine reloads and counts anew.
    const old = agent.ruleset;
    old.match(rule.name, 2);
    agent.ruleset = new FakeRuleset([rule, { name: 'New rule', priority: 0, source: 'syscall' }]);
    agent.ruleset.match(rule.name, 1);
    old.match(rule.name, 1); // a late increment to the retired table is still exported once
    const after = await scrape(base);
    expect(valueOf(after.samples, 'lanner_rule_matches_total', { rule: rule.name })).toBe(5 + 2 + 1 + 1);
    expect(valueOf(after.samples, 'lanner_rule_matches_total', { rule: 'New rule', priority: 'emergency' })).toBe(0);

    // A second scrape with no change adds nothing (deltas are not re-applied).
    expect(await match()).toBe(9);

    // A restarted event source starts its totals at 0: what it now reports is all new.
    agent.source.deliveredByType.fill(0);
    agent.deliver('openat', 30);
    const restarted = await scrape(base);
    expect(valueOf(restarted.samples, 'lanner_events_received_total', { type: 'openat' })).toBe(130);
  });

  it('also takes per-name totals that the engine keeps across reloads', async () => {
    const agent = new FakeAgent();
    agent.ruleTotals = [{ rule: 'Netcat remote code execution', priority: 3, count: 4 }];
    const { base } = await serve(agent);
    const read = async () => valueOf((await scrape(base)).samples, 'lanner_rule_matches_total', { rule: 'Netcat remote code execution', priority: 'error', source: 'syscall' });
    expect(await read()).toBe(4);
    agent.ruleTotals = [{ rule: 'Netcat remote code execution', priority: 3, count: 10 }, { rule: 'Other', priority: 7, count: 0, source: 'k8s_audit' }];
    expect(await read()).toBe(10);
    expect(await read()).toBe(10);
    const { samples } = await scrape(base);
    expect(valueOf(samples, 'lanner_rule_matches_total', { rule: 'Other', priority: 'debug', source: 'k8s_audit' })).toBe(0);
  });

  it('serves /healthz, and /readyz says which checks fail', async () => {
    const agent = new FakeAgent();
    const { base } = await serve(agent);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    agent.ready.probe = false;
    agent.ready.outputs = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', failing: ['probe', 'outputs'] });
    const { samples } = await scrape(base);
    expect(valueOf(samples, 'lanner_ready', { check: 'probe' })).toBe(0);
    expect(valueOf(samples, 'lanner_ready', { check: 'rules' })).toBe(1);
  });

  it('adds the detail a source reports to /readyz without letting it decide readiness', async () => {
    const agent = new FakeAgent();
    let detail: () => Record<string, unknown> = () => ({ sources: { k8s_audit: { state: 'waiting' } } });
    const server = await startMetricsServer({ listen: '127.0.0.1:0', process_metrics: false }, agent.sources(), { ...agent.readiness(), detail: () => detail() }, TEST_IDENTITY);
    servers.push(server);
    const base = `http://127.0.0.1:${server.address.port}`;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', sources: { k8s_audit: { state: 'waiting' } } });
    detail = () => {
      throw new Error('gone');
    };
    const still = await fetch(`${base}/readyz`);
    expect(still.status).toBe(200);
    expect(await still.json()).toEqual({ status: 'ready' });
  });

  it('treats a throwing readiness check as not ready and a throwing getter as a counted collect error', async () => {
    const agent = new FakeAgent();
    const sources = { ...agent.sources(), state: () => { throw new Error('state table gone'); } };
    const server = await startMetricsServer(
      { listen: '127.0.0.1:0', process_metrics: false },
      sources,
      { probe: () => true, rules: () => { throw new Error('boom'); }, outputs: () => true },
      TEST_IDENTITY,
    );
    servers.push(server);
    const base = `http://127.0.0.1:${server.address.port}`;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failing: string[] }).failing).toEqual(['rules']);
    const { samples } = await scrape(base);
    expect(valueOf(samples, 'lanner_metrics_collect_errors_total', { collector: 'state' })).toBe(1);
    expect(valueOf(samples, 'lanner_build_info')).toBe(1);
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { base } = await serve(new FakeAgent());
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(200);
  });

  it('adds prom-client process metrics when asked', async () => {
    const { base } = await serve(new FakeAgent(), undefined, true);
    const { samples } = await scrape(base);
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  });

  it('samples event-loop lag at the configured interval, not every 10 ms', async () => {
    const agent = new FakeAgent();
    const server = await startMetricsServer({ listen: '127.0.0.1:0', process_metrics: true, event_loop_resolution_ms: 200 }, agent.sources(), agent.readiness(), TEST_IDENTITY);
    servers.push(server);
    await new Promise((r) => setTimeout(r, 900));
    const { samples } = await scrape(`http://127.0.0.1:${server.address.port}`);
    // The monitor records the time between its own wakeups: never shorter than the interval
    // (about 9 ms at prom-client's default), so the smallest sample shows which interval ran.
    expect(valueOf(samples, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThan(0.15);
  });

  it('fails to start when the port is taken, and close is idempotent', async () => {
    const { server } = await serve(new FakeAgent());
    const agent = new FakeAgent();
    await expect(startMetricsServer({ listen: `127.0.0.1:${server.address.port}`, process_metrics: false }, agent.sources(), agent.readiness(), TEST_IDENTITY)).rejects.toThrow(/EADDRINUSE/);
    await server.close();
    await server.close();
  });
});
