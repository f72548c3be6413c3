/**
 * Issue 23: conditions built to hurt the compiler. A macro chain deeper than the expansion bound
 * ends in an error naming the macro and its position (not a stack overflow), and a flat
 * `a and b and c …` of 50,000 terms compiles in time linear in its size.
 */
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules';
import { MAX_EXPANSION_DEPTH } from '../../src/rules/ruleset';

function macroChain(depth: number): string {
  let yaml = '- macro: m0\n  condition: proc.name = a\n';
  for (let i = 1; i < depth; i++) yaml += `- macro: m${i}\n  condition: m${i - 1} and proc.pid != ${i}\n`;
  return yaml + `- rule: r\n  desc: d\n  condition: evt.type = execve and m${depth - 1}\n  output: o\n  priority: WARNING\n`;
}

describe('macro chains', () => {
  it('a chain within the bound loads', () => {
    // Each link adds two levels: the macro reference and its `and`.
    const rs = compileRules([{ name: 'chain.yaml', content: macroChain(MAX_EXPANSION_DEPTH / 2 - 10) }]);
    expect(rs.errors).toEqual([]);
    expect(rs.rules).toHaveLength(1);
  });

  it('a chain of 5,000 macros is refused with the macro and its position', () => {
    const started = Date.now();
    const rs = compileRules([{ name: 'chain.yaml', content: macroChain(5000) }]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(rs.errors).toHaveLength(1);
    const e = rs.errors[0]!;
    expect(e.message).toMatch(/^macro 'm\d+' nests the condition deeper than 1000 levels/);
    expect(e.file).toBe('chain.yaml');
    // The reference sits in the condition of the macro that uses it, not at line 1.
    const name = /macro '(m\d+)'/.exec(e.message)![1]!;
    const user = `m${Number(name.slice(1)) + 1}`;
    const lines = macroChain(5000).split('\n');
    expect(lines[e.line - 2]).toBe(`- macro: ${user}`);
    expect(lines[e.line - 1]!.slice(e.column - 1).startsWith(name)).toBe(true);
  });
});

describe('long flat conditions', () => {
  const rule = (condition: string): string => `- rule: r\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: WARNING\n`;
  for (const op of ['and', 'or'] as const) {
    it(`50,000 terms joined by '${op}' compile in bounded time`, () => {
      const terms = Array.from({ length: 50_000 }, (_, i) => `proc.name ${op === 'and' ? '!=' : '='} p${i}`);
      const started = Date.now();
      const rs = compileRules([{ name: 'flat.yaml', content: rule(terms.join(` ${op} `)) }]);
      const ms = Date.now() - started;
      expect(rs.errors).toEqual([]);
      expect(rs.rules).toHaveLength(1);
      expect(ms).toBeLessThan(15_000);
    });
  }
  it('50,000 macro references joined by and', () => {
    let yaml = '- macro: m\n  condition: proc.name = x\n';
    yaml += rule(['evt.type = open', ...Array.from({ length: 50_000 }, () => 'm')].join(' and '));
    const rs = compileRules([{ name: 'flat.yaml', content: yaml }]);
    expect(rs.errors).toEqual([]);
  });
});
