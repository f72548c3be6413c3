/**
 * The enforcement decision at a match (src/enforce/enforcer.ts) and the rule keys it reads
 * (`actions`, `enforcement` in src/rules/loader.ts), without the kernel: the kill is injected.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnforcementConfig } from '../../src/enforce/config';
import { Enforcer } from '../../src/enforce/enforcer';
import type { Alert } from '../../src/outputs/alert';
import { FLAG_KILL_HELD, FLAG_KILLED } from '../../src/probe/layout';
import { syntheticEvent } from '../../src/probe/synthetic';
import { loadRules, type CompiledRuleset } from '../../src/rules/ruleset';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-enforcer-'));
let fileNo = 0;
const CONFIG: EnforcementConfig = { mode: 'monitor', kernel: true, protected: ['kubelet', 'containerd-shim*'], rate: { per_second: 1, burst: 2 } };

function rules(text: string): CompiledRuleset {
  const file = join(tmp, `r${fileNo++}.yaml`);
  writeFileSync(file, text);
  return loadRules([file]);
}

const RULES = `
- rule: exec kill
  desc: d
  condition: evt.type = execve and proc.name = victim
  output: o
  priority: NOTICE
  actions: [kill]
  enforcement: enforce
- rule: open kill
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: o
  priority: NOTICE
  actions: [kill]
- rule: lifecycle kill
  desc: d
  condition: evt.type = clone and proc.name = victim
  output: o
  priority: NOTICE
  actions: [kill]
  enforcement: enforce
- rule: no action
  desc: d
  condition: evt.type = execve and proc.name = other
  output: o
  priority: NOTICE
`;

const alert: Alert = { timeNs: 1n, rule: 'r', priority: 5, source: 'syscall', message: 'm', outputFields: {}, tags: [], hostname: 'h' };

function setup(config: EnforcementConfig = CONFIG, live = true) {
  const rs = rules(RULES);
  expect(rs.errors).toEqual([]);
  const killed: number[] = [];
  let now = 0;
  const enforcer = new Enforcer({ config, live, selfTgids: new Set([7]), kill: (tgid) => killed.push(tgid), nowMs: () => now, isKernelThread: (tgid) => tgid === 2 });
  enforcer.setRules(rs.rules);
  const rule = (name: string) => rs.rules.find((r) => r.name === name)!;
  const decide = (name: string, init: Parameters<typeof syntheticEvent>[0]) => enforcer.decide(rule(name), syntheticEvent(init), init.comm, alert);
  return { enforcer, killed, decide, advance: (ms: number) => (now += ms) };
}

describe('rule keys', () => {
  it('reads actions and enforcement, and refuses unknown values', () => {
    const rs = rules(RULES);
    expect(rs.rules.map((r) => [r.name, r.actions, r.enforcement])).toEqual([
      ['exec kill', ['kill'], 'enforce'],
      ['open kill', ['kill'], undefined],
      ['lifecycle kill', ['kill'], 'enforce'],
      ['no action', [], undefined],
    ]);
    expect(rules('- rule: x\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: NOTICE\n  actions: [stop]\n').errors[0]?.message).toMatch(/unknown action 'stop'/);
    expect(rules('- rule: x\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: NOTICE\n  enforcement: always\n').errors[0]?.message).toMatch(/monitor or enforce/);
    const over = rules(`${RULES}\n- rule: no action\n  actions: [kill]\n  override: { actions: replace }\n`);
    expect(over.errors).toEqual([]);
    expect(over.rules.find((r) => r.name === 'no action')?.actions).toEqual(['kill']);
  });
});

describe('the decision at a match', () => {
  it('kills from user space in enforce mode and writes the result and delay on the alert', () => {
    const { decide, killed } = setup();
    const out = decide('exec kill', { type: 'execve', tgid: 4242, ptgid: 100, comm: 'victim' });
    expect(killed).toEqual([4242]);
    expect(out.outputFields['lanner.enforcement']).toBe('killed');
    expect(typeof out.outputFields['lanner.kill_delay_ms']).toBe('number');
    expect(out.message).toMatch(/^m enforcement=killed .* ms after the syscall$/);
  });

  it('monitor mode (the configured default) says would-kill and kills nothing', () => {
    const { decide, killed } = setup();
    const out = decide('open kill', { type: 'openat', tgid: 4242, comm: 'cat', str0: '/etc/shadow', ret: 3 });
    expect(killed).toEqual([]);
    expect(out.outputFields['lanner.enforcement']).toBe('would-kill');
  });

  it.each([
    [{ tgid: 1, ptgid: 0, comm: 'victim' }, /pid 1/],
    [{ tgid: 7, ptgid: 1, comm: 'victim' }, /the agent itself/],
    [{ tgid: 4243, ptgid: 7, comm: 'victim' }, /a process the agent started/],
    [{ tgid: 2, ptgid: 0, comm: 'victim' }, /a kernel thread/],
  ])('refuses the safeguarded %o', (who, why) => {
    const { decide, killed } = setup();
    const out = decide('exec kill', { type: 'execve', ...who });
    expect(killed).toEqual([]);
    expect(out.outputFields['lanner.enforcement']).toBe('refused');
    expect(out.outputFields['lanner.enforcement_reason']).toMatch(why);
  });

  it('refuses protected names, exact and by prefix', () => {
    const { enforcer, killed } = setup();
    const rs = rules(RULES.replace(/proc.name = victim/g, 'proc.name startswith c'));
    enforcer.setRules(rs.rules);
    const rule = rs.rules[0]!;
    const out = enforcer.decide(rule, syntheticEvent({ type: 'execve', tgid: 5000, ptgid: 2, comm: 'containerd-shim' }), 'containerd-shim', alert);
    expect(out.outputFields['lanner.enforcement_reason']).toMatch(/protected process 'containerd-shim'/);
    expect(killed).toEqual([]);
  });

  it('holds kills past the rate limit', () => {
    const { decide, killed, advance } = setup();
    const results = [1, 2, 3].map((i) => decide('exec kill', { type: 'execve', tgid: 5000 + i, ptgid: 2, comm: 'victim' }).outputFields['lanner.enforcement']);
    expect(results).toEqual(['killed', 'killed', 'refused']);
    advance(1000);
    expect(decide('exec kill', { type: 'execve', tgid: 5009, ptgid: 2, comm: 'victim' }).outputFields['lanner.enforcement']).toBe('killed');
    expect(killed).toEqual([5001, 5002, 5009]);
  });

  it('reports what the kernel did from the record flags', () => {
    const { decide, killed } = setup();
    expect(decide('open kill', { type: 'openat', tgid: 6000, comm: 'cat', killFlags: FLAG_KILLED }).outputFields['lanner.enforcement']).toBe('killed-in-kernel');
    expect(decide('open kill', { type: 'openat', tgid: 6001, comm: 'cat', killFlags: FLAG_KILL_HELD }).outputFields['lanner.enforcement']).toBe('refused');
    expect(killed).toEqual([]);
  });

  it('refuses kill on a lifecycle rule, and a replay never kills', () => {
    const { decide, killed } = setup();
    expect(decide('lifecycle kill', { type: 'clone', tgid: 6002, comm: 'victim' }).outputFields['lanner.enforcement_reason']).toMatch(/kill not loaded: .*lifecycle/);
    const replay = setup(CONFIG, false);
    expect(replay.decide('exec kill', { type: 'execve', tgid: 6003, ptgid: 2, comm: 'victim' }).outputFields['lanner.enforcement']).toBe('would-kill');
    expect([...killed, ...replay.killed]).toEqual([]);
  });

  it('says failed when the process is already gone, and counts every decision', () => {
    const { enforcer } = setup();
    const gone = new Enforcer({
      config: CONFIG,
      live: true,
      isKernelThread: () => false,
      kill: () => {
        throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
      },
    });
    gone.setRules(rules(RULES).rules);
    const rule = gone.current.rules.get('exec kill');
    expect(rule?.status.where).toBe('user');
    const out = gone.decide(rules(RULES).rules[0]!, syntheticEvent({ type: 'execve', tgid: 7000, ptgid: 2, comm: 'victim' }), 'victim', alert);
    expect(out.outputFields).toMatchObject({ 'lanner.enforcement': 'failed', 'lanner.enforcement_reason': 'the process had already exited' });
    expect(gone.metricsStats().decisions).toEqual([{ rule: 'exec kill', result: 'failed', count: 1 }]);
    expect(enforcer.metricsStats().decisions).toEqual([]);
  });

  it('leaves alerts of rules without actions unchanged', () => {
    const { decide } = setup();
    expect(decide('no action', { type: 'execve', tgid: 7001, comm: 'other' })).toBe(alert);
  });
});

describe('kernel threads', () => {
  it('reads the PF_KTHREAD flag from /proc', async () => {
    const { isKernelThread } = await import('../../src/enforce/safeguards');
    expect(isKernelThread(2)).toBe(true); // kthreadd
    expect(isKernelThread(process.pid)).toBe(false);
    expect(isKernelThread(0x7ffffffe)).toBe(false); // no such process
  });
});
