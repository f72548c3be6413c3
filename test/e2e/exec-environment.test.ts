/**
 * proc.env from the exec itself: the real agent, with Falco's stock rule files loaded unmodified
 * next to the default rules, raises Falco's "Potential Local Privilege Escalation via Environment
 * Variables Misuse" (GLIBC_TUNABLES, CVE-2023-4911) for a process whose environment was set at
 * exec, not inherited: the probe captures the new image's environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, DEFAULT_RULES, run, skipReason } from './agent-harness';
import { STOCK_INCUBATING, STOCK_STABLE } from '../support/stock-rules';

const RULE = 'Potential Local Privilege Escalation via Environment Variables Misuse';
const skip = skipReason();

describe.skipIf(skip !== undefined)('exec environment (proc.env)', () => {
  let agent: AgentHarness;

  beforeAll(async () => {
    agent = await AgentHarness.start({
      rules: [...DEFAULT_RULES, STOCK_STABLE, STOCK_INCUBATING],
      overrides: ['rule_matching=all'],
    });
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  // Falco's output for this rule has no %proc.pid: each exec carries a unique marker instead.
  const envOf = (a: { output_fields: Record<string, unknown> }): string => String(a.output_fields['proc.env'] ?? '');

  it("Falco's GLIBC_TUNABLES rule fires on an environment handed to exec, with %proc.env in the output", async () => {
    // env(1) replaces its own environment and execs /bin/true in the same process: the parent
    // (this test) has no GLIBC_TUNABLES, so only the exec's own environment can carry it.
    const mark = `LANNER_MARK=${process.pid}-${Date.now()}`;
    const r = await run('env', ['-i', 'GLIBC_TUNABLES=glibc.malloc.mxfast=0', mark, '/bin/true']);
    expect(r.code).toBe(0);
    const alert = await agent.waitFor((a) => a.rule === RULE && envOf(a).includes(mark));
    expect(envOf(alert)).toBe(`GLIBC_TUNABLES=glibc.malloc.mxfast=0 ${mark}`);
    expect(alert.output_fields['proc.exepath']).toBe('/usr/bin/true');
  });

  it('stays silent for an exec without it', async () => {
    const mark = `LANNER_MARK=${process.pid}-${Date.now()}-benign`;
    const r = await run('env', ['-i', mark, '/bin/true']);
    expect(r.code).toBe(0);
    await agent.barrier();
    expect(agent.find((a) => a.rule === RULE && envOf(a).includes(mark))).toEqual([]);
  });
});
