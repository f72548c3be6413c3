/** Falco's rule keys `capture` and `capture_duration` (milliseconds, 0.42+): read, overridden, validated. */
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/ruleset';

const base = [
  '- rule: Shadow read',
  '  desc: d',
  '  condition: evt.type = openat and fd.name = /etc/shadow',
  '  output: shadow read by %proc.name',
  '  priority: WARNING',
];

function compile(...files: string[][]): ReturnType<typeof compileRules> {
  return compileRules(files.map((lines, i) => ({ name: `f${i}.yaml`, content: `${lines.join('\n')}\n` })));
}

describe('capture rule keys', () => {
  it('default to no capture and the configured duration (0)', () => {
    const rs = compile(base);
    expect(rs.errors).toEqual([]);
    expect(rs.rules[0]).toMatchObject({ capture: false, captureDuration: 0 });
  });

  it('are read from the rule', () => {
    const rs = compile([...base, '  capture: true', '  capture_duration: 10000']);
    expect(rs.errors).toEqual([]);
    expect(rs.rules[0]).toMatchObject({ capture: true, captureDuration: 10000 });
  });

  it('are replaced by an override in a later file, each on its own', () => {
    const rs = compile([...base, '  capture_duration: 10000'], ['- rule: Shadow read', '  capture: true', '  override:', '    capture: replace']);
    expect(rs.errors).toEqual([]);
    expect(rs.rules[0]).toMatchObject({ capture: true, captureDuration: 10000 });
    const again = compile([...base, '  capture: true'], ['- rule: Shadow read', '  capture_duration: 250', '  override:', '    capture_duration: replace']);
    expect(again.errors).toEqual([]);
    expect(again.rules[0]).toMatchObject({ capture: true, captureDuration: 250 });
  });

  it('refuse a capture_duration that is not a whole number of milliseconds, with its position', () => {
    for (const bad of ['5s', '-1', '1.5', '[1]']) {
      const rs = compile([...base, `  capture_duration: ${bad}`]);
      expect(rs.errors, bad).toHaveLength(1);
      expect(rs.errors[0]).toMatchObject({ file: 'f0.yaml', line: 6, column: 21 });
      expect(rs.errors[0]!.message).toContain('capture_duration');
    }
    const notBool = compile([...base, '  capture: yes please']);
    expect(notBool.errors[0]).toMatchObject({ line: 6, column: 12 });
  });
});
