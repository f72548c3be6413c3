import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type EventHook } from '../../src/engine/rule-engine';
import { kernelCaptureFor } from '../../src/rules/kernel-needs';
import { RulesManager, type ReloadResult } from '../../src/engine/manager';
import type { Alert } from '../../src/outputs/alert';
import { syntheticBatch, syntheticEvent } from '../../src/probe/synthetic';
import { compileRules, loadRules } from '../../src/rules/ruleset';
import { container, FakeState, proc } from '../rules/fake-state';
import { STOCK_STABLE, STOCK_SYSCALL_FILES } from '../support/stock-rules';

const STABLE = STOCK_STABLE;
const BOOT = 1_700_000_000_000_000_000n;

function shellInContainer(): FakeState {
  const s = new FakeState();
  s.addProcess(
    proc({ tgid: 50, name: 'runc:[1:CHILD]', exe: 'runc', exePath: '/usr/bin/runc', containerId: 'host' }),
    proc({ tgid: 60, ptgid: 50, name: 'bash', exe: 'bash', exePath: '/usr/bin/bash', args: ['-i'], tty: 34816, containerId: '3ad7b26ded6d' }),
  );
  s.addContainer(container({ id: '3ad7b26ded6d', name: 'web', imageRepository: 'nginx', imageTag: '1.27', podName: 'web-0', podNamespace: 'shop' }));
  return s;
}
const execBash = syntheticEvent({ type: 'execve', tgid: 60, ptgid: 50, tty: 34816, comm: 'bash', tsNs: 123_456_789 });

function engineWith(state: FakeState, alerts: Alert[], matching: 'first' | 'all' = 'first', queueCapacity?: number): Engine {
  return new Engine({ reader: state, hooks: [state], onAlert: (a) => alerts.push(a), matching, bootOffsetNs: BOOT, hostname: 'node-1', ...(queueCapacity ? { queueCapacity, sliceMs: 0 } : {}) });
}

describe('Engine with the stock stable rules', () => {
  const rs = loadRules([STABLE]);

  it('raises Terminal shell in container with Falco-shaped output', () => {
    const alerts: Alert[] = [];
    const e = engineWith(shellInContainer(), alerts);
    e.setRuleset(rs);
    e.process(execBash);
    expect(alerts.map((a) => a.rule)).toEqual(['Terminal shell in container']);
    const a = alerts[0]!;
    expect(a.priority).toBe(5);
    expect(a.source).toBe('syscall');
    expect(a.hostname).toBe('node-1');
    expect(a.timeNs).toBe(BOOT + 123_456_789n);
    expect(a.tags).toEqual([...a.tags].sort());
    expect(a.tags).toContain('maturity_stable');
    expect(a.message).toMatch(/^A shell was spawned in a container with an attached terminal \| evt_type=execve user=root user_uid=0 user_loginuid=-1 process=bash proc_exepath=\/usr\/bin\/bash parent=runc:\[1:CHILD\] command=bash -i terminal=34816 exe_flags=0/);
    expect(a.message.endsWith(' container_id=3ad7b26ded6d container_name=web container_image_repository=nginx container_image_tag=1.27 k8s_pod_name=web-0 k8s_ns_name=shop')).toBe(true);
    expect(a.outputFields).toMatchObject({ 'evt.type': 'execve', 'proc.tty': 34816, 'user.loginuid': -1, 'user.uid': 0, 'proc.name': 'bash', 'k8s.pod.name': 'web-0', 'container.id': '3ad7b26ded6d' });
  });

  it('renders <NA> in text and null in fields when a value is missing', () => {
    const alerts: Alert[] = [];
    const s = shellInContainer();
    s.containers.clear(); // metadata lookup still in flight
    const e = engineWith(s, alerts);
    e.setRuleset(rs);
    e.process(execBash);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.message).toContain('container_name=<NA>');
    expect(alerts[0]!.outputFields['k8s.pod.name']).toBeNull();
    expect(alerts[0]!.outputFields['container.id']).toBe('3ad7b26ded6d');
  });

  it('does not alert for a host shell without a terminal, and counts evaluations', () => {
    const alerts: Alert[] = [];
    const s = new FakeState().addProcess(proc({ tgid: 70, name: 'bash', exe: 'bash' }));
    const e = engineWith(s, alerts);
    e.setRuleset(rs);
    e.process(syntheticEvent({ type: 'execve', tgid: 70 }));
    e.process(syntheticEvent({ type: 'close', tgid: 70, args: [3] }));
    expect(alerts).toEqual([]);
    const st = e.stats();
    expect(st.events).toBe(2);
    // Evaluations count the rules the exec bucket ran: those the path gate skipped (bash is none
    // of the names or paths they need) are not counted.
    expect(st.evaluations).toBeGreaterThan(0);
    expect(st.evaluations).toBeLessThan(rs.byType[1]!.length);
    expect(s.before).toBe(2);
    expect(s.after).toBe(2);
  });

  it('the kernel capture covers rule types + what the hooks need', () => {
    const t = kernelCaptureFor(rs, { eventTypes: new FakeState().requiredEventTypes }).eventTypes;
    for (const n of ['execve', 'execveat', 'openat', 'connect', 'ptrace', 'clone', 'procexit']) expect(t.has(n), n).toBe(true);
    expect(t.has('mkdir')).toBe(false);
  });

  it('runs hooks in order before the rules and in reverse order after them', () => {
    const calls: string[] = [];
    const hook = (name: string): EventHook => ({ beforeRules: () => calls.push(`before ${name}`), afterRules: () => calls.push(`after ${name}`) });
    const e = new Engine({ reader: new FakeState(), hooks: [hook('state'), hook('posture'), { afterRules: () => calls.push('after-only') }], onAlert: () => undefined, bootOffsetNs: 0n, hostname: 'h' });
    e.setRuleset(rs);
    e.process(syntheticEvent({ type: 'openat', tgid: 1, str0: '/x' }));
    expect(calls).toEqual(['before state', 'before posture', 'after-only', 'after posture', 'after state']);
  });
});

const twoRules = `
- rule: First
  desc: d
  condition: evt.type = openat and fd.name startswith /etc
  output: first %fd.name
  priority: WARNING
- rule: Second
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: second %proc.name %(fd.name) %evt.time %evt.time.iso8601 %proc.aname[3] %toupper(proc.name) 100%
  priority: ERROR
- rule: Disabled
  desc: d
  condition: evt.type = openat
  output: never
  priority: ERROR
  enabled: false
`;
const openShadow = syntheticEvent({ type: 'openat', tgid: 5, comm: 'cat', ret: 3, args: [-100, 0, 0, 0], str0: '/etc/shadow', tsNs: 1_000_000_000 });

describe('rule matching, output tokens, stats', () => {
  const rs = compileRules([{ name: 'two.yaml', content: twoRules }], { appendContainerFields: false });

  it('first stops at the first match; all reports every match', () => {
    const first: Alert[] = [];
    const e1 = engineWith(new FakeState(), first, 'first');
    e1.setRuleset(rs);
    e1.process(openShadow);
    expect(first.map((a) => a.rule)).toEqual(['First']);
    const all: Alert[] = [];
    const e2 = engineWith(new FakeState(), all, 'all');
    e2.setRuleset(rs);
    e2.process(openShadow);
    expect(all.map((a) => a.rule)).toEqual(['First', 'Second']);
    const st = e2.stats();
    expect(st.matches).toBe(2);
    expect(st.matchesByPriority[3]).toBe(1);
    expect(st.matchesByRule).toEqual([
      { rule: 'First', priority: 4, count: 1 },
      { rule: 'Second', priority: 3, count: 1 },
    ]);
    expect(st.rulesLoaded).toBe(3);
    expect(st.rulesEnabled).toBe(2);
  });

  it('renders %(field), times and missing ancestors', () => {
    const all: Alert[] = [];
    const e = engineWith(new FakeState(), all, 'all');
    e.setRuleset(rs);
    e.process(openShadow);
    const a = all[1]!;
    const t = BOOT + 1_000_000_000n;
    const iso = new Date(Number(t / 1_000_000n)).toISOString().replace(/\.\d+Z$/, '');
    expect(a.message).toBe(`second cat /etc/shadow ${iso.slice(11)}.${(t % 1_000_000_000n).toString().padStart(9, '0')} ${iso}.${(t % 1_000_000_000n).toString().padStart(9, '0')}Z <NA> CAT 100%`);
    expect(a.outputFields['toupper(proc.name)']).toBe('CAT');
    expect(a.outputFields['evt.time']).toBe(t);
    expect(a.outputFields['proc.aname[3]']).toBeNull();
    expect(a.outputFields['fd.name']).toBe('/etc/shadow');
  });

  it('skip-if-unknown-filter also covers output fields', () => {
    const doc = '- rule: U\n  desc: d\n  condition: evt.type = openat\n  output: x %proc.nosuch\n  priority: INFO\n';
    const strict = compileRules([{ name: 'u.yaml', content: doc }]);
    expect(strict.errors[0]).toMatchObject({ code: 'LOAD_ERR_COMPILE_OUTPUT', line: 4, column: 14 });
    const lenient = compileRules([{ name: 'u.yaml', content: doc + '  skip-if-unknown-filter: true\n' }]);
    expect(lenient.errors).toEqual([]);
    expect(lenient.warnings.map((w) => w.code)).toEqual(['LOAD_UNKNOWN_FILTER']);
  });

  it('swaps rulesets atomically', () => {
    const alerts: Alert[] = [];
    const e = engineWith(new FakeState(), alerts);
    e.setRuleset(rs);
    e.process(openShadow);
    e.setRuleset(compileRules([{ name: 'n.yaml', content: twoRules.replace('startswith /etc', 'startswith /nothing') }]));
    e.process(openShadow);
    expect(alerts.map((a) => a.rule)).toEqual(['First', 'Second']);
  });
});

describe('bounded queue', () => {
  const rs = compileRules([{ name: 'two.yaml', content: twoRules }]);
  it('defers the backlog, drops beyond capacity (counted by type) and evaluates the rest', () => {
    const alerts: Alert[] = [];
    const e = engineWith(new FakeState(), alerts, 'first', 3);
    e.setRuleset(rs);
    const evs = Array.from({ length: 600 }, () => openShadow);
    e.processBatch(syntheticBatch(evs));
    const q = e.stats().queue;
    expect(q.capacity).toBe(3);
    // sliceMs 0: the first 255 run in place, the 256th checks the clock and defers.
    expect(e.stats().events).toBe(255);
    expect(q.depth).toBe(3);
    expect(q.dropped).toBe(600 - 255 - 3);
    expect(q.droppedByType[openShadow.typeId]).toBe(q.dropped);
    e.flush();
    expect(e.stats().events).toBe(258);
    expect(alerts.length).toBe(258);
  });
  it('evaluates in place when not behind', () => {
    const alerts: Alert[] = [];
    const e = new Engine({ reader: new FakeState(), onAlert: (a) => alerts.push(a), bootOffsetNs: 0n, hostname: 'h', queueCapacity: 10 });
    e.setRuleset(rs);
    e.processBatch(syntheticBatch([openShadow, openShadow]));
    expect(alerts.length).toBe(2);
    expect(e.stats().queue.enqueued).toBe(0);
  });
});

describe('RulesManager hot reload', () => {
  let dir = '';
  let mgr: RulesManager | undefined;
  afterEach(() => {
    mgr?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the running ruleset on errors and reports file:line:col', () => {
    dir = mkdtempSync(join(tmpdir(), 'lanner-rules-'));
    const f = join(dir, 'r.yaml');
    writeFileSync(f, twoRules);
    const e = engineWith(new FakeState(), []);
    mgr = new RulesManager({ engine: e, paths: [dir] });
    const ok = mgr.reload();
    expect(ok.applied).toBe(true);
    expect(ok.rules).toBe(3);
    const running = e.currentRuleset;
    writeFileSync(f, twoRules.replace('fd.name = /etc/shadow', 'fd.name === /etc/shadow'));
    const bad = mgr.reload();
    expect(bad.applied).toBe(false);
    expect(bad.errors[0]).toMatchObject({ file: f, line: 9, column: 46, code: 'LOAD_ERR_COMPILE_CONDITION' });
    expect(e.currentRuleset).toBe(running);
  });

  it('reloads on file change when watching', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanner-rules-'));
    const f = join(dir, 'r.yaml');
    writeFileSync(f, twoRules);
    const e = engineWith(new FakeState(), []);
    const results: ReloadResult[] = [];
    let resolveNext: (() => void) | undefined;
    mgr = new RulesManager({ engine: e, paths: [f], watch: true, debounceMs: 50, onReload: (r) => (results.push(r), resolveNext?.()) });
    mgr.reload();
    const changed = new Promise<void>((res) => (resolveNext = res));
    writeFileSync(f, twoRules.replace('- rule: Disabled', '- rule: Renamed'));
    await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no reload within 5s')), 5000))]);
    expect(results.length).toBe(2);
    expect(results[1]!.applied).toBe(true);
    expect(e.currentRuleset!.rules.map((r) => r.name)).toContain('Renamed');
  });
});

describe('type-specialised buckets agree with the generic predicates', () => {
  it('on a mix of events over all three stock files', async () => {
    const { ExtractContext } = await import('../../src/rules/context');
    const rs = loadRules([...STOCK_SYSCALL_FILES]);
    const s = shellInContainer();
    s.addProcess(proc({ tgid: 61, ptgid: 60, name: 'cat', exe: 'cat', exePath: '/usr/bin/cat', args: ['/etc/shadow'], containerId: '3ad7b26ded6d', tty: 34816 }));
    const events = [
      execBash,
      syntheticEvent({ type: 'openat', tgid: 61, ret: 3, args: [-100, 0, 0, 0], str0: '/etc/shadow' }),
      syntheticEvent({ type: 'openat', tgid: 61, ret: -2, args: [-100, 0, 0, 0], str0: '/etc/nope' }),
      syntheticEvent({ type: 'ptrace', tgid: 61, args: [16, 60] }),
      syntheticEvent({ type: 'socket', tgid: 61, ret: 3, args: [17, 3, 0] }),
      syntheticEvent({ type: 'symlinkat', tgid: 61, str0: '/etc/shadow', str1: '/tmp/x' }),
      syntheticEvent({ type: 'connect', tgid: 61, args: [3], sockaddr: { family: 'ipv4', address: '10.96.0.1', port: 443 } }),
      syntheticEvent({ type: 'execve', tgid: 61, ptgid: 60, exePath: '/dev/shm/x', argv: ['/dev/shm/x'], exeFlags: 7 }),
      syntheticEvent({ type: 'unlinkat', tgid: 61, args: [-100, 0, 0], str0: '/var/log/syslog' }),
    ];
    const viaEngine: string[] = [];
    const e = new Engine({ reader: s, hooks: [s], onAlert: (a) => viaEngine.push(a.rule), matching: 'all', bootOffsetNs: 0n, hostname: 'h' });
    e.setRuleset(rs);
    events.forEach((ev) => e.process(ev));
    const generic: string[] = [];
    const ctx = new ExtractContext(s, rs.slotCount, rs.nodeCount, 0n, 'h');
    events.forEach((ev, i) => {
      ctx.evtNum = i + 1;
      ctx.reset(ev);
      for (const r of rs.byType[ev.typeId]!) if (r.predicate(ctx)) generic.push(r.name);
    });
    expect(viaEngine).toEqual(generic);
    expect(viaEngine.length).toBeGreaterThan(3);
  });
});

describe('metrics hooks', () => {
  it('samples latency, times batches and exposes the metrics shapes', () => {
    const lat: number[] = [];
    const batches: number[] = [];
    const rs = compileRules([{ name: 'two.yaml', content: twoRules }]);
    const e = new Engine({ reader: new FakeState(), onAlert: () => undefined, bootOffsetNs: 0n, hostname: 'h', eventLatency: { observe: (v) => lat.push(v) }, latencySampleEvery: 4, batchEvaluate: { observe: (v) => batches.push(v) }, queueCapacity: 9 });
    e.setRuleset(rs);
    const now = Number(process.hrtime.bigint());
    const ev = syntheticEvent({ type: 'openat', tgid: 5, ret: 3, args: [-100, 0, 0, 0], str0: '/etc/shadow', tsNs: now - 2_000_000 });
    e.processBatch(syntheticBatch(Array.from({ length: 8 }, () => ev)));
    expect(lat.length).toBe(2);
    expect(lat[0]!).toBeGreaterThanOrEqual(0.002);
    expect(lat[0]!).toBeLessThan(5);
    expect(batches.length).toBe(1);
    expect(e.metricsStats()).toEqual({ queueDepth: 0, queueCapacity: 9, droppedQueueFull: 0, ruleMatches: [{ rule: 'First', priority: 4, count: 8, source: 'syscall' }], holds: { settled: 0, timedOut: 0, queueHalfFull: 0 } });
  });
  it('RulesManager reports rules info', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanner-rules-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), twoRules);
      const e = new Engine({ reader: new FakeState(), onAlert: () => undefined, bootOffsetNs: 0n, hostname: 'h' });
      const m = new RulesManager({ engine: e, paths: [dir] });
      m.reload();
      writeFileSync(join(dir, 'b.yaml'), '- rule: [');
      m.reload();
      expect(m.rulesInfo()).toMatchObject({ enabled: 2, disabled: 1, reloadsSucceeded: 1, reloadsFailed: 1 });
      expect(m.rulesInfo().lastReloadTimestampSeconds).toBeGreaterThan(1e9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
