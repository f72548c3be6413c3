import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateItem, lookupFlag, lookupItem, statusOf, type TestItem } from '../../src/posture/audit';
import { compareValue } from '../../src/posture/compare';

describe('compare operators (kube-bench semantics)', () => {
  it('eq/noteq lower-case booleans only', () => {
    expect(compareValue('False', { op: 'eq', value: 'false' })).toBe(true);
    expect(compareValue('TRUE', { op: 'noteq', value: 'true' })).toBe(false);
    expect(compareValue('Node', { op: 'eq', value: 'node' })).toBe(false);
  });

  it('integer comparisons fail on non-integers', () => {
    expect(compareValue('30', { op: 'gte', value: '30' })).toBe(true);
    expect(compareValue('29', { op: 'gte', value: '30' })).toBe(false);
    expect(compareValue('5m', { op: 'gte', value: '0' })).toBe(false);
    expect(compareValue('1', { op: 'gt', value: '0' })).toBe(true);
    expect(compareValue('0', { op: 'lt', value: '1' })).toBe(true);
    expect(compareValue('2', { op: 'lte', value: '1' })).toBe(false);
  });

  it('has/nothave are substring tests (Node matches NodeRestriction)', () => {
    expect(compareValue('NodeRestriction', { op: 'has', value: 'Node' })).toBe(true);
    expect(compareValue('RBAC,AlwaysAllow', { op: 'nothave', value: 'AlwaysAllow' })).toBe(false);
  });

  it('regex is an unanchored search', () => {
    expect(compareValue('abc127.0.0.1:10249', { op: 'regex', value: '127\\.0\\.0\\.1' })).toBe(true);
    expect(compareValue('0.0.0.0', { op: 'regex', value: '^127' })).toBe(false);
  });

  it('valid_elements: every actual element allowed; one side empty fails', () => {
    expect(compareValue('A, B', { op: 'valid_elements', value: 'A,B,C' })).toBe(true);
    expect(compareValue('A,D', { op: 'valid_elements', value: 'A,B,C' })).toBe(false);
    expect(compareValue('', { op: 'valid_elements', value: '' })).toBe(true);
    expect(compareValue('', { op: 'valid_elements', value: 'A' })).toBe(false);
  });

  it('bitmask: no bit beyond the allowed mode', () => {
    expect(compareValue('600', { op: 'bitmask', value: '600' })).toBe(true);
    expect(compareValue('400', { op: 'bitmask', value: '600' })).toBe(true);
    expect(compareValue('644', { op: 'bitmask', value: '600' })).toBe(false);
    expect(compareValue('700', { op: 'bitmask', value: '644' })).toBe(false);
    expect(compareValue('4755', { op: 'bitmask', value: '755' })).toBe(false);
  });

  it('bitmask agrees with the subset definition for every mode pair', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o7777 }), fc.integer({ min: 0, max: 0o7777 }), (actual, allowed) => {
        const subset = [...Array(12).keys()].every((bit) => !(actual & (1 << bit)) || (allowed & (1 << bit)) !== 0);
        expect(compareValue(actual.toString(8), { op: 'bitmask', value: allowed.toString(8) })).toBe(subset);
      }),
    );
  });
});

describe('flag lookup', () => {
  const argv = ['kube-apiserver', '--profiling', 'false', '--audit-log-maxage=7', '--bare', '--audit-log-maxage=40', '-x'];

  it('reads =value, last occurrence wins', () => {
    expect(lookupFlag(argv, 'audit-log-maxage', true)).toMatchObject({ found: true, value: '40' });
  });

  it('reads the space form only when a value is wanted', () => {
    expect(lookupFlag(argv, 'profiling', true).value).toBe('false');
    expect(lookupFlag(argv, 'profiling', false).value).toBe('true');
  });

  it('a bare flag reads as true and a following flag is not its value', () => {
    expect(lookupFlag(argv, 'bare', true)).toMatchObject({ found: true, value: 'true' });
    expect(lookupFlag(argv, 'missing', true).found).toBe(false);
  });

  it('precedence: command line over config file over environment', () => {
    const item: TestItem = { flag: 'anonymous-auth', set: true, compare: { op: 'eq', value: 'false' }, path: ['authentication', 'anonymous', 'enabled'], env: 'ANON' };
    const config = { authentication: { anonymous: { enabled: true } } };
    const env = new Map([['ANON', 'false']]);
    expect(lookupItem(item, { argv: ['kubelet', '--anonymous-auth=false'], config, env })).toMatchObject({ source: 'command line', value: 'false' });
    const fromConfig = lookupItem(item, { argv: ['kubelet'], config, env });
    expect(fromConfig).toMatchObject({ source: 'config file', value: 'true' });
    expect(evaluateItem(item, fromConfig)).toBe(false);
    expect(lookupItem(item, { argv: ['kubelet'], config: {}, env })).toMatchObject({ source: 'environment', value: 'false' });
  });

  it('feature gates are read inside --feature-gates', () => {
    const item: TestItem = { flag: 'feature-gates', featureGate: 'RotateKubeletServerCertificate', set: true, compare: { op: 'nothave', value: 'false' } };
    expect(lookupItem(item, { argv: ['kubelet', '--feature-gates=A=true,RotateKubeletServerCertificate=false'] })).toMatchObject({ found: true, value: 'false' });
    expect(lookupItem(item, { argv: ['kubelet', '--feature-gates=A=true'] }).found).toBe(false);
  });

  it('status: manual → WARN; unscored failure → WARN; scored failure → FAIL', () => {
    expect(statusOf(true, true, true)).toBe('WARN');
    expect(statusOf(false, false, false)).toBe('WARN');
    expect(statusOf(false, true, false)).toBe('FAIL');
    expect(statusOf(true, false, false)).toBe('PASS');
  });
});
