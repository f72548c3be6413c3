/**
 * A corpus for the path filters' soundness tests (test/rules/open-filter-soundness.test.ts, the
 * kernel's filters; test/rules/path-gate.test.ts, the engine's gate): random rule conditions in the
 * shapes real rules use, random opens and path changes (normalised, relative, traversing, long,
 * writing, by many programs), and the engine's verdict on them.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { eventTypeByName } from '../../src/probe/event-types';
import type { EventView } from '../../src/probe/event';
import { AT_FDCWD, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/probe/linux';
import { syntheticEvent } from '../../src/probe/synthetic';
import { ExtractContext } from '../../src/rules/context';
import { CHANGE_FILTER_TYPES } from '../../src/rules/filter-classes';
import { loadRules, type CompiledRuleset, type RulesetOptions } from '../../src/rules/ruleset';
import { FakeState, proc } from '../rules/fake-state';
import type { ModelChange, ModelOpen } from './open-filter-model';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-ofs-'));
let fileNo = 0;

export const PATHS = [
  '/etc/shadow', '/etc/hostname', '/etc/passwd', '/etc/ssh/sshd_config', '/root/.ssh/id_rsa', '/home/u/.ssh/authorized_keys',
  '/var/log/auth.log', '/usr/lib/x86_64-linux-gnu/liblzma.so.5.6.1', '/proc/self/mem', '/dev/shm/x', '/tmp/a../b',
  '/etc/../etc/shadow', '/etc//shadow', '/./etc/shadow', 'etc/shadow', '../../etc/shadow', '/etc/sudoers.d/x', '/bin/sh',
  `/tmp/${'d'.repeat(300)}/x`, '/etc/kubernetes/pki/ca.key', '/var/lib/kubelet/config.yaml', '/etc/shadow/..', '/etc/.', '/root/.ssh/.', '/etc', '/root/.ssh',
];
export const NAMES = ['sshd', 'cat', 'bash', 'tar', 'node', 'kubelet', 'averyveryverylongname', 'python3'];
const VALUES = ['/etc', '/etc/', '/etc/shadow', '/root/.ssh', '/var/log', '/dev/shm', 'id_rsa', 'liblzma', '../', 'shadow', '/usr/lib', '/etc/sudoers.d'];

const fieldCheck = fc.oneof(
  fc.tuple(fc.constantFrom('fd.name', 'evt.arg.name', 'fd.nameraw', 'fd.directory'), fc.constantFrom('=', 'startswith', 'contains', 'endswith', 'glob', 'pmatch', 'in'), fc.subarray(VALUES, { minLength: 1, maxLength: 3 })).map(
    ([f, op, vs]) => (op === 'in' || op === 'pmatch' ? `${f} ${op} (${vs.join(', ')})` : op === 'glob' ? `${f} glob '*${vs[0]}*'` : `${f} ${op} ${vs[0]}`),
  ),
  fc.tuple(fc.constantFrom('=', 'in', '!='), fc.subarray(NAMES, { minLength: 1, maxLength: 3 })).map(([op, vs]) => (op === 'in' ? `proc.name in (${vs.join(', ')})` : `proc.name ${op} ${vs[0]}`)),
  fc.constantFrom('evt.is_open_write = true', 'evt.is_open_read = true', 'evt.arg.flags contains O_TRUNC', 'evt.arg.flags contains O_CREAT', 'fd.typechar = f', 'fd.num >= 0', 'evt.type in (open, openat, openat2)', 'evt.type = execve', "fd.nameraw glob '*../*'"),
);

/** Conditions built from `check` leaves with and, or and not, a few levels deep. */
export function conditionsOf(check: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, check, tie('and'), tie('or'), tie('not')),
    and: fc.array(tie('node') as fc.Arbitrary<string>, { minLength: 2, maxLength: 3 }).map((xs) => `(${xs.join(' and ')})`),
    or: fc.array(tie('node') as fc.Arbitrary<string>, { minLength: 2, maxLength: 3 }).map((xs) => `(${xs.join(' or ')})`),
    not: (tie('node') as fc.Arbitrary<string>).map((x) => `not ${x}`),
  })).node as fc.Arbitrary<string>;
}

export const condition = conditionsOf(fieldCheck);

export const open: fc.Arbitrary<ModelOpen> = fc.record({
  type: fc.constantFrom('open', 'openat', 'openat2', 'creat') as fc.Arbitrary<ModelOpen['type']>,
  path: fc.constantFrom(...PATHS),
  flags: fc.constantFrom(O_RDONLY, O_WRONLY, O_RDWR, O_WRONLY | O_CREAT | O_TRUNC, O_RDONLY | O_TRUNC),
  comm: fc.constantFrom(...NAMES.map((n) => n.slice(0, 15))),
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
export const changeCondition = conditionsOf(changeCheck);

export const CHANGE_PATHS = [...PATHS, '/root/.bash_history', '/home/u/.zsh_history', '/etc/sudoers', '/etc', '/etc/', '/', 'x_history'];
export const change: fc.Arbitrary<ModelChange> = fc.record({
  type: fc.constantFrom(...CHANGE_FILTER_TYPES),
  paths: fc.tuple(fc.constantFrom(...CHANGE_PATHS), fc.constantFrom(...CHANGE_PATHS)),
  comm: fc.constantFrom(...NAMES.map((n) => n.slice(0, 15))),
  mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o600, 0),
});

/** One rule per condition, each on `types`. */
export function rulesetOf(conditions: readonly string[], types: readonly string[] = ['open', 'openat', 'openat2', 'creat'], opts: RulesetOptions = {}): CompiledRuleset {
  const file = join(tmp, `r${fileNo++}.yaml`);
  writeFileSync(file, conditions.map((c, i) => `- rule: r${i}\n  desc: d\n  condition: evt.type in (${types.join(', ')}) and ${c}\n  output: o\n  priority: NOTICE\n`).join('\n'));
  const rs = loadRules([file], opts);
  expect(rs.errors).toEqual([]);
  return rs;
}

/** A process's full name from its comm (the state knows names past 15 bytes). */
const fullName = (comm: string): string => NAMES.find((n) => n.slice(0, 15) === comm) ?? comm;

/** An event and the state around it. */
export interface Scene {
  readonly ev: EventView;
  readonly state: FakeState;
}

/** An open as the probe reports it; `alias`: the path the kernel found the file by (str1). */
export function openScene(o: ModelOpen, alias?: string): Scene {
  const state = new FakeState().addProcess(proc({ tgid: 42, name: fullName(o.comm), exe: o.comm }));
  // open(path, flags) and creat(path, mode); openat(dirfd, path, flags) with AT_FDCWD.
  const args = [0, 0, 0, 0, 0, 0];
  if (o.type === 'open') args[1] = o.flags;
  if (o.type === 'openat' || o.type === 'openat2') [args[0], args[2]] = [AT_FDCWD, o.flags];
  return { state, ev: syntheticEvent({ type: o.type, tgid: 42, ret: 3, comm: o.comm, args, str0: o.path, ...(alias === undefined ? {} : { str1: alias }) }) };
}

const hasTwoPaths = (type: string): boolean => eventTypeByName(type)!.params.some((p) => p.source.from === 'str' && p.source.slot === 1);

/** A path change as the probe reports it. */
export function changeScene(c: ModelChange): Scene {
  const state = new FakeState().addProcess(proc({ tgid: 42, name: fullName(c.comm), exe: c.comm }));
  const type = eventTypeByName(c.type)!;
  const args = [AT_FDCWD, 0, AT_FDCWD, 0, 0, 0];
  const modeParam = type.params.find((p) => p.name === 'mode');
  if (modeParam?.source.from === 'arg') args[modeParam.source.index] = c.mode ?? 0;
  return { state, ev: syntheticEvent({ type: c.type, tgid: 42, ret: 0, comm: c.comm, args, str0: c.paths[0], ...(hasTwoPaths(c.type) ? { str1: c.paths[1] } : {}) }) };
}

/** The indexes (in the event type's bucket) of every enabled rule that matches, as the engine evaluates them. */
export function rulesMatching(rs: CompiledRuleset, s: Scene): number[] {
  const ctx = new ExtractContext(s.state, rs.slotCount, rs.nodeCount, 0n, 'node');
  const hits: number[] = [];
  ctx.reset(s.ev);
  rs.evaluators[s.ev.typeId]?.(ctx, (i) => {
    hits.push(i);
    return false;
  });
  return hits;
}

/** The call as the kernel sees it: one path, or both of a two-path call. */
export function asCalled(c: ModelChange): ModelChange {
  return { ...c, paths: hasTwoPaths(c.type) ? c.paths : c.paths.slice(0, 1) };
}
