/**
 * The kernel's open filter with Falco's stock rules loaded, end to end: the real agent compiles
 * the stable file into a filter that is on (it no longer turns itself off), and the stock rules
 * whose opens it must keep still fire: a sensitive file read, and a read through '../' that only
 * the raw path shows. Opens no loaded rule can match do not reach user space. The change filter
 * is on for the link and symlink calls, and a symlink over a sensitive file still fires.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, metricValue } from '../support/net';
import { STOCK_STABLE } from '../support/stock-rules';
import { AgentHarness, DEFAULT_RULES, run, skipReason } from './agent-harness';

const skip = skipReason();

describe.skipIf(skip !== undefined)("the open filter with Falco's stable rules", () => {
  let agent: AgentHarness;

  beforeAll(async () => {
    agent = await AgentHarness.start({ rules: [...DEFAULT_RULES, STOCK_STABLE], overrides: ['rule_matching=all'] });
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('is on, and says how big it is', async () => {
    const body = (await httpGet(agent.metricsPort, '/metrics')).body;
    expect(metricValue(body, 'lanner_kernel_filter_active', 'filter="open"')).toBe(1);
    expect(metricValue(body, 'lanner_kernel_filter_entries', 'filter="open"', 'kind="prefix"')).toBeGreaterThan(0);
    expect(agent.stderrTail(200)).toMatch(/"openFilter":\{"prefixes":\d+,"suffixes":\d+,"comms":\d+\}.*"msg":"kernel capture"/);
  });

  it('filters path changes per type, and keeps the ones a rule matches (Create Symlink Over Sensitive Files)', async () => {
    const body = (await httpGet(agent.metricsPort, '/metrics')).body;
    expect(metricValue(body, 'lanner_kernel_filter_active', 'filter="change"')).toBe(1);
    expect(metricValue(body, 'lanner_kernel_path_filter', 'event_type="symlinkat"', 'kept_open_by=""')).toBe(1);
    const dir = mkdtempSync('/tmp/lanner-sym-');
    try {
      const from = agent.mark();
      expect((await run('ln', ['-s', '/etc/shadow', join(dir, 'shadow-link')])).code).toBe(0);
      const alert = await agent.waitFor((a) => a.rule === 'Create Symlink Over Sensitive Files', 15_000, from);
      expect(alert.output_fields['evt.arg.target']).toBe('/etc/shadow');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the stock rules' opens: a sensitive file read fires", async () => {
    const from = agent.mark();
    expect((await run('cat', ['/etc/shadow'])).code).toBe(0);
    const alert = await agent.waitFor((a) => a.rule === 'Read sensitive file untrusted' && a.output_fields['fd.name'] === '/etc/shadow', 15_000, from);
    expect(alert.output_fields['proc.name']).toBe('cat');
  });

  it("keeps a read through '../' that only the raw path shows (Directory traversal monitored file read)", async () => {
    const from = agent.mark();
    const raw = '/etc/../etc/../etc/passwd';
    expect((await run('cat', [raw])).code).toBe(0);
    const alert = await agent.waitFor((a) => a.rule === 'Directory traversal monitored file read' && a.output_fields['fd.nameraw'] === raw, 15_000, from);
    expect(alert.output_fields['fd.name']).toBe('/etc/passwd');
  });

  it('drops in the kernel the opens no rule can match', async () => {
    const read = async (): Promise<number> => {
      const body = (await httpGet(agent.metricsPort, '/metrics')).body;
      // glibc's shell opens with openat.
      return metricValue(body, 'lanner_events_received_total', 'type="openat"');
    };
    await agent.barrier();
    const before = await read();
    // 200 reads of a file no stable or default rule looks at, by one process.
    const r = await run('sh', ['-c', 'i=0; while [ $i -lt 200 ]; do read x < /etc/hostname; i=$((i+1)); done']);
    expect(r.code).toBe(0);
    await agent.barrier();
    // Other processes open files meanwhile; 200 shipped opens could not hide under this bound.
    expect((await read()) - before).toBeLessThan(100);
  });
});
