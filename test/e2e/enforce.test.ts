/**
 * Enforcement end to end (issue #20): the real agent on the real kernel with rules that carry
 * `actions: [kill]`. A process that opens a forbidden path dies by SIGKILL before it can read the
 * fd (20 of 20), an allowed open is untouched, a protected process is never killed (refused), a
 * monitor-mode rule only alerts (would-kill), and a rule the kernel cannot evaluate (an exec rule)
 * kills from user space with the delay on the alert.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, metricValue } from '../support/net';
import { AgentHarness, BARRIER_RULES, buildActTool, named, pidOf, skipReason, type AlertRecord } from './agent-harness';

const skip = skipReason();
const KILL_RULE = 'Forbidden file opened';
const MONITOR_RULE = 'Watched file opened';
const EXEC_RULE = 'Forbidden program started';

interface Exit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

function runTool(path: string, args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ pid: child.pid ?? -1, code, signal, stdout }));
  });
}

describe.skipIf(skip !== undefined)('enforcement: actions: [kill]', () => {
  let agent: AgentHarness;
  let dir: string;
  let act: string;
  let forbidden: string;

  const enforcementOf = (a: AlertRecord): unknown => a.output_fields['lanner.enforcement'];
  const alertFor = (rule: string, pid: number): Promise<AlertRecord> => agent.waitFor((a) => a.rule === rule && pidOf(a) === pid, 15_000);

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/lanner-e2e-enforce-'));
    mkdirSync(join(dir, 'forbidden'));
    mkdirSync(join(dir, 'watched'));
    forbidden = join(dir, 'forbidden', 'secret');
    writeFileSync(forbidden, 'the secret\n');
    writeFileSync(join(dir, 'allowed'), 'allowed\n');
    writeFileSync(join(dir, 'watched', 'file'), 'watched\n');
    act = buildActTool(join(dir, 'bin'));
    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      [
        `- rule: ${KILL_RULE}`,
        '  desc: reading the forbidden directory kills the reader',
        `  condition: evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.name startswith ${dir}/forbidden/`,
        '  output: forbidden file opened (file=%fd.name proc=%proc.name pid=%proc.pid)',
        '  priority: CRITICAL',
        '  actions: [kill]',
        '  enforcement: enforce',
        `- rule: ${MONITOR_RULE}`,
        '  desc: monitor mode (the global default) only says what it would kill',
        `  condition: evt.type in (open, openat) and fd.name = ${dir}/watched/file`,
        '  output: watched file opened (file=%fd.name pid=%proc.pid)',
        '  priority: WARNING',
        '  actions: [kill]',
        `- rule: ${EXEC_RULE}`,
        '  desc: an exec rule, which the kernel cannot enforce (user space kills)',
        '  condition: evt.type = execve and evt.rawres = 0 and proc.name = lnr-killme',
        '  output: forbidden program started (pid=%proc.pid)',
        '  priority: CRITICAL',
        '  actions: [kill]',
        '  enforcement: enforce',
        '',
      ].join('\n'),
    );
    agent = await AgentHarness.start({ rules: [BARRIER_RULES, rules], overrides: ['enforcement.protected=[lnr-protected, systemd]'] });
  });

  afterAll(async () => {
    const exit = await agent?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it('says where each kill rule is enforced', () => {
    const log = agent.stderrTail(400);
    expect(log).toMatch(new RegExp(`"msg":"enforcement"`));
    expect(log).toMatch(new RegExp(`"kernel":\\{[^}]*"${KILL_RULE}":"enforce: the condition compiles exactly`));
    expect(log).toMatch(new RegExp(`"userSpace":\\{[^}]*"${EXEC_RULE}":"enforce: its event types are not all opens`));
  });

  it('kills a reader of the forbidden path in the kernel before it reads: 20 of 20', async () => {
    const exits: Exit[] = [];
    for (let i = 0; i < 20; i++) exits.push(await runTool(act, ['read', forbidden]));
    // None escapes: every one died by SIGKILL and none printed what it read.
    expect(exits.map((e) => e.signal)).toEqual(new Array(20).fill('SIGKILL'));
    expect(exits.filter((e) => e.stdout.includes('read'))).toEqual([]);
    for (const e of exits) expect(enforcementOf(await alertFor(KILL_RULE, e.pid))).toBe('killed-in-kernel');
    const body = (await httpGet(agent.metricsPort, '/metrics')).body;
    expect(metricValue(body, 'lanner_enforcement_kernel_total', `rule="${KILL_RULE}"`, 'result="killed"')).toBeGreaterThanOrEqual(20);
    expect(metricValue(body, 'lanner_enforcement_decisions_total', `rule="${KILL_RULE}"`, 'result="killed-in-kernel"')).toBeGreaterThanOrEqual(20);
    // A rule kills from user space (the exec rule): no trickle waits for more, each look delivers.
    expect(metricValue(body, 'lanner_probe_deliveries_total', 'result="delivered"')).toBeGreaterThan(0);
    expect(metricValue(body, 'lanner_probe_deliveries_total', 'result="waited"')).toBe(0);
  });

  it('leaves an allowed open alone', async () => {
    const mark = agent.mark();
    const e = await runTool(act, ['read', join(dir, 'allowed')]);
    expect(e).toMatchObject({ code: 0, signal: null });
    expect(e.stdout).toMatch(/read 8 bytes/);
    await agent.barrier();
    expect(agent.find((a) => a.seq > mark && pidOf(a) === e.pid)).toEqual([]);
  });

  it('never kills a protected process: the alert says refused', async () => {
    const tool = named(act, join(dir, 'bin'), 'lnr-protected');
    const e = await runTool(tool, ['read', forbidden]);
    expect(e).toMatchObject({ code: 0, signal: null });
    expect(e.stdout).toMatch(/read 11 bytes/);
    const alert = await alertFor(KILL_RULE, e.pid);
    expect(enforcementOf(alert)).toBe('refused');
    expect(alert.output_fields['lanner.enforcement_reason']).toMatch(/protected process 'lnr-protected'/);
  });

  it('monitor mode only alerts: would-kill', async () => {
    const e = await runTool(act, ['read', join(dir, 'watched', 'file')]);
    expect(e).toMatchObject({ code: 0, signal: null });
    expect(e.stdout).toMatch(/read 8 bytes/);
    const alert = await alertFor(MONITOR_RULE, e.pid);
    expect(enforcementOf(alert)).toBe('would-kill');
    expect(alert.output).toMatch(/enforcement=would-kill/);
  });

  it('kills from user space for a rule the kernel cannot evaluate, with the delay', async () => {
    const tool = named(act, join(dir, 'bin'), 'lnr-killme');
    const started = Date.now();
    const e = await runTool(tool, ['sleep']);
    expect(e.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(10_000);
    const alert = await alertFor(EXEC_RULE, e.pid);
    expect(enforcementOf(alert)).toBe('killed');
    expect(typeof alert.output_fields['lanner.kill_delay_ms']).toBe('number');
    expect(alert.output_fields['lanner.kill_delay_ms'] as number).toBeGreaterThan(0);
  });
});
