import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostNamesToResolve, rulesetMatchesType, rulesetReadsField } from '../../src/rules/field-use';
import { loadRules } from '../../src/rules/ruleset';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-fu-'));
let n = 0;
const ENV = new Set(['proc.env', 'proc.aenv']);

/** Loads one rule (plus optional extra YAML) and asks whether it reads an env field. */
function readsEnv(condition: string, output = 'o', extra = ''): boolean {
  const file = join(tmp, `r${n++}.yaml`);
  writeFileSync(file, `${extra}- rule: r\n  desc: d\n  condition: ${condition}\n  output: ${output}\n  priority: NOTICE\n`);
  const rs = loadRules([file], { appendContainerFields: false });
  expect(rs.errors).toEqual([]);
  return rulesetReadsField(rs, ENV);
}

describe('rulesetReadsField', () => {
  it('finds a field in a condition, inside macros, transformers and val()', () => {
    expect(readsEnv('evt.type = execve and proc.env icontains GLIBC_TUNABLES')).toBe(true);
    expect(readsEnv('evt.type = execve and env_macro', 'o', '- macro: env_macro\n  condition: proc.aenv contains X\n')).toBe(true);
    expect(readsEnv('evt.type = execve and tolower(proc.env) contains x')).toBe(true);
    expect(readsEnv('evt.type = execve and proc.name = val(proc.env[HOME])')).toBe(true);
    expect(readsEnv('evt.type = execve and not proc.env contains X')).toBe(true);
  });

  it('finds a field in an output, with or without an argument', () => {
    expect(readsEnv('evt.type = execve', 'x env=%proc.env')).toBe(true);
    expect(readsEnv('evt.type = execve', 'x home=%proc.env[HOME]')).toBe(true);
  });

  it('is false when no enabled rule reads it', () => {
    expect(readsEnv('evt.type = execve and proc.name = env', 'x %proc.cmdline')).toBe(false);
    const file = join(tmp, `r${n++}.yaml`);
    writeFileSync(file, '- rule: off\n  desc: d\n  condition: evt.type = execve and proc.env contains X\n  output: o\n  priority: NOTICE\n  enabled: false\n');
    expect(rulesetReadsField(loadRules([file]), ENV)).toBe(false);
  });
});

describe('rulesetMatchesType', () => {
  const FORKS = ['clone', 'clone3', 'fork', 'vfork'];
  const load = (yaml: string): ReturnType<typeof loadRules> => {
    const file = join(tmp, `t${n++}.yaml`);
    writeFileSync(file, yaml);
    const rs = loadRules([file], { appendContainerFields: false });
    expect(rs.errors).toEqual([]);
    return rs;
  };
  const rule = (condition: string, enabled = true): string =>
    `- rule: r${n}\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: NOTICE\n  enabled: ${enabled}\n`;

  it('is true when an enabled rule is indexed under one of the types', () => {
    expect(rulesetMatchesType(load(rule('evt.type = clone and evt.rawres > 0')), FORKS)).toBe(true);
    expect(rulesetMatchesType(load(rule('evt.type in (vfork, execve)')), FORKS)).toBe(true);
  });

  it('is false for rules on other types, disabled rules and unknown type names', () => {
    expect(rulesetMatchesType(load(rule('evt.type = execve and proc.name = sh')), FORKS)).toBe(false);
    expect(rulesetMatchesType(load(rule('evt.type = clone', false)), FORKS)).toBe(false);
    expect(rulesetMatchesType(load(rule('evt.type = clone')), ['no_such_type'])).toBe(false);
  });
});

describe('hostNamesToResolve', () => {
  it('collects the names enabled rules compare address-name fields with, lists expanded', () => {
    const file = join(tmp, `r${n++}.yaml`);
    writeFileSync(
      file,
      [
        '- list: pools\n  items: [pool.example, "Other.Pool.example"]',
        '- macro: api\n  condition: fd.sip.name = kubernetes.default.svc.cluster.local',
        '- rule: a\n  desc: d\n  condition: evt.type = connect and (api or fd.rip.name in (pools))\n  output: o %fd.cip.name\n  priority: NOTICE',
        '- rule: b\n  desc: d\n  condition: evt.type = connect and fd.name = not.a.dns.field\n  output: o\n  priority: NOTICE',
        '- rule: c\n  desc: d\n  condition: evt.type = connect and fd.sip.name = disabled.example\n  output: o\n  priority: NOTICE\n  enabled: false',
        '',
      ].join('\n'),
    );
    const rs = loadRules([file]);
    expect(rs.errors).toEqual([]);
    expect([...hostNamesToResolve(rs)].sort()).toEqual(['Other.Pool.example', 'kubernetes.default.svc.cluster.local', 'pool.example']);
  });
});
