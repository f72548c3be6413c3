/**
 * The caller's side of a clone is shipped by the kernel only while a loaded rule matches a
 * clone-family type (the process table needs only the child's side). A rule on the caller's side
 * (evt.rawres > 0: the child's pid) must then still fire; the default rules alone leave it off,
 * which the other end-to-end tests (parent names of spawned shells) run under.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, DEFAULT_RULES, run, skipReason } from './agent-harness';

const skip = skipReason();
const RULE = 'Fork seen from the caller';

describe.skipIf(skip !== undefined)("clone caller's side on demand", () => {
  let agent: AgentHarness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanner-clone-'));
    const rules = join(dir, 'clone.yaml');
    writeFileSync(
      rules,
      `- rule: ${RULE}\n  desc: a process forked\n  condition: evt.type in (clone, clone3, fork, vfork) and evt.rawres > 0 and proc.cmdline contains LANNER_FORK_MARK\n` +
        '  output: forked (child=%evt.rawres parent=%proc.pid cmdline=%proc.cmdline)\n  priority: NOTICE\n',
    );
    agent = await AgentHarness.start({ rules: [...DEFAULT_RULES, rules] });
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    rmSync(dir, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it("a rule on the caller's side fires with the child's pid", async () => {
    const mark = `LANNER_FORK_MARK_${process.pid}_${Date.now()}`;
    // The shell forks for each external command that is not its last.
    const r = await run('/bin/sh', ['-c', `: ${mark}; /bin/true; /bin/true`]);
    expect(r.code).toBe(0);
    const alert = await agent.waitFor((a) => a.rule === RULE && String(a.output_fields['proc.cmdline']).includes(mark));
    expect(Number(alert.output_fields['evt.rawres'])).toBeGreaterThan(0);
    expect(Number(alert.output_fields['evt.rawres'])).not.toBe(Number(alert.output_fields['proc.pid']));
  });
});
