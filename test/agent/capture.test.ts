/**
 * Rule-triggered captures through the real agent on the real kernel: a rule given `capture: true`
 * by an override reads /etc/shadow → the alert names a 0600 capture file holding the events
 * around the match → `lanner replay` of that file raises the same alert again. Then the bounds:
 * triggers past `max_files` are refused (when_full: refuse), the files stay capped, and the
 * refusals are counted in /metrics.
 */
import { copyFileSync, lstatSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/probe/capture';
import { runCli } from '../support/cli';
import { httpGet, metricValue } from '../support/net';
import { AgentHarness, DEFAULT_RULES, pidOf, run, skipReason, type AlertRecord } from '../e2e/agent-harness';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-capture-e2e-'));
const RULE = 'Password hashes read by untrusted program';
const FIELD = 'lanner.capture_file';
const captureDir = join(tmp, 'captures');
const overrides = join(tmp, 'capture-overrides.yaml');
writeFileSync(
  overrides,
  // Only our reader triggers captures: other tests on this host read /etc/shadow too.
  [
    `- rule: ${RULE}`,
    '  condition: and proc.name = lanner-cap-cat',
    '  capture: true',
    '  capture_duration: 300',
    '  override:',
    '    condition: append',
    '    capture: replace',
    '    capture_duration: replace',
    '',
  ].join('\n'),
);
const rules = [...DEFAULT_RULES, overrides];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(reason !== undefined)('rule-triggered captures in the running agent', () => {
  let agent: AgentHarness;
  // A copy of cat with its own name, so the alert is ours whatever else runs on the host.
  const reader = join(tmp, 'lanner-cap-cat');
  copyFileSync('/bin/cat', reader);

  beforeAll(async () => {
    agent = await AgentHarness.start({
      rules,
      overrides: [
        'capture.enabled=true',
        `capture.path_prefix=${captureDir}/lanner`,
        'capture.pre_duration=2000',
        'capture.max_files=2',
        'capture.when_full=refuse',
      ],
    });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  async function readShadow(): Promise<AlertRecord> {
    const from = agent.mark();
    const r = await run(reader, ['/etc/shadow']);
    expect(r.code).toBe(0);
    return agent.waitFor((a) => a.rule === RULE && pidOf(a) === r.pid, 15_000, from);
  }

  /** /metrics; retried, since a kept-alive connection the server just closed fails with a hang-up. */
  async function scrape(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await httpGet(agent.metricsPort, '/metrics')).body;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(200);
      }
    }
  }

  async function capturesTotal(result: string): Promise<number> {
    return metricValue(await scrape(), 'lanner_captures_total', `result="${result}"`);
  }

  async function waitForWritten(n: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await capturesTotal('written')) < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} captures written:\n${agent.stderrTail()}`);
      await sleep(200);
    }
  }

  it('writes a private capture around the match, names it in the alert, and a replay raises the alert again', async () => {
    const alert = await readShadow();
    const file = String(alert.output_fields[FIELD]);
    expect(file.startsWith(`${captureDir}/lanner_`)).toBe(true);
    await waitForWritten(1);
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect(lstatSync(captureDir).mode & 0o777).toBe(0o700);
    const reader2 = CaptureReader.fromFile(file);
    expect(reader2.header.trigger).toMatchObject({ rule: RULE, mode: 'rules', durationMs: 300, preMs: 2000 });
    reader2.close();

    const replay = runCli(['replay', file, ...rules.flatMap((r) => ['-r', r])], { timeoutMs: 60_000 });
    expect(replay.code, replay.stderr).toBe(0);
    const replayed = replay.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { rule: string; output_fields: Record<string, unknown> });
    const again = replayed.find((a) => a.rule === RULE && a.output_fields['proc.pid'] === alert.output_fields['proc.pid']);
    expect(again, JSON.stringify(replayed.map((a) => a.rule))).toBeDefined();
    expect(again!.output_fields['fd.name']).toBe('/etc/shadow');
    // A replay never writes captures of its own, so the replayed alert names none.
    expect(again!.output_fields[FIELD]).toBeUndefined();
    expect(replay.stderr).toContain('the rule that triggered the capture matched again');
  });

  it('caps the files at max_files and counts the refused captures', async () => {
    const refusedBefore = await capturesTotal('refused');
    const named: string[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await readShadow();
      if (a.output_fields[FIELD] !== undefined) named.push(String(a.output_fields[FIELD]));
      // Past the 300 ms capture (and its close), so the next read starts a new one or is refused.
      await sleep(1200);
    }
    const files = readdirSync(captureDir).filter((f) => f.endsWith('.cap'));
    expect(files).toHaveLength(2);
    // At most one of the four found room (the first test's file holds the other slot).
    expect(named.length).toBeLessThanOrEqual(1);
    expect((await capturesTotal('refused')) - refusedBefore).toBeGreaterThanOrEqual(3);
    expect(metricValue(await scrape(), 'lanner_capture_files')).toBe(2);
    expect(agent.stderrTail(200)).toContain('capture refused: capture files at their bound');
  });
});
