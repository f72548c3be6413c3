/**
 * `lanner list-fields` covers libsinsp's syscall field classes; fields this probe cannot fill load,
 * extract nothing (every comparison false) and are flagged, and rules using them get a warning.
 */
import { describe, expect, it } from 'vitest';
import { compileRules, findField, listFields } from '../../src/rules';
import { evalCond } from './helpers';
import { LIBS_SYSCALL_FIELDS, LIBS_TABLE_ONLY_FIELDS } from './libs-field-names';

describe('field catalogue parity with libsinsp', () => {
  const listed = new Set(listFields().map((f) => f.name));
  it('lists every field of the syscall classes', () => {
    expect(LIBS_SYSCALL_FIELDS.length).toBeGreaterThan(200);
    expect(LIBS_SYSCALL_FIELDS.filter((n) => !listed.has(n))).toEqual([]);
  });
  it('leaves out only the table-only fields, as Falco does', () => {
    expect(LIBS_TABLE_ONLY_FIELDS.filter((n) => listed.has(n))).toEqual([]);
  });
  it('flags the fields that are always null here, and only those extract nothing', () => {
    const nulls = listFields().filter((f) => f.alwaysNull);
    expect(nulls.map((f) => f.name)).toContain('thread.cpu');
    expect(nulls.map((f) => f.name)).toContain('fd.dev');
    for (const f of nulls) expect(f.description).toMatch(/always null here/);
  });
  it.each([
    ['thread.cpu = 1', false],
    ['thread.cpu != 1', false],
    ['fd.dev = 1', false],
    ['fd.dev exists', false],
    ['proc.vmrss > 0', false],
    ['evt.count = 1', true],
    ['evt.is_io = false', true],
    ['evt.category = file', true],
    ['evt.type.is.openat = 1', true],
    ['evt.type.is[open] = 0', true],
    ['syscall.type = openat', true],
    ['evt.is_open_create = false', true],
    ['fs.path.name exists', false],
    ['thread.ismain = true', true],
    ['proc.args[1] = b', true],
    ['proc.args = "a b"', true],
  ])('%s → %s', (cond, want) => {
    const ev = { type: 'openat', tgid: 7, tid: 7, ret: 3, args: [-100, 0, 0, 0], str0: '/etc/hosts', argv: ['x', 'a', 'b'] };
    expect(evalCond(cond, ev)).toBe(want);
  });
  it('resolves suffix arguments', () => {
    expect(findField('evt.type.is.open')?.name).toBe('evt.type.is.open');
    expect(findField('thread.cgroup.cpuacct')?.alwaysNull).toBe(true);
  });
});

describe('load-time warnings', () => {
  const load = (condition: string): ReturnType<typeof compileRules> =>
    compileRules([{ name: 'r.yaml', content: `- rule: r\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: WARNING\n` }]);
  it('a field that is always null', () => {
    const rs = load('evt.type = open and thread.cpu > 1');
    expect(rs.errors).toEqual([]);
    expect(rs.warnings.find((w) => w.code === 'LOAD_FIELD_ALWAYS_NULL')?.message).toMatch(/'thread.cpu' is always null/);
  });
  it('an always-null field inside a transformer or val()', () => {
    const rs = load('evt.type = open and tolower(thread.cgroups) = x and proc.name = val(user.shell)');
    const fields = rs.warnings.filter((w) => w.code === 'LOAD_FIELD_ALWAYS_NULL').map((w) => /'([^']+)'/.exec(w.message)![1]);
    expect(fields).toEqual(['thread.cgroups', 'user.shell']);
  });
  it('an event type Falco knows but this probe does not trace', () => {
    const rs = load('evt.type = getcwd');
    expect(rs.errors).toEqual([]);
    const w = rs.warnings.find((m) => m.code === 'LOAD_UNTRACED_EVTTYPE');
    expect(w?.message).toMatch(/'getcwd' is known to Falco but not traced by this probe: the rule will never fire/);
  });
  it('untraced types next to traced ones', () => {
    const rs = load('evt.type in (open, getcwd, fsync)');
    expect(rs.warnings.find((m) => m.code === 'LOAD_UNTRACED_EVTTYPE')?.message).toMatch(/'fsync', 'getcwd' are known .* only fires for its other event types/);
    expect(rs.rules[0]!.evttypeNames).toEqual(['open']);
  });
  it('an unknown event type is still an error', () => {
    expect(load('evt.type = nosuchcall').errors[0]?.message).toMatch(/unknown event type 'nosuchcall'/);
  });
});
