import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/outputs/alert';
import { DROP_ALERT_RULE, DropMonitor, type DropCounters } from '../../src/outputs/drop-monitor';
import type { DropsConfig } from '../../src/outputs/drops-config';
import { FALCO_DEFAULT_FORMAT, formatJson } from '../../src/outputs/format';
import pino from 'pino';
import { sampleDropsConfig } from './sample-config';
import { expectSidekickAccepts } from './sidekick-validator';

function harness(config: DropsConfig) {
  const clock = { now: 5_000_000 };
  const alerts: Alert[] = [];
  const exits: string[] = [];
  const logLines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(JSON.parse(s) as { level: number; msg: string }) });
  const monitor = new DropMonitor(config, { logger, publish: (a) => alerts.push(a), exit: (r) => exits.push(r), hostname: 'node-1', now: () => clock.now });
  // Cumulative counters the probe/engine would report.
  const c = { delivered: 0, ringFull: 0, tooLarge: 0, kernelOther: 0, engineQueue: 0 };
  const second = (add: Partial<DropCounters>) => {
    clock.now += 1000;
    for (const [k, v] of Object.entries(add)) c[k as keyof typeof c] += v as number;
    return monitor.update({ ...c });
  };
  return { monitor, alerts, exits, logLines, second, clock };
}

const base: DropsConfig = { threshold: 0.1, actions: ['log', 'alert'], rate: 1 / 30, max_burst: 1 };

describe('drop monitor', () => {
  it('the first update is a baseline; it triggers only above the threshold of the last second', () => {
    const h = harness(base);
    expect(h.second({ delivered: 1_000_000, ringFull: 900_000 }).triggered).toBe(false); // baseline only
    const under = h.second({ delivered: 900, ringFull: 100 }); // 100 / 1000 = 0.1, not above
    expect(under).toMatchObject({ events: 1000, drops: 100, ratio: 0.1, triggered: false });
    const over = h.second({ delivered: 890, ringFull: 110 });
    expect(over).toMatchObject({ events: 1000, drops: 110, triggered: true, actions: ['log', 'alert'] });
    expect(h.alerts).toHaveLength(1);
  });

  it('counts drops of every stage; user-space drops are part of the delivered events', () => {
    const h = harness({ ...base, threshold: 0.2 });
    h.second({});
    const r = h.second({ delivered: 1000, tooLarge: 10, kernelOther: 20, engineQueue: 250 });
    expect(r).toMatchObject({ events: 1030, drops: 280, triggered: true });
    const a = h.alerts[0]!;
    expect(a).toMatchObject({ rule: DROP_ALERT_RULE, priority: 7, source: 'internal', hostname: 'node-1' });
    expect(a.rule).toBe('Falco internal: syscall event drop');
    expect(a.outputFields).toMatchObject({
      n_evts: '1030',
      n_drops: '280',
      n_drops_buffer_total: '0',
      n_drops_scratch_map: '20',
      ebpf_enabled: '1',
      n_drops_ring_full: '0',
      n_drops_too_large: '10',
      n_drops_kernel_other: '20',
      n_drops_engine_queue: '250',
    });
    for (const v of Object.values(a.outputFields)) expect(typeof v).toBe('string');
    expect(a.timeNs).toBe(BigInt(h.clock.now) * 1_000_000n);
    expectSidekickAccepts(formatJson(a, FALCO_DEFAULT_FORMAT));
  });

  it('token bucket: one action per 30 s at the default rate, skipped ones counted', () => {
    const h = harness(base);
    h.second({});
    const fired: number[] = [];
    for (let s = 1; s <= 65; s++) if (h.second({ delivered: 10, ringFull: 10 }).actions.length > 0) fired.push(s);
    // Starts with one token (burst 1); the next comes 30 s later, then again 30 s after that.
    expect(fired).toEqual([1, 31, 61]);
    expect(h.monitor.counts).toEqual({ fired: 3, skipped: 62 });
    expect(h.alerts).toHaveLength(3);
  });

  it('log writes a warning naming the rule and counts; exit calls the injected callback', () => {
    const h = harness({ ...base, actions: ['log', 'exit'] });
    h.second({});
    h.second({ delivered: 10, engineQueue: 5 });
    const warn = h.logLines.find((l) => l.level === 40)!;
    expect(warn.msg).toContain(DROP_ALERT_RULE);
    expect(warn.msg).toContain('5 of 10 events');
    expect(h.exits).toHaveLength(1);
    expect(h.alerts).toHaveLength(0);
  });

  it('ignore disables every action; a counter reset does not produce negative deltas', () => {
    const h = harness({ ...base, actions: ['ignore', 'alert'] });
    h.second({ delivered: 100 });
    expect(h.second({ delivered: 10, ringFull: 10 })).toMatchObject({ triggered: true, actions: [] });
    expect(h.alerts).toHaveLength(0);

    const r = harness(base);
    r.second({ delivered: 5000, ringFull: 10 });
    const reset = r.monitor.update({ delivered: 100, ringFull: 0, tooLarge: 0, kernelOther: 0, engineQueue: 0 });
    expect(reset).toMatchObject({ events: 100, drops: 0, triggered: false });
  });

  it('drops events with no deliveries at all still trigger (ratio 1)', () => {
    const h = harness(base);
    h.second({});
    expect(h.second({ engineQueue: 3 })).toMatchObject({ events: 0, drops: 3, ratio: 1, triggered: true });
  });

  it('the proposed lanner.yaml drops section validates', () => {
    expect(sampleDropsConfig()).toEqual({ threshold: 0.1, actions: ['log', 'alert'], rate: 0.03333, max_burst: 1 });
  });
});
