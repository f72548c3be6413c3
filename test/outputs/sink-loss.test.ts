/**
 * Silent loss: alerts a sink drops (full queue) or gives up on must be counted and announced, as a
 * log line and a rate-limited internal alert naming the sink and the count, not only as a metric.
 */
import { openSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, AlertSink, SinkStats } from '../../src/outputs/alert';
import { FALCO_DEFAULT_FORMAT, formatJson, LineFormatter } from '../../src/outputs/format';
import { Outputs, SINK_LOSS_RULE, type SuppressionPolicy } from '../../src/outputs/index';
import { StdoutSink } from '../../src/outputs/stdout-sink';
import { makeAlert, waitFor } from './helpers';
import { expectSidekickAccepts } from './sidekick-validator';

interface LogLine {
  level: number;
  msg: string;
  rule?: string;
  sinks?: Record<string, { dropped: number; failed: number }>;
}

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

class MemorySink implements AlertSink {
  readonly alerts: Alert[] = [];
  readonly healthy = true;
  failed = 0;
  constructor(readonly name = 'memory') {}
  offer(a: Alert): boolean {
    this.alerts.push(a);
    return true;
  }
  stats(): SinkStats {
    return { sent: this.alerts.length, failed: this.failed, dropped: 0, queueDepth: 0, queueCapacity: 1 };
  }
  async close(): Promise<void> {}
}

const POLICY: SuppressionPolicy = {
  rateLimit: { enabled: false, rate: 1, burst: 1, maxRules: 10 },
  dedup: { enabled: false, windowMs: 1_000, maxEntries: 10 },
  summaryIntervalMs: 60_000,
  summaryPriority: 7,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stdout sink with a small queue writing to /dev/null, beside a sink that keeps everything. */
function setup(now?: () => number): { outputs: Outputs; stdout: StdoutSink; memory: MemorySink; lines: LogLine[] } {
  const fd = openSync('/dev/null', 'w');
  const { logger, lines } = capturingLogger();
  const stdout = new StdoutSink({ queueCapacity: 100, fd }, new LineFormatter(FALCO_DEFAULT_FORMAT), { logger });
  const memory = new MemorySink();
  const outputs = new Outputs([stdout, memory], POLICY, { logger, hostname: 'node-1', ...(now === undefined ? {} : { now }) });
  // The sink owns the descriptor and closes it.
  cleanups.push(() => outputs.close(200));
  return { outputs, stdout, memory, lines };
}

const lossAlerts = (m: MemorySink): Alert[] => m.alerts.filter((a) => a.rule === SINK_LOSS_RULE);
const lossLogs = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.rule === SINK_LOSS_RULE);

describe('alerts lost by a sink are announced', () => {
  it('a 20k burst into a 100-alert stdout queue: counted, logged and alerted naming stdout and the count; then rate limited, carried over', async () => {
    const clock = { now: 5_000_000 };
    const { outputs, stdout, memory, lines } = setup(() => clock.now);
    for (let i = 0; i < 20_000; i++) outputs.publish(makeAlert());
    expect(outputs.stats().sinks.stdout!.dropped).toBe(19_900);

    const alert = outputs.announceLosses()!;
    expect(alert).toBeDefined();
    expect(lossAlerts(memory)).toEqual([alert]);
    expect(alert).toMatchObject({ rule: SINK_LOSS_RULE, source: 'internal', priority: 4, hostname: 'node-1' });
    expect(alert.message).toContain('19900 alerts lost');
    expect(alert.message).toContain('stdout lost 19900 (queue full or closing 19900, delivery failed 0)');
    expect(alert.outputFields).toMatchObject({ lost: '19900', dropped: '19900', failed: '0', sinks: 'stdout=19900' });
    expectSidekickAccepts(formatJson(alert, FALCO_DEFAULT_FORMAT));
    const logged = lossLogs(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.level).toBe(40);
    expect(logged[0]!.msg).toBe(alert.message);
    expect(logged[0]!.sinks).toEqual({ stdout: { dropped: 19_900, failed: 0 } });

    // A second burst within the limiter's 30 s: counted, not announced yet.
    await waitFor(() => stdout.stats().queueDepth === 0, 5_000, 'stdout queue drained');
    for (let i = 0; i < 20_000; i++) outputs.publish(makeAlert());
    clock.now += 10_000;
    expect(outputs.announceLosses()).toBeUndefined();
    expect(lossLogs(lines)).toHaveLength(1);

    // Once the limiter allows, everything since the last announcement is reported at once.
    clock.now += 20_000;
    const next = outputs.announceLosses()!;
    // The stdout queue is still full, so this announcement is itself dropped there (the next one counts it).
    const since = outputs.stats().sinks.stdout!.dropped - 19_900 - 1;
    expect(since).toBeGreaterThanOrEqual(19_900);
    expect(next.outputFields.dropped).toBe(String(since));
    expect(next.outputFields.interval_s).toBe('30');
    expect(lossLogs(lines)).toHaveLength(2);
    expect(outputs.announceLosses()).toBeUndefined();
  });

  it('the agent does it on its own within about a second, with no caller', async () => {
    const { outputs, memory, lines } = setup();
    for (let i = 0; i < 20_000; i++) outputs.publish(makeAlert());
    await waitFor(() => lossAlerts(memory).length === 1, 3_000, 'internal alert');
    expect(lossAlerts(memory)[0]!.outputFields.dropped).toBe('19900');
    expect(lossLogs(lines)).toHaveLength(1);
  });

  it('delivery failures are announced too, and what is left at close is logged', async () => {
    const { logger, lines } = capturingLogger();
    const flaky = new MemorySink('http');
    const outputs = new Outputs([flaky], POLICY, { logger, hostname: 'node-1', now: () => 1_000 });
    flaky.failed = 7;
    const alert = outputs.announceLosses()!;
    expect(alert.message).toContain('http lost 7 (queue full or closing 0, delivery failed 7)');
    flaky.failed = 10;
    expect(outputs.announceLosses()).toBeUndefined(); // rate limited
    await outputs.close(10);
    const logged = lossLogs(lines);
    expect(logged).toHaveLength(2);
    expect(logged[1]!.msg).toContain('http lost 3');
    expect(logged[1]!.msg).toContain('at shutdown');
  });
});
