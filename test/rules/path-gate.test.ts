/**
 * The engine's path gate (src/rules/path-gate.ts) changes no verdict: with it and without it, the
 * same rules match every open, path change and exec, for random rulesets, Falco's stock files and the
 * default rules. And it does skip: an open no atom holds for evaluates none of the bounded rules.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventTypeByName } from '../../src/probe/event-types';
import { O_RDONLY, O_WRONLY } from '../../src/probe/linux';
import { ExtractContext } from '../../src/rules/context';
import { loadRules, type CompiledRuleset } from '../../src/rules/ruleset';
import { syntheticEvent } from '../../src/probe/synthetic';
import { asCalled, change, changeCondition, changeScene, condition, conditionsOf, NAMES, open, openScene, PATHS, rulesetOf, rulesMatching, type Scene } from '../support/path-corpus';
import { FakeState, proc } from './fake-state';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { CHANGE_FILTER_TYPES } from '../../src/rules/filter-classes';

const DEFAULT_RULES = join(__dirname, '../../rules/lanner_rules.yaml');
/** An open, sometimes with the alias path the kernel found the file by. */
const openWithAlias = fc.tuple(open, fc.option(fc.constantFrom(...PATHS), { nil: undefined })).map(([o, alias]) => openScene(o, alias));
const changeCall = change.map((c) => changeScene(asCalled(c)));

const EXE_PATHS = ['/usr/bin/curl', '/usr/bin/bash', '/bin/sh', '/dev/shm/x', '/tmp/../usr/bin/curl', '/usr//bin/nc', 'bin/nc', '/usr/sbin/sshd', '/proc/self/fd/3', '/memfd:x (deleted)'];
const execCheck = fc.oneof(
  fc.tuple(fc.constantFrom('=', 'startswith', 'contains', 'endswith', 'glob', 'pmatch', 'in', '!='), fc.subarray(['/usr/bin', '/usr/bin/', '/usr/bin/curl', '/dev/shm', 'curl', 'sh', '../', '/bin/sh', 'memfd'], { minLength: 1, maxLength: 3 })).map(
    ([op, vs]) => (op === 'in' || op === 'pmatch' ? `proc.exepath ${op} (${vs.join(', ')})` : op === 'glob' ? `proc.exepath glob '*${vs[0]}*'` : `proc.exepath ${op} ${vs[0]}`),
  ),
  fc.tuple(fc.constantFrom('proc.name', 'proc.pname', 'proc.exe'), fc.constantFrom('=', 'in', '!='), fc.subarray(NAMES, { minLength: 1, maxLength: 3 })).map(([f, op, vs]) => (op === 'in' ? `${f} in (${vs.join(', ')})` : `${f} ${op} ${vs[0]}`)),
  fc.constantFrom('evt.type = execve', 'evt.type = open', 'proc.is_exe_from_memfd = true', 'evt.res = 0'),
);
/** An exec, the new image known to the state or (before the state saw it) only in the record. */
const execScene: fc.Arbitrary<Scene> = fc.record({ name: fc.constantFrom(...NAMES), exe: fc.constantFrom(...EXE_PATHS), known: fc.boolean() }).map(({ name, exe, known }) => {
  const state = new FakeState().addProcess(proc({ tgid: 7, name: 'containerd', exe: 'containerd' }));
  if (known) state.addProcess(proc({ tgid: 42, ptgid: 7, name, exe: name, exePath: exe }));
  return { state, ev: syntheticEvent({ type: 'execve', tgid: 42, ptgid: 7, ret: 0, comm: name.slice(0, 15), argv: [name], exePath: exe }) };
});

/** Both rulesets' verdicts on a scene: equal rule lists, or a message naming the difference. */
function sameVerdict(gated: CompiledRuleset, ungated: CompiledRuleset, s: Scene): number {
  const want = rulesMatching(ungated, s);
  expect(rulesMatching(gated, s), `${EVENT_TYPES[s.ev.typeId]!.name} ${s.ev.strRaw(0)} ${s.ev.strRaw(1) ?? ''} by ${s.ev.comm()}`).toEqual(want);
  return want.length;
}

/** How many of the bucket's rules the engine evaluated for this event. */
function evaluated(rs: CompiledRuleset, s: Scene): number {
  const ctx = new ExtractContext(s.state, rs.slotCount, rs.nodeCount, 0n, 'node');
  ctx.reset(s.ev);
  return rs.evaluators[s.ev.typeId]?.(ctx, () => false) ?? 0;
}

describe("the engine's path gate changes no verdict", () => {
  /** Random rulesets of `conditions` on `types` against random scenes; returns how many rules matched in all. */
  function compareOver(types: fc.Arbitrary<readonly string[] | undefined>, conditions: fc.Arbitrary<string>, scenes: fc.Arbitrary<Scene>): number {
    let matched = 0;
    fc.assert(
      fc.property(types, fc.array(conditions, { minLength: 1, maxLength: 4 }), fc.array(scenes, { minLength: 10, maxLength: 30 }), (ts, conds, ss) => {
        const gated = rulesetOf(conds, ts);
        const ungated = rulesetOf(conds, ts, { pathGate: false });
        for (const sc of ss) matched += sameVerdict(gated, ungated, sc);
      }),
      { numRuns: 150 },
    );
    return matched;
  }

  it('random rulesets over opens, with and without aliases', () => {
    expect(compareOver(fc.constant(undefined), condition, openWithAlias)).toBeGreaterThan(100);
  });

  it('random rulesets over path-changing types', () => {
    expect(compareOver(fc.subarray([...CHANGE_FILTER_TYPES], { minLength: 1, maxLength: 4 }), changeCondition, changeCall)).toBeGreaterThan(50);
  });

  it('random rulesets over execs', () => {
    expect(compareOver(fc.constant(['execve']), conditionsOf(execCheck), execScene)).toBeGreaterThan(100);
  });

  it("Falco's stock files and the default rules", () => {
    for (const files of [[...STOCK_SYSCALL_FILES], [DEFAULT_RULES]]) {
      const gated = loadRules(files);
      const ungated = loadRules(files, { pathGate: false });
      let matched = 0;
      fc.assert(
        fc.property(fc.oneof(openWithAlias, changeCall, execScene), (s) => {
          matched += sameVerdict(gated, ungated, s);
        }),
        { numRuns: 4000 },
      );
      // The corpus reaches the rules: a comparison over events no rule matches would prove nothing.
      expect(matched, files.join(' ')).toBeGreaterThan(20);
    }
  });
});

describe("the engine's path gate skips", () => {
  const stock = loadRules([...STOCK_SYSCALL_FILES]);
  const openat = eventTypeByName('openat')!.id;
  const bucket = stock.byType[openat]!.length;
  const read = (path: string, flags = O_RDONLY): Scene => openScene({ type: 'openat', path, flags, comm: 'nginx' });

  it('every bounded rule of an open no atom holds for', () => {
    expect(bucket).toBeGreaterThan(15);
    expect(evaluated(stock, read('/usr/share/nginx/html/index.html'))).toBe(0);
  });

  it('all but the rules an atom names', () => {
    const n = evaluated(stock, read('/etc/shadow'));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(bucket / 2);
    // Writes reach the rules that watch writes too.
    expect(evaluated(stock, read('/etc/shadow', O_WRONLY))).toBeGreaterThan(n);
  });

  it('nothing for a path the kernel would not judge, or an open found by an alias', () => {
    expect(evaluated(stock, read('/etc/../etc/shadow'))).toBe(bucket);
    expect(evaluated(stock, read('etc/shadow'))).toBe(bucket);
    expect(evaluated(stock, openScene({ type: 'openat', path: '/usr/share/x', flags: O_RDONLY, comm: 'nginx' }, '/etc/shadow'))).toBe(bucket);
  });
});
