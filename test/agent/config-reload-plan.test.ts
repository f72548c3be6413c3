/**
 * Which configuration changes a SIGHUP applies live and which keep their running value until a
 * restart, without the kernel.
 */
import { describe, expect, it } from 'vitest';
import { changedKeys, planReload } from '../../src/agent/config-reload';
import { loadConfig, type LannerConfig } from '../../src/config';

const base = (): LannerConfig => structuredClone(loadConfig({ file: '/dev/null' }).config);

describe('planReload', () => {
  it('names changed leaves by their dotted paths', () => {
    expect(changedKeys({ a: { b: 1, c: [1] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, d: 'x', e: true })).toEqual(['a.b', 'a.c', 'e']);
  });

  it('applies outputs, priority, append_output, static_fields and redaction; keeps the rest at the running values', () => {
    const running = base();
    const next = base();
    next.outputs.http = { ...next.outputs.http, enabled: true, url: 'http://sidekick:2801/', min_priority: 'critical' };
    next.outputs.rate_limit.rate = 5;
    next.priority = 'warning';
    next.append_output = [{ extra_output: 'x' }];
    next.static_fields = { cluster: 'c1' };
    next.redaction = { enabled: false, patterns: [] };
    next.log = { ...next.log, level: 'debug', pretty: true };
    next.probe = { ...next.probe, ring_buffer_bytes: 33554432 } as typeof next.probe;
    next.metrics = { ...next.metrics, listen: '127.0.0.1:9999' } as typeof next.metrics;
    next.run_dir = '/tmp/elsewhere';
    const plan = planReload(running, next);
    expect([...plan.restartOnly].sort()).toEqual(['log.level', 'log.pretty', 'metrics.listen', 'probe.ring_buffer_bytes', 'run_dir']);
    expect(plan.live).toEqual(expect.arrayContaining(['outputs.http.enabled', 'outputs.http.min_priority', 'outputs.rate_limit.rate', 'priority', 'append_output', 'static_fields.cluster', 'redaction.enabled']));
    const e = plan.effective;
    expect((e.probe as { ring_buffer_bytes: number }).ring_buffer_bytes).toBe((running.probe as { ring_buffer_bytes: number }).ring_buffer_bytes);
    expect(e.run_dir).toBe(running.run_dir);
    expect(e.log).toEqual(running.log);
    expect(e.outputs.http.min_priority).toBe('critical');
    expect(e.priority).toBe('warning');
    expect(running.priority).toBe('debug');
  });

  it('nothing changed: nothing to do', () => {
    expect(planReload(base(), base())).toMatchObject({ live: [], restartOnly: [] });
  });
});
