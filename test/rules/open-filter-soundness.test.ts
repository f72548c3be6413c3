/**
 * Soundness of the kernel's open filter: whatever an enabled rule matches, the filter derived
 * from the rules ships. Random rulesets from the condition shapes real rules use, random opens
 * (normalised, relative, traversing, long, writing, by many programs), and Falco's stock files.
 */
import fc from 'fast-check';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AT_FDCWD, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/probe/linux';
import { syntheticEvent } from '../../src/probe/synthetic';
import { ExtractContext } from '../../src/rules/context';
import { CHANGE_FILTER_TYPES, changeFilterFor, openFilterFor } from '../../src/rules/open-filter';
import { loadRules, type CompiledRuleset } from '../../src/rules/ruleset';
import { eventTypeByName } from '../../src/probe/event-types';
import { kernelShipsChange, kernelShipsOpen, type ModelChange, type ModelOpen } from '../support/open-filter-model';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { FakeState, proc } from './fake-state';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-ofs-'));
let fileNo = 0;

const PATHS = [
  '/etc/shadow', '/etc/hostname', '/etc/passwd', '/etc/ssh/sshd_config', '/root/.ssh/id_rsa', '/home/u/.ssh/authorized_keys',
  '/var/log/auth.log', '/usr/lib/x86_64-linux-gnu/liblzma.so.5.6.1', '/proc/self/mem', '/dev/shm/x', '/tmp/a../b',
  '/etc/../etc/shadow', '/etc//shadow', '/./etc/shadow', 'etc/shadow', '../../etc/shadow', '/etc/sudoers.d/x', '/bin/sh',
  `/tmp/${'d'.repeat(300)}/x`, '/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml',
];
const NAMES = ['sshd', 'cat', 'bash', 'tar', 'node', 'kubelet', 'averyveryverylongname', 'python3'];
const VALUES = ['/etc', '/etc/', '/etc/shadow', '/root/.ssh', '/var/log', '/dev/shm', 'id_rsa', 'liblzma', '../', 'shadow', '/usr/lib', '/etc/sudoers.d'];

const fieldCheck = fc.oneof(
  fc.tuple(fc.constantFrom('fd.name', 'evt.arg.name', 'fd.nameraw', 'fd.directory'), fc.constantFrom('=', 'startswith', 'contains', 'endswith', 'glob', 'pmatch', 'in'), fc.subarray(VALUES, { minLength: 1, maxLength: 3 })).map(
    ([f, op, vs]) => (op === 'in' || op === 'pmatch' ? `${f} ${op} (${vs.join(', ')})` : op === 'glob' ? `${f} glob '*${vs[0]}*'` : `${f} ${op} ${vs[0]}`),
  ),
  fc.tuple(fc.constantFrom('=', 'in', '!='), fc.subarray(NAMES, { minLength: 1, maxLength: 3 })).map(([op, vs]) => (op === 'in' ? `proc.name in (${vs.join(', ')})` : `proc.name ${op} ${vs[0]}`)),
  fc.constantFrom('evt.is_open_write = true', 'evt.is_open_read = true', 'evt.arg.flags contains O_TRUNC', 'evt.arg.flags contains O_CREAT', 'fd.typechar = f', 'fd.num >= 0', 'evt.type in (open, openat, openat2)', 'evt.type = execve', "fd.nameraw glob '*../*'"),
);

/** Conditions built from `check` leaves with and, or and not, a few levels deep. */
function conditionsOf(check: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, check, tie('and'), tie('or'), tie('not')),
    and: fc.array(tie('node') as fc.Arbitrary<string>, { minLength: 2, maxLength: 3 }).map((xs) => `(${xs.join(' and ')})`),
    or: fc.array(tie('node') as fc.Arbitrary<string>, { minLength: 2, maxLength: 3 }).map((xs) => `(${xs.join(' or ')})`),
    not: (tie('node') as fc.Arbitrary<string>).map((x) => `not ${x}`),
  })).node as fc.Arbitrary<string>;
}

const condition = conditionsOf(fieldCheck);

const open: fc.Arbitrary<ModelOpen> = fc.record({
  type: fc.constantFrom('open', 'openat', 'openat2', 'creat') as fc.Arbitrary<ModelOpen['type']>,
  path: fc.constantFrom(...PATHS),
  flags: fc.constantFrom(O_RDONLY, O_WRONLY, O_RDWR, O_WRONLY | O_CREAT | O_TRUNC, O_RDONLY | O_TRUNC),
  comm: fc.constantFrom(...NAMES.map((n) => n.slice(0, 15))),
});

/** One rule per condition, each on `types`. */
function rulesetOf(conditions: readonly string[], types: readonly string[] = ['open', 'openat', 'openat2', 'creat']): CompiledRuleset {
  const file = join(tmp, `r${fileNo++}.yaml`);
  writeFileSync(file, conditions.map((c, i) => `- rule: r${i}\n  desc: d\n  condition: evt.type in (${types.join(', ')}) and ${c}\n  output: o\n  priority: NOTICE\n`).join('\n'));
  const rs = loadRules([file]);
  expect(rs.errors).toEqual([]);
  return rs;
}

/** Whether any enabled rule of the ruleset matches this open, as the engine evaluates it. */
function anyRuleMatches(rs: CompiledRuleset, o: ModelOpen): boolean {
  const state = new FakeState().addProcess(proc({ tgid: 42, name: o.comm, exe: o.comm }));
  const type = eventTypeByName(o.type)!;
  // open(path, flags) and creat(path, mode); openat(dirfd, path, flags) with AT_FDCWD.
  const args = [0, 0, 0, 0, 0, 0];
  if (o.type === 'open') args[1] = o.flags;
  if (o.type === 'openat' || o.type === 'openat2') [args[0], args[2]] = [AT_FDCWD, o.flags];
  const ev = syntheticEvent({ type: o.type, tgid: 42, ret: 3, comm: o.comm, args, str0: o.path });
  const ctx = new ExtractContext(state, rs.slotCount, rs.nodeCount, 0n, 'node');
  let hit = false;
  ctx.reset(ev);
  rs.evaluators[type.id]?.(ctx, () => (hit = true));
  return hit;
}

describe('the kernel open filter is sound', () => {
  it('random rulesets: every open a rule matches ships', () => {
    fc.assert(
      fc.property(fc.array(condition, { minLength: 1, maxLength: 4 }), fc.array(open, { minLength: 10, maxLength: 30 }), (conds, opens) => {
        const rs = rulesetOf(conds);
        const { filter } = openFilterFor(rs);
        for (const o of opens) if (anyRuleMatches(rs, o)) expect(kernelShipsOpen(filter, o), `${o.type} ${o.path} by ${o.comm}`).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("Falco's stock files: every open a stock rule matches ships", () => {
    const rs = loadRules([...STOCK_SYSCALL_FILES]);
    const { filter } = openFilterFor(rs);
    expect(filter).not.toBeNull();
    let matched = 0;
    fc.assert(
      fc.property(open, (o) => {
        if (!anyRuleMatches(rs, o)) return;
        matched++;
        expect(kernelShipsOpen(filter, o), `${o.type} ${o.path} by ${o.comm}`).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // The corpus reaches the rules: a soundness check over opens no rule matches would prove nothing.
    expect(matched).toBeGreaterThan(20);
  });
});

const CHANGE_FIELDS = [
  'evt.arg.path', 'evt.arg.name', 'evt.arg.oldpath', 'evt.arg.newpath', 'evt.arg.target', 'evt.arg.linkpath', 'evt.arg.filename', 'evt.arg.pathname',
  'fs.path.name', 'fs.path.nameraw', 'fs.path.source', 'fs.path.target', 'fs.path.targetraw', 'fd.name', 'fd.directory', 'fd.filename',
];
const changeCheck = fc.oneof(
  fc.tuple(fc.constantFrom(...CHANGE_FIELDS), fc.constantFrom('=', 'startswith', 'contains', 'endswith', 'glob', 'pmatch', 'in', '!='), fc.subarray([...VALUES, '_history', '.bash_history', '/root/.bash_history', 'passwd'], { minLength: 1, maxLength: 3 })).map(
    ([f, op, vs]) => (op === 'in' || op === 'pmatch' ? `${f} ${op} (${vs.join(', ')})` : op === 'glob' ? `${f} glob '*${vs[0]}'` : `${f} ${op} ${vs[0]}`),
  ),
  fc.tuple(fc.constantFrom('=', 'in'), fc.subarray(NAMES, { minLength: 1, maxLength: 3 })).map(([op, vs]) => (op === 'in' ? `proc.name in (${vs.join(', ')})` : `proc.name ${op} ${vs[0]}`)),
  fc.constantFrom('evt.rawres = 0', 'evt.type in (unlink, unlinkat)', 'evt.type = rename', 'fd.num >= 0'),
  fc.constantFrom('S_ISUID', 'S_ISGID', 'S_IS', 'S_IXOTH', 'S_IWGRP', 'ISUID', '0755', '4').map((v) => `evt.arg.mode contains ${v}`),
);
const changeCondition = conditionsOf(changeCheck);

const CHANGE_PATHS = [...PATHS, '/root/.bash_history', '/home/u/.zsh_history', '/etc/sudoers', '/etc', '/etc/', '/', 'x_history'];
const change: fc.Arbitrary<ModelChange> = fc.record({
  type: fc.constantFrom(...CHANGE_FILTER_TYPES),
  paths: fc.tuple(fc.constantFrom(...CHANGE_PATHS), fc.constantFrom(...CHANGE_PATHS)),
  comm: fc.constantFrom(...NAMES.map((n) => n.slice(0, 15))),
  mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o600, 0),
});

/** Whether any enabled rule matches this path change, as the engine evaluates it. */
function anyRuleMatchesChange(rs: CompiledRuleset, c: ModelChange): boolean {
  const state = new FakeState().addProcess(proc({ tgid: 42, name: c.comm, exe: c.comm }));
  const type = eventTypeByName(c.type)!;
  const twoPaths = type.params.some((p) => p.source.from === 'str' && p.source.slot === 1);
  const args = [AT_FDCWD, 0, AT_FDCWD, 0, 0, 0];
  const modeParam = type.params.find((p) => p.name === 'mode');
  if (modeParam?.source.from === 'arg') args[modeParam.source.index] = c.mode ?? 0;
  const ev = syntheticEvent({ type: c.type, tgid: 42, ret: 0, comm: c.comm, args, str0: c.paths[0], ...(twoPaths ? { str1: c.paths[1] } : {}) });
  const ctx = new ExtractContext(state, rs.slotCount, rs.nodeCount, 0n, 'node');
  let hit = false;
  ctx.reset(ev);
  rs.evaluators[type.id]?.(ctx, () => (hit = true));
  return hit;
}

/** The call as the kernel sees it: one path, or both of a two-path call. */
function asCalled(c: ModelChange): ModelChange {
  const type = eventTypeByName(c.type)!;
  const twoPaths = type.params.some((p) => p.source.from === 'str' && p.source.slot === 1);
  return { ...c, paths: twoPaths ? c.paths : c.paths.slice(0, 1) };
}

describe('the kernel change filter is sound', () => {
  it('random rulesets over path-changing types: every call a rule matches ships', () => {
    let matched = 0;
    fc.assert(
      fc.property(fc.subarray([...CHANGE_FILTER_TYPES], { minLength: 1, maxLength: 4 }), fc.array(changeCondition, { minLength: 1, maxLength: 3 }), fc.array(change, { minLength: 10, maxLength: 30 }), (types, conds, calls) => {
        const rs = rulesetOf(conds, types);
        const { filter } = changeFilterFor(rs);
        for (const c of calls.map(asCalled)) {
          if (!anyRuleMatchesChange(rs, c)) continue;
          matched++;
          expect(kernelShipsChange(filter, c), `${c.type} ${c.paths.join(' -> ')} by ${c.comm}`).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
    expect(matched).toBeGreaterThan(50);
  });

  it("Falco's stock files and the default rules: every path change a rule matches ships", () => {
    for (const files of [[...STOCK_SYSCALL_FILES], [join(__dirname, '../../rules/lanner_rules.yaml')]]) {
      const rs = loadRules(files);
      const { filter } = changeFilterFor(rs);
      expect(filter).not.toBeNull();
      let matched = 0;
      fc.assert(
        fc.property(change, (raw) => {
          const c = asCalled(raw);
          if (!anyRuleMatchesChange(rs, c)) return;
          matched++;
          expect(kernelShipsChange(filter, c), `${c.type} ${c.paths.join(' -> ')} by ${c.comm}`).toBe(true);
        }),
        { numRuns: 3000 },
      );
      expect(matched, files.join(' ')).toBeGreaterThan(5);
    }
  });
});
