import { chmodSync, chownSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PostureEngine } from '../../src/posture/evaluator';
import { PostureTap } from '../../src/posture/tap';
import type { StatusChange } from '../../src/posture/types';
import { eventTypeByName } from '../../src/probe/event-types';
import { syntheticEvent } from '../../src/probe/synthetic';
import { postureConfig, put, tempRoot } from './helpers';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('PostureTap: events to posture re-evaluation', () => {
  function setup(): { root: string; engine: PostureEngine; tap: PostureTap; changes: StatusChange[] } {
    const t = tempRoot();
    cleanups.push(t.cleanup);
    const engine = new PostureEngine(postureConfig(t.root, { debounce_ms: 20 }));
    cleanups.push(() => engine.close());
    const changes: StatusChange[] = [];
    engine.onStatusChange((c) => changes.push(c));
    return { root: t.root, engine, tap: new PostureTap(engine, { fdPath: () => `${t.root}/etc/kubernetes/admin.conf` }), changes };
  }

  it('a component exec is evaluated after the batch, with argv copied from the event', async () => {
    const { engine, tap, changes } = setup();
    tap.afterRules(syntheticEvent({ type: 'execve', tgid: 4242, ret: 0, comm: 'kube-scheduler', exePath: '/usr/bin/kube-scheduler', argv: ['kube-scheduler', '--profiling=true'] }));
    tap.afterRules(syntheticEvent({ type: 'execve', tgid: 4243, ret: 0, comm: 'bash', exePath: '/bin/bash', argv: ['bash'] }));
    expect(engine.result('cis-1.12', '1.4.1')).toBeUndefined();
    await settle(10);
    expect(engine.result('cis-1.12', '1.4.1')?.status).toBe('FAIL');
    expect(changes.find((c) => c.id === '1.4.1')?.subject).toBe('kube-scheduler (pid 4242)');
    expect(tap.stats()).toMatchObject({ execsQueued: 1, execsDropped: 0 });
  });

  it('write-opens, chmods, renames and fd-based changes of watched files trigger a debounced re-check; reads and failures do not', async () => {
    const { root, engine, tap, changes } = setup();
    const real = put(root, '/etc/kubernetes/admin.conf', 'x', 0o600);
    engine.scanAll();
    chmodSync(real, 0o644);
    tap.afterRules(syntheticEvent({ type: 'openat', tgid: 1, ret: 3, str0: real, args: [-100, 0, 0, 0] })); // O_RDONLY
    tap.afterRules(syntheticEvent({ type: 'fchmodat', tgid: 1, ret: -1, str0: real, args: [-100, 0, 0o644] })); // failed
    expect(tap.stats().pathEvents).toBe(0);
    tap.afterRules(syntheticEvent({ type: 'fchmodat', tgid: 1, ret: 0, str0: real, args: [-100, 0, 0o644] }));
    tap.afterRules(syntheticEvent({ type: 'openat', tgid: 1, ret: 3, str0: real, args: [-100, 0, 0o1, 0] })); // O_WRONLY, coalesced
    tap.afterRules(syntheticEvent({ type: 'renameat2', tgid: 1, ret: 0, str0: `${root}/tmp/x`, str1: real, args: [-100, 0, -100, 0, 0] }));
    tap.afterRules(syntheticEvent({ type: 'fchmod', tgid: 1, ret: 0, args: [5, 0o644] }));
    tap.afterRules(syntheticEvent({ type: 'openat', tgid: 1, ret: 3, str0: '/etc/hostname', args: [-100, 0, 0o1, 0] }));
    await settle(100);
    expect(changes.filter((c) => c.id === '1.1.13').map((c) => `${c.from}->${c.to}`)).toEqual(['null->PASS', 'PASS->FAIL']);
    expect(engine.stats().fileEvaluations).toBe(1);
  });

  it('an ownership change (the chown family, fchown by the path its record carries) triggers a re-check', async () => {
    const { root, engine, tap, changes } = setup();
    put(root, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n', 0o644);
    put(root, '/etc/group', 'root:x:0:\n', 0o644);
    const real = put(root, '/etc/kubernetes/admin.conf', 'x', 0o600);
    chownSync(real, 0, 0);
    engine.scanAll();
    chownSync(real, 1234, 1234);
    tap.afterRules(syntheticEvent({ type: 'fchownat', tgid: 1, ret: -1, str0: real, args: [-100, 0, 1234, 1234, 0] })); // failed
    expect(tap.stats().pathEvents).toBe(0);
    tap.afterRules(syntheticEvent({ type: 'chown', tgid: 1, ret: 0, str0: real, args: [0, 1234, 1234] }));
    await settle(100);
    chownSync(real, 0, 0);
    tap.afterRules(syntheticEvent({ type: 'fchown', tgid: 1, ret: 0, str0: real, args: [7, 0, 0] }));
    await settle(100);
    expect(changes.filter((c) => c.id === '1.1.14').map((c) => `${c.from}->${c.to}`)).toEqual(['null->PASS', 'PASS->FAIL', 'FAIL->PASS']);
    for (const name of ['chown', 'lchown', 'fchown', 'fchownat']) expect(tap.requiredEventTypes.has(name), name).toBe(true);
  });

  it('asks the probe only for event types the probe knows', () => {
    const tap = new PostureTap(new PostureEngine(postureConfig(tempRoot().root)));
    for (const name of tap.requiredEventTypes) expect(eventTypeByName(name), name).toBeDefined();
    for (const name of ['execve', 'openat', 'fchmodat', 'renameat2', 'unlinkat']) expect(tap.requiredEventTypes.has(name), name).toBe(true);
  });
});
