import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printCondition } from '../../src/rules/ast';
import { inlineSource, parseCondition } from '../../src/rules/parser';
import { compileRules, loadRules, type CompiledRuleset } from '../../src/rules/ruleset';
import { validateRules } from '../../src/rules/rule-report';
import { RULE_EVENT_TYPE_NAMES } from '../../src/probe/event-types';
import { STOCK_INCUBATING, STOCK_SANDBOX, STOCK_STABLE } from '../support/stock-rules';

const STABLE = STOCK_STABLE;
const INCUBATING = STOCK_INCUBATING;
const SANDBOX = STOCK_SANDBOX;

const load = (...docs: string[]): CompiledRuleset => compileRules(docs.map((content, i) => ({ name: `f${i}.yaml`, content })));
const codes = (rs: CompiledRuleset, kind: 'errors' | 'warnings' = 'errors'): string[] => rs[kind].map((m) => m.code);
const rule = (rs: CompiledRuleset, name: string) => rs.rules.find((r) => r.name === name);
const canon = (c: string): string => printCondition(parseCondition(inlineSource(c)));

describe('stock Falco rules files', () => {
  it.each([
    [[STABLE], 25],
    [[INCUBATING], 31],
    [[SANDBOX], 37],
    [[STABLE, INCUBATING, SANDBOX], 93],
  ])('%j load with zero errors (%i rules)', (files, count) => {
    const rs = loadRules(files);
    expect(rs.errors).toEqual([]);
    expect(rs.rules.length).toBe(count);
  });

  it('stable rules infer the documented event-type sets', () => {
    // rule-language.md §10 / fields.md §3.
    const table: Record<string, string[]> = {
      'execve,execveat': ['Run shell untrusted', 'System user interactive', 'Terminal shell in container', 'Netcat Remote Code Execution in Container', 'Search Private Keys or Passwords', 'Remove Bulk Data from Disk', 'Debugfs Launched in Privileged Container', 'Find AWS Credentials', 'Execution from /dev/shm', 'Drop and execute new binary in container', 'Fileless execution via memfd_create'],
      'open,openat,openat2': ['Directory traversal monitored file read', 'Read sensitive file trusted after startup', 'Read sensitive file untrusted', 'Clear Log Activities', 'Detect release_agent File Container Escapes'],
      ptrace: ['PTRACE attached to process', 'PTRACE anti-debug attempt'],
      connect: ['Contact K8S API Server From Container'],
      'connect,sendmsg,sendto': ['Disallowed SSH Connection Non Standard Port'],
      'symlink,symlinkat': ['Create Symlink Over Sensitive Files'],
      'link,linkat': ['Create Hardlink Over Sensitive Files'],
      socket: ['Packet socket created in container'],
      'dup,dup2,dup3': ['Redirect STDOUT/STDIN to Network Connection in Container'],
      'finit_module,init_module': ['Linux Kernel Module Injection Detected'],
    };
    const rs = loadRules([STABLE]);
    const got: Record<string, string[]> = {};
    for (const r of rs.rules) (got[[...r.evttypeNames].sort().join(',')] ??= []).push(r.name);
    for (const k of Object.keys(table)) expect(got[k]?.sort(), k).toEqual([...table[k]!].sort());
    expect(Object.keys(got).sort()).toEqual(Object.keys(table).sort());
  });

  it('no stock rule infers ALL or nothing; 41 distinct types over the three files', () => {
    const rs = loadRules([STABLE, INCUBATING, SANDBOX]);
    const union = new Set<string>();
    for (const r of rs.rules) {
      expect(r.evttypes.length, r.name).toBeGreaterThan(0);
      expect(r.evttypes.length, r.name).toBeLessThan(20);
      r.evttypeNames.forEach((n) => union.add(n));
    }
    expect(union.size).toBe(41);
    expect(codes(rs, 'warnings')).not.toContain('LOAD_NO_EVTTYPE');
  });

  it('validate lists rules with priority, source and event types', () => {
    const v = validateRules([STABLE]);
    expect(v.errors).toEqual([]);
    const t = v.rules.find((r) => r.name === 'Terminal shell in container')!;
    expect(t).toMatchObject({ priority: 'Notice', source: 'syscall', enabled: true });
    expect([...t.evttypes].sort()).toEqual(['execve', 'execveat']);
  });

  it('sandbox disables 12 rules', () => {
    expect(loadRules([SANDBOX]).rules.filter((r) => !r.enabled).length).toBe(12);
  });
});

const base = `
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type in (execve, execveat)
- rule: R1
  desc: d
  condition: spawned and proc.name in (shells)
  output: shell %proc.name
  priority: WARNING
  tags: [a]
`;

describe('override and append', () => {
  it('appends and replaces per key', () => {
    const rs = load(base, `
- list: shells
  items: [zsh]
  override: {items: append}
- rule: R1
  condition: and proc.pname = sshd
  output: (appended)
  tags: [b]
  priority: ERROR
  override: {condition: append, output: append, tags: append, priority: replace}
`);
    expect(rs.errors).toEqual([]);
    const r = rule(rs, 'R1')!;
    expect(printCondition(r.expandedCondition)).toBe(canon('evt.type in (execve, execveat) and proc.name in (bash, sh, zsh) and proc.pname = sshd'));
    expect(r.output.template.startsWith('shell %proc.name (appended)')).toBe(true);
    expect(r.tags).toEqual(['a', 'b']);
    expect(r.priority).toBe(3);
  });

  it('replaces lists and macros', () => {
    const rs = load(base, `
- list: shells
  items: [fish]
  override: {items: replace}
- macro: spawned
  condition: evt.type = execve
  override: {condition: replace}
`);
    expect(printCondition(rule(rs, 'R1')!.expandedCondition)).toBe(canon('evt.type = execve and proc.name in (fish)'));
  });

  it('legacy append: true works with a deprecation warning', () => {
    const rs = load(base, `
- macro: spawned
  condition: or evt.type = clone
  append: true
- rule: R1
  condition: and proc.name = bash
  append: true
`);
    expect(rs.errors).toEqual([]);
    expect(codes(rs, 'warnings').filter((c) => c === 'LOAD_DEPRECATED_ITEM').length).toBe(2);
    expect(rule(rs, 'R1')!.evttypeNames).toEqual(['execve', 'execveat', 'clone']);
  });

  it('legacy enable toggle', () => {
    const rs = load(base, `
- rule: R1
  enabled: false
`);
    expect(rs.errors).toEqual([]);
    expect(rule(rs, 'R1')!.enabled).toBe(false);
    expect(codes(rs, 'warnings')).toContain('LOAD_DEPRECATED_ITEM');
  });

  it.each([
    ['key under override absent', `- rule: R1\n  override: {condition: append}\n  output: x\n`],
    ['overridable key not named under override', `- rule: R1\n  condition: and a.b=1\n  output: x\n  override: {condition: append}\n`],
    ['bad operation', `- rule: R1\n  condition: x\n  override: {condition: merge}\n`],
    ['append on non-appendable key', `- rule: R1\n  priority: ERROR\n  override: {priority: append}\n`],
    ['replace on non-replaceable key', `- list: shells\n  items: [a]\n  override: {list: replace}\n`],
    ['override with append: true', `- rule: R1\n  condition: x\n  append: true\n  override: {condition: append}\n`],
    ['append to undefined rule', `- rule: R9\n  condition: x\n  override: {condition: append}\n`],
    ['append to undefined list', `- list: nolist\n  items: [a]\n  append: true\n`],
    ['legacy append carrying output', `- rule: R1\n  condition: x\n  output: y\n  append: true\n`],
  ])('%s is an error', (_what, doc) => {
    const rs = load(base, doc);
    expect(rs.errors.length).toBe(1);
    expect(rs.errors[0]!.file).toBe('f1.yaml');
  });

  it('redefinition replaces the content but keeps the original position', () => {
    const rs = load(`
- rule: A
  desc: a
  condition: evt.type = execve
  output: a
  priority: INFO
- rule: B
  desc: b
  condition: evt.type = execve
  output: b
  priority: INFO
- rule: A
  desc: a2
  condition: evt.type = openat
  output: a2
  priority: INFO
`);
    expect(rs.rules.map((r) => r.name)).toEqual(['A', 'B']);
    expect(rule(rs, 'A')!.evttypeNames).toEqual(['openat']);
  });
});

describe('exceptions', () => {
  const withExc = (exc: string, cond = 'evt.type = openat'): CompiledRuleset =>
    load(`
- rule: E
  desc: d
  condition: ${cond}
  output: o
  priority: INFO
  exceptions:
${exc}
`);

  it('expands list-field exceptions like Falco', () => {
    const rs = withExc(`    - name: trusted_pairs
      fields: [proc.name, fd.name]
      comps: [in, startswith]
      values:
        - [nginx, /var/cache]
        - [[sshd, sftp-server], /home]`);
    expect(rs.errors).toEqual([]);
    expect(printCondition(rule(rs, 'E')!.expandedCondition)).toBe(
      canon('(evt.type = openat) and not ((proc.name in (nginx) and fd.name startswith /var/cache) or (proc.name in (sshd, sftp-server) and fd.name startswith /home))'),
    );
  });

  it('expands scalar-field exceptions with the in default and quotes values with spaces', () => {
    const rs = withExc(`    - name: procs
      fields: proc.name
      values: [a, "b c"]`);
    expect(printCondition(rule(rs, 'E')!.expandedCondition)).toBe(canon('(evt.type = openat) and not (proc.name in (a, "b c"))'));
  });

  it('defaults comps to = for list fields and skips exceptions without values', () => {
    const rs = withExc(`    - name: pairs
      fields: [proc.name, proc.pname]
      values: [[a, b]]
    - name: empty
      fields: [proc.name]`);
    expect(printCondition(rule(rs, 'E')!.expandedCondition)).toBe(canon('(evt.type = openat) and not ((proc.name = a and proc.pname = b))'));
  });

  it('appends values to an existing exception and adds new ones', () => {
    const rs = load(
      `
- rule: E
  desc: d
  condition: evt.type = openat
  output: o
  priority: INFO
  exceptions:
    - name: procs
      fields: proc.name
      values: [a]
`,
      `
- rule: E
  exceptions:
    - name: procs
      values: [b]
    - name: dirs
      fields: fd.directory
      comps: pmatch
      values: [/tmp]
  override: {exceptions: append}
`,
    );
    expect(rs.errors).toEqual([]);
    expect(printCondition(rule(rs, 'E')!.expandedCondition)).toBe(canon('(evt.type = openat) and not (proc.name in (a, b)) and not (fd.directory pmatch (/tmp))'));
  });

  it.each([
    ['length mismatch', `    - name: x\n      fields: [proc.name, fd.name]\n      comps: [=]\n      values: [[a, b]]`],
    ['tuple size mismatch', `    - name: x\n      fields: [proc.name, fd.name]\n      values: [[a]]`],
    ['scalar field with non-list comp', `    - name: x\n      fields: proc.name\n      comps: =\n      values: [a]`],
    ['unknown field', `    - name: x\n      fields: proc.nosuch\n      values: [a]`],
    ['unknown comp', `    - name: x\n      fields: [proc.name]\n      comps: [like]\n      values: [[a]]`],
    ['duplicate name', `    - name: x\n      fields: proc.name\n      values: [a]\n    - name: x\n      fields: proc.name\n      values: [b]`],
  ])('%s is an error', (_what, exc) => {
    expect(withExc(exc).errors.length).toBe(1);
  });
});

describe('lists and macros', () => {
  it('inlines earlier lists, substitutes textually, drops a comma for empty lists', () => {
    const rs = load(`
- list: a
  items: [x, y]
- list: b
  items: [a, z]
- list: empty
  items: []
- rule: L
  desc: d
  condition: evt.type = execve and proc.name in (b, empty) and proc.pname in (empty, q)
  output: o
  priority: INFO
`);
    expect(rs.errors).toEqual([]);
    expect(printCondition(rule(rs, 'L')!.expandedCondition)).toBe(canon('evt.type = execve and proc.name in (x, y, z) and proc.pname in (q)'));
  });

  it('a macro may only use earlier macros; a rule any macro', () => {
    const later = load(`
- macro: m1
  condition: m2
- macro: m2
  condition: evt.type = execve
- rule: R
  desc: d
  condition: m1
  output: o
  priority: INFO
`);
    expect(codes(later)).toEqual(['LOAD_ERR_COMPILE_CONDITION']);
    expect(later.errors[0]!.message).toContain("undefined macro 'm2'");
    const ruleFirst = load(`
- rule: R
  desc: d
  condition: m2
  output: o
  priority: INFO
- macro: m2
  condition: evt.type = execve
`);
    expect(ruleFirst.errors).toEqual([]);
  });

  it('warns about unused macros and lists', () => {
    const rs = load(`
- list: unused_list
  items: [a]
- macro: unused_macro
  condition: evt.type = execve
`);
    expect(codes(rs, 'warnings').sort()).toEqual(['LOAD_UNUSED_LIST', 'LOAD_UNUSED_MACRO']);
  });
});

describe('errors and warnings with positions', () => {
  /** 1-based line/column of `needle` inside `text`. */
  const where = (text: string, needle: string, plus = 0): { line: number; column: number } => {
    const off = text.indexOf(needle) + plus;
    const before = text.slice(0, off);
    return { line: before.split('\n').length, column: off - before.lastIndexOf('\n') };
  };
  const ruleDoc = (cond: string): string => `- rule: P\n  desc: d\n  condition: ${cond}\n  output: o\n  priority: INFO\n`;

  it('plain scalar: exact character of an unknown field', () => {
    const doc = ruleDoc('evt.type = execve and proc.nme = bash');
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject({ code: 'LOAD_ERR_COMPILE_CONDITION', itemKind: 'rule', itemName: 'P', file: 'f0.yaml', ...where(doc, 'proc.nme') });
  });

  it('double-quoted scalar: exact character of a syntax error', () => {
    const doc = ruleDoc('"evt.type = execve and proc.name === bash"');
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject({ code: 'LOAD_ERR_COMPILE_CONDITION', ...where(doc, '= bash') });
  });

  it('folded block scalar: line and column inside the block', () => {
    const doc = `- rule: P\n  desc: d\n  condition: >\n    evt.type = execve\n    and fd.num contains 3\n  output: o\n  priority: INFO\n`;
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject({ code: 'LOAD_ERR_COMPILE_CONDITION', ...where(doc, 'contains') });
  });

  it.each([
    ['literal block with deeper indentation', `- rule: P\n  desc: d\n  condition: |\n    evt.type = execve\n      and fd.num contains 3\n  output: o\n  priority: INFO\n`],
    ['multi-line plain scalar', `- rule: P\n  desc: d\n  condition: evt.type = execve\n    and fd.num contains 3\n  output: o\n  priority: INFO\n`],
    ['single-quoted with escaped quotes', `- rule: P\n  desc: d\n  condition: 'evt.type = execve and proc.name = ''x'' and fd.num contains 3'\n  output: o\n  priority: INFO\n`],
    ['double-quoted with escapes', `- rule: P\n  desc: d\n  condition: "evt.type = execve and proc.name = \\"x\\" and fd.num contains 3"\n  output: o\n  priority: INFO\n`],
    ['folded block with a blank line', `- rule: P\n  desc: d\n  condition: >-\n    evt.type = execve\n\n    and fd.num contains 3\n  output: o\n  priority: INFO\n`],
  ])('%s: exact position', (_what, doc) => {
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject(where(doc, 'contains'));
  });

  it('error inside a macro points into the macro', () => {
    const doc = `- macro: m\n  condition: proc.name = a and fd.nosuch = b\n${ruleDoc('evt.type = execve and m')}`;
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject({ itemKind: 'rule', ...where(doc, 'fd.nosuch') });
  });

  it('list substitution keeps positions after the list', () => {
    const doc = `- list: l\n  items: [a, b, c]\n${ruleDoc('evt.type = execve and proc.name in (l) and fd.num = x')}`;
    const e = load(doc).errors[0]!;
    expect(e).toMatchObject(where(doc, 'x\n'));
  });

  it('invalid priority, missing key, YAML syntax', () => {
    expect(load(`- rule: P\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: LOUD\n`).errors[0]).toMatchObject({ code: 'LOAD_ERR_YAML_VALIDATE', line: 5, column: 13 });
    expect(load(`- rule: P\n  desc: d\n  condition: evt.type=execve\n  priority: INFO\n`).errors[0]!.message).toContain("'output'");
    expect(load(`- rule: [\n`).errors[0]!.code).toBe('LOAD_ERR_YAML_PARSE');
  });

  it('unknown keys and items are warnings', () => {
    const rs = load(`- rule: P\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: INFO\n  colour: red\n- frobnicate: 1\n`);
    expect(rs.errors).toEqual([]);
    expect(codes(rs, 'warnings').sort()).toEqual(['LOAD_UNKNOWN_ITEM', 'LOAD_UNKNOWN_KEY']);
    expect(rs.warnings.find((w) => w.code === 'LOAD_UNKNOWN_KEY')).toMatchObject({ line: 6, column: 3 });
  });

  it('a file stops at its first error; later documents are not read', () => {
    const rs = load(`- rule: P\n  priority: LOUD\n---\n- rule: Q\n  priority: ALSO_BAD\n`);
    expect(rs.errors.length).toBe(1);
  });

  it('engine and plugin requirements', () => {
    expect(load(`- required_engine_version: 0.99.0\n`).errors[0]!.code).toBe('LOAD_ERR_VALIDATE');
    expect(load(`- required_engine_version: 0.31.0\n`).errors).toEqual([]);
    expect(load(`- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n`).errors).toEqual([]);
    expect(load(`- required_plugin_versions:\n    - name: cloudtrail\n      version: 0.1.0\n`).errors.length).toBe(1);
    // libs' rule: the same major version, and ours not older (container is 0.6.0 here).
    expect(load(`- required_plugin_versions:\n    - name: container\n      version: 0.7.0\n`).errors.length).toBe(1);
    expect(load(`- required_plugin_versions:\n    - name: container\n      version: 1.0.0\n`).errors.length).toBe(1);
    expect(load(`- required_engine_version: 1.0.0\n`).errors[0]!.code).toBe('LOAD_ERR_VALIDATE');
    expect(load(`- required_engine_version: not.a.version\n`).errors[0]!.code).toBe('LOAD_ERR_YAML_VALIDATE');
  });
});

describe('rule options', () => {
  const doc = `
- rule: Loud
  desc: d
  condition: evt.type = execve
  output: o
  priority: CRITICAL
- rule: Quiet
  desc: d
  condition: evt.type = execve
  output: o
  priority: DEBUG
- rule: Skipped
  desc: d
  condition: evt.type = execve and proc.nosuch = 1
  output: o
  priority: INFO
  skip-if-unknown-filter: true
- rule: Unbounded
  desc: d
  condition: proc.name = bash
  output: o
  priority: INFO
- rule: Never
  desc: d
  condition: evt.type = execve and evt.num = 0
  output: o
  priority: INFO
- rule: Quiet unbounded
  desc: d
  condition: proc.name = bash
  output: o
  priority: INFO
  warn_evttypes: false
- rule: Other source
  desc: d
  condition: ct.name = ConsoleLogin
  output: o
  priority: INFO
  source: aws_cloudtrail
`;
  it('priority floor drops less severe rules', () => {
    const rs = compileRules([{ name: 'x.yaml', content: doc }], { minPriority: 4 });
    expect(rs.rules.map((r) => r.name)).toEqual(['Loud']);
  });
  it('skip-if-unknown-filter, LOAD_NO_EVTTYPE, unknown source', () => {
    const rs = load(doc);
    expect(rs.errors).toEqual([]);
    expect(rs.rules.map((r) => r.name)).toEqual(['Loud', 'Quiet', 'Unbounded', 'Never', 'Quiet unbounded']);
    const w = rs.warnings.map((m) => `${m.code}:${m.itemName}`).sort();
    expect(w).toEqual(['LOAD_NO_EVTTYPE:Never', 'LOAD_NO_EVTTYPE:Unbounded', 'LOAD_UNKNOWN_FILTER:Skipped', 'LOAD_UNKNOWN_SOURCE:Other source']);
    expect(rule(rs, 'Never')!.evttypes).toEqual([]);
  });
  it('deprecated fields warn', () => {
    const rs = load(`- rule: D\n  desc: d\n  condition: evt.type = execve and evt.dir = "<"\n  output: o\n  priority: INFO\n`);
    expect(codes(rs, 'warnings')).toContain('LOAD_DEPRECATED_FIELD');
  });
});

describe('evt.type inference (rule-language.md §10 worked results)', () => {
  const types = (cond: string): string => {
    const rs = load(`- rule: T\n  desc: d\n  condition: ${JSON.stringify(cond)}\n  output: o\n  priority: INFO\n  warn_evttypes: false\n`);
    expect(rs.errors).toEqual([]);
    const r = rs.rules[0]!;
    const all = rs.rules[0]!.evttypes.length;
    return all > 50 ? `ALL-${RULE_EVENT_TYPE_NAMES.length - all}` : [...r.evttypeNames].sort().join(',');
  };
  it.each([
    ['evt.type=openat and proc.name=nginx', 'openat'],
    ['evt.type=openat or proc.name=nginx', 'ALL-0'],
    ['not evt.type=openat', 'ALL-1'],
    ['evt.type!=openat and evt.type!=close', 'ALL-2'],
    ['evt.type!=openat or evt.type!=close', 'ALL-0'],
    ['evt.type=close and evt.type=openat', ''],
    ['evt.type=openat and evt.num=0', ''],
    ['evt.type=openat or evt.num=0', 'openat'],
    ['proc.name=cat', 'ALL-0'],
    ['not (evt.type=openat and evt.num=0)', 'ALL-0'],
    ['evt.type in (open, openat) and not evt.type = open', 'openat'],
    ['evt.type = openat and evt.num < 1', ''],
    ['evt.type = openat and evt.num in ()', ''],
  ])('%s → %s', (c, want) => expect(types(c)).toBe(want));
});

it('stock file text is untouched by loading (sanity: we read the real files)', () => {
  expect(readFileSync(STABLE, 'utf8')).toContain('- rule: Terminal shell in container');
});
