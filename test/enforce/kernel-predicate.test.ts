/**
 * The recognizer of kernel-enforceable kill rules (src/enforce/kernel-predicate.ts): which rules it
 * accepts and why it refuses the others, and, as a property, that the kernel's check equals the
 * rule's compiled predicate on every successful open the kernel judges (and never kills where the
 * rule does not match, whatever the open).
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killPlacementOf } from '../../src/enforce/kernel-predicate';
import { planEnforcement } from '../../src/enforce/plan';
import type { EnforcementConfig } from '../../src/enforce/config';
import { eventTypeByName } from '../../src/probe/event-types';
import { AT_FDCWD, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/probe/linux';
import { normalizePath } from '../../src/probe/decoder';
import { syntheticEvent } from '../../src/probe/synthetic';
import { ExtractContext } from '../../src/rules/context';
import { loadRules, type CompiledRule, type CompiledRuleset } from '../../src/rules/ruleset';
import { FakeState, fdInfo, proc } from '../rules/fake-state';
import { kernelJudges, kernelKillSlot, type ModelOpen } from './kernel-model';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-enforce-'));
let fileNo = 0;
const CONFIG: EnforcementConfig = { mode: 'enforce', kernel: true, protected: ['kubelet', 'containerd-shim*'], rate: { per_second: 10, burst: 20 } };

function rulesetOf(conditions: readonly string[]): CompiledRuleset {
  const file = join(tmp, `r${fileNo++}.yaml`);
  writeFileSync(file, conditions.map((c, i) => `- rule: r${i}\n  desc: d\n  condition: ${c}\n  output: o\n  priority: NOTICE\n  actions: [kill]\n`).join('\n'));
  const rs = loadRules([file]);
  expect(rs.errors).toEqual([]);
  return rs;
}

const ruleOf = (condition: string): CompiledRule => rulesetOf([condition]).rules[0]!;

describe('which kill rules the kernel enforces', () => {
  it.each([
    ['evt.type in (open, openat) and fd.name = /etc/shadow', ['/etc/shadow'], ['open', 'openat']],
    ['evt.type = openat and fd.name in (/etc/shadow, /etc/gshadow) and not proc.name in (passwd, chage)', ['/etc/shadow', '/etc/gshadow'], ['openat']],
    ['evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.name startswith /root/.ssh/ and evt.rawres >= 0', ['/root/.ssh/'], ['open', 'openat']],
    ['evt.type in (open, openat) and (fd.name = /a/b or fd.name startswith /c/) and proc.name != sshd', ['/a/b', '/c/'], ['open', 'openat']],
  ])('%s', (condition, paths, types) => {
    const placement = killPlacementOf(ruleOf(condition));
    expect(placement.where).toBe('kernel');
    if (placement.where !== 'kernel') return;
    expect(placement.spec.paths.map((p) => p.path)).toEqual(paths);
    expect(placement.spec.types).toEqual([...types].sort());
  });

  it.each([
    ['evt.type = execve and proc.name = nc', /not all opens/],
    ['evt.type = openat and fd.name contains shadow', /fd.name contains is not a kernel comparison/],
    ['evt.type = openat and fd.name = /etc/shadow and user.name = root', /user.name/],
    ['evt.type = openat and fd.name = etc/shadow', /not an absolute normalised path/],
    ['evt.type = openat and fd.name = /etc/../etc/shadow', /not an absolute normalised path/],
    ['evt.type = openat and fd.name startswith /etc and fd.name = /etc/shadow', /more than one path check/],
    ['evt.type = openat and proc.name = cat', /no fd.name path check|not a check/],
    ['evt.type = openat and fd.name = /etc/shadow and not proc.name in (averyveryverylongname)', /not a 1 to 15 byte process name/],
    ['evt.type = openat2 and evt.is_open_write = true and fd.name = /etc/shadow', /no open type the kernel can check/],
    ['evt.type = openat and (fd.name = /etc/shadow or proc.name = cat)', /not a check the kernel evaluates exactly/],
  ])('user space: %s', (condition, why) => {
    const placement = killPlacementOf(ruleOf(condition));
    expect(placement.where).toBe('user');
    expect(placement.why).toMatch(why);
  });

  it('refuses kill on lifecycle rules and plans the kernel tables', () => {
    const rs = rulesetOf(['evt.type = clone and proc.name = x', 'evt.type = openat and fd.name = /etc/shadow and not proc.name = passwd', 'evt.type = execve and proc.name = nc']);
    const plan = planEnforcement(rs.rules, CONFIG);
    expect(plan.rules.get('r0')?.status).toMatchObject({ where: 'refused', why: expect.stringMatching(/lifecycle events \(clone\)/) });
    expect(plan.rules.get('r1')?.status).toMatchObject({ where: 'kernel', slot: 0 });
    expect(plan.rules.get('r2')?.status.where).toBe('user');
    expect(plan.tables).toEqual({
      paths: [{ path: '/etc/shadow', exact: true, rule: 0 }],
      rules: [{ types: 1 << (eventTypeByName('openat')!.id - eventTypeByName('open')!.id), access: 0, exempt: 1 << 2, intervalNs: 1e8, toleranceNs: 19e8 }],
      names: [{ name: 'kubelet', prefix: false }, { name: 'containerd-shim', prefix: true }, { name: 'passwd', prefix: false }],
      protectedMask: 0b11,
    });
    // Monitor mode: the placement is reported, the kernel gets nothing.
    expect(planEnforcement(rs.rules, { ...CONFIG, mode: 'monitor' }).tables).toBeNull();
  });
});

// Paths the kernel judges and paths it does not (relative, non-normalised, trailing '/').
const PATHS = [
  '/etc/shadow', '/etc/shadowx', '/etc/shadow/', '/etc/gshadow', '/etc/passwd', '/root/.ssh/id_rsa', '/root/.ssh/', '/root/.sshx', '/a/b', '/a/bc', '/c/d/e', '/c',
  '/etc//shadow', '/etc/./shadow', '/tmp/../etc/shadow', 'etc/shadow', '/a/.b/', '/a/.b/c', `/c/${'x'.repeat(300)}`,
];
const NAMES = ['cat', 'passwd', 'sshd', 'kubelet', 'averyveryverylon', 'chage'];
const VALUES = ['/etc/shadow', '/etc/', '/etc/sha', '/root/.ssh/', '/a/b', '/c/', '/a/.b/', '/etc/gshadow'];

const pathCheck = fc.oneof(
  fc.constantFrom(...VALUES).map((v) => `fd.name = ${v}`),
  fc.constantFrom(...VALUES).map((v) => `fd.name startswith ${v}`),
  fc.subarray(VALUES, { minLength: 1, maxLength: 3 }).map((vs) => `fd.name in (${vs.join(', ')})`),
  fc.tuple(fc.constantFrom(...VALUES), fc.constantFrom(...VALUES)).map(([a, b]) => `(fd.name = ${a} or fd.name startswith ${b})`),
);
const extra = fc.constantFrom(
  'evt.is_open_read = true', 'evt.is_open_write = true', 'evt.rawres >= 0', 'fd.num >= 0', 'not proc.name in (passwd, chage)',
  'not proc.name = sshd', 'proc.name != cat', 'evt.type in (open, openat)', 'evt.type = openat2', 'fd.typechar = f',
);
const killCondition = fc
  .tuple(fc.subarray(['open', 'openat', 'openat2', 'creat'], { minLength: 1 }), pathCheck, fc.subarray(['e0', 'e1', 'e2'].map(() => 0), { maxLength: 0 }), fc.array(extra, { maxLength: 3 }))
  .map(([types, path, , extras]) => [`evt.type in (${types.join(', ')})`, path, ...extras].join(' and '));

const open: fc.Arbitrary<ModelOpen> = fc.record({
  type: fc.constantFrom('open', 'openat', 'openat2', 'creat') as fc.Arbitrary<ModelOpen['type']>,
  path: fc.constantFrom(...PATHS),
  flags: fc.constantFrom(O_RDONLY, O_WRONLY, O_RDWR, O_WRONLY | O_CREAT | O_TRUNC, O_RDONLY | O_TRUNC, O_RDONLY | O_DIRECTORY),
  comm: fc.constantFrom(...NAMES),
});

/** Whether the rule matches this successful open, as the engine evaluates it. */
function ruleMatches(rs: CompiledRuleset, rule: CompiledRule, o: ModelOpen): boolean {
  // The fd as the state tracker records a successful open (src/state/fd-events.ts).
  const flags = o.type === 'creat' ? O_WRONLY | O_CREAT | O_TRUNC : o.flags;
  const name = o.path.startsWith('/') ? normalizePath(o.path) : o.path;
  const state = new FakeState()
    .addProcess(proc({ tgid: 42, name: o.comm, exe: o.comm }))
    .addFd(42, fdInfo({ num: 3, type: flags & O_DIRECTORY ? 'directory' : 'file', name, nameRaw: o.path, openFlags: flags }));
  const type = eventTypeByName(o.type)!;
  const args = [0, 0, 0, 0, 0, 0];
  if (o.type === 'open') args[1] = o.flags;
  if (o.type === 'openat' || o.type === 'openat2') [args[0], args[2]] = [AT_FDCWD, o.flags];
  const ev = syntheticEvent({ type: o.type, tgid: 42, ret: 3, comm: o.comm, args, str0: o.path });
  const ctx = new ExtractContext(state, rs.slotCount, rs.nodeCount, 0n, 'node');
  let hit = false;
  ctx.reset(ev);
  rs.evaluators[type.id]?.(ctx, (i) => {
    if (rs.byType[type.id]![i] === rule) hit = true;
    return false;
  });
  return hit;
}

describe('the kernel check equals the rule on what the kernel judges', () => {
  it('random kill rules and successful opens', () => {
    let accepted = 0;
    let kills = 0;
    fc.assert(
      fc.property(killCondition, fc.array(open, { minLength: 20, maxLength: 40 }), (condition, opens) => {
        const rs = rulesetOf([condition]);
        const rule = rs.rules[0]!;
        const plan = planEnforcement(rs.rules, { ...CONFIG, protected: [] });
        if (plan.rules.get(rule.name)?.status.where !== 'kernel') return;
        accepted++;
        const spec = killPlacementOf(rule);
        if (spec.where !== 'kernel') throw new Error('placement changed');
        for (const o of opens) {
          const kernel = kernelKillSlot(plan.tables, o) !== undefined;
          const matches = ruleMatches(rs, rule, o);
          if (kernel) kills++;
          // Never a kill the rule would not make…
          if (kernel) expect(matches, `${condition}: ${o.type} ${o.path} by ${o.comm}`).toBe(true);
          // …and, on what the kernel judges for the types it checks, the same answer.
          if (kernelJudges(o.path) && spec.spec.types.includes(o.type)) expect(kernel, `${condition}: ${o.type} ${o.path} flags ${o.flags} by ${o.comm}`).toBe(matches);
        }
      }),
      { numRuns: 300 },
    );
    // The generator reaches the kernel: a property over rules it never accepts would prove nothing.
    expect(accepted).toBeGreaterThan(100);
    expect(kills).toBeGreaterThan(100);
  });
});
