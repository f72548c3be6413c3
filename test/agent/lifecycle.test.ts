/**
 * The running agent's lifecycle on the real kernel: rules hot-reloaded by file watching (through
 * a ConfigMap-style `..data` symlink swap) and by SIGHUP, a broken rules file reported with
 * file:line:column while the running rules stay in force, stdout carrying only alerts, and a
 * clean exit on SIGTERM.
 */
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, DEFAULT_RULES, run, skipReason } from '../e2e/agent-harness';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-life-'));
const marker = join(tmp, 'marker.txt');
writeFileSync(marker, 'x\n');

/** A rule that fires when `marker` is opened, under a name we choose per generation. */
function ruleFile(name: string): string {
  return [
    `- rule: ${name}`,
    '  desc: test rule watching one marker file',
    `  condition: evt.type in (open, openat, openat2) and fd.name = "${marker}"`,
    '  output: marker opened (file=%fd.name process=%proc.name)',
    '  priority: NOTICE',
    '  tags: [test]',
    '',
  ].join('\n');
}

// Laid out as the kubelet lays out a ConfigMap volume: the visible file is a symlink through
// `..data`, and an update swaps `..data` to a new timestamped directory.
const rulesDir = join(tmp, 'rules.d');
let generation = 0;
function publishRules(text: string): void {
  generation++;
  const dir = join(rulesDir, `..gen_${generation}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'test.yaml'), text);
  const tmpLink = join(rulesDir, '..data_tmp');
  symlinkSync(`..gen_${generation}`, tmpLink);
  renameSync(tmpLink, join(rulesDir, '..data'));
}

describe.skipIf(reason !== undefined)('agent lifecycle', () => {
  let agent: AgentHarness;
  beforeAll(async () => {
    mkdirSync(rulesDir, { recursive: true });
    publishRules(ruleFile('Marker rule A'));
    symlinkSync('..data/test.yaml', join(rulesDir, 'test.yaml'));
    agent = await AgentHarness.start({ rules: [...DEFAULT_RULES, rulesDir], overrides: ['watch_rules=true', 'engine.watch_debounce_ms=100'] });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  const openMarker = (): Promise<unknown> => run('cat', [marker]);

  it('fires the loaded rule', async () => {
    const from = agent.mark();
    await openMarker();
    const a = await agent.waitFor((x) => x.rule === 'Marker rule A', 15_000, from);
    expect(a.output_fields['fd.name']).toBe(marker);
    expect(a.priority).toBe('Notice');
  });

  it('a ConfigMap-style update is picked up by the file watcher', async () => {
    publishRules(ruleFile('Marker rule B'));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const from = agent.mark();
      await openMarker();
      try {
        await agent.waitFor((x) => x.rule === 'Marker rule B', 2000, from);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  });

  it('a broken update is reported with file:line:column and the running rules stay', async () => {
    publishRules(['- rule: Broken rule', '  desc: d', '  condition: evt.type = open and fd.nam = x', '  output: o', '  priority: NOTICE', ''].join('\n'));
    // `fd.nam` starts at column 34: the condition text begins at column 14, 20 characters before it.
    const expected = `${join(rulesDir, 'test.yaml')}:3:34`;
    const deadline = Date.now() + 20_000;
    while (!agent.stderrTail(400).includes(expected)) {
      if (Date.now() > deadline) throw new Error(`no error naming ${expected} in:\n${agent.stderrTail(40)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(agent.stderrTail(400)).toContain('keeping the running rules');
    const from = agent.mark();
    await openMarker();
    await agent.waitFor((x) => x.rule === 'Marker rule B', 15_000, from);
  });

  it('SIGHUP reloads', async () => {
    // A file outside the watched generation: only a SIGHUP-triggered reload reads it in time.
    publishRules(ruleFile('Marker rule C'));
    agent.signal('SIGHUP');
    const deadline = Date.now() + 20_000;
    for (;;) {
      const from = agent.mark();
      await openMarker();
      try {
        await agent.waitFor((x) => x.rule === 'Marker rule C', 2000, from);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  });

  it('stdout carries only JSON alerts, and SIGTERM stops the agent cleanly', async () => {
    expect(agent.strayStdout()).toEqual([]);
    const exit = await agent.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(agent.stderrTail(5)).toContain('"msg":"stopped"');
  });
});
