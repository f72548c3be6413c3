/** `lanner validate` prints the offending source line with a caret under the column, as Falco does. */
import { describe, expect, it } from 'vitest';
import { compileRules, formatLoadMessageWithSource } from '../../src/rules';

const FILE = ['- rule: bad', '  desc: d', '  condition: evt.type = open and proc.name = "abc', '  output: o', '  priority: WARNING', ''].join('\n');
const lineOf = (text: string) => (_file: string, line: number) => text.split('\n')[line - 1];

describe('validate output with carets', () => {
  it('points into the condition of a rule file', () => {
    const rs = compileRules([{ name: 'bad.yaml', content: FILE }]);
    expect(rs.errors).toHaveLength(1);
    const out = formatLoadMessageWithSource(rs.errors[0]!, lineOf(FILE)).split('\n');
    expect(out[0]).toMatch(/^bad\.yaml:3:\d+: LOAD_ERR_COMPILE_CONDITION rule 'bad': unterminated quoted string$/);
    expect(out[1]).toBe(`  ${FILE.split('\n')[2]}`);
    expect(out[2]).toBe(`  ${' '.repeat(out[1]!.indexOf('"abc') - 2)}^`);
  });
  it('points at a YAML error', () => {
    const text = '- rule: x\n  desc: [\n';
    const rs = compileRules([{ name: 'y.yaml', content: text }]);
    const out = formatLoadMessageWithSource(rs.errors[0]!, lineOf(text)).split('\n');
    expect(out).toHaveLength(3);
    expect(out[2]).toMatch(/^ +\^$/);
  });
  it('keeps tabs so the caret lines up', () => {
    const m = { file: 'f', line: 1, column: 3, itemKind: 'rule' as const, itemName: 'r', code: 'LOAD_ERR_COMPILE_CONDITION' as const, message: 'x' };
    expect(formatLoadMessageWithSource(m, () => '\tab').split('\n')[2]).toBe('  \t ^');
    expect(formatLoadMessageWithSource(m, () => undefined)).toBe("f:1:3: LOAD_ERR_COMPILE_CONDITION rule 'r': x");
  });
});
