import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printCondition, type ConditionNode } from '../../src/rules/ast';
import { inlineSource, parseCondition, MAX_NESTING_DEPTH } from '../../src/rules/parser';
import { parseErrorColumn } from './helpers';

const parse = (s: string): ConditionNode => parseCondition(inlineSource(s));
/** Shape without positions, for structural comparisons. */
const shape = (s: string): string => printCondition(parse(s));

describe('condition parser: accepted forms', () => {
  const ok = [
    'proc.name=bash',
    'proc.name = bash',
    'proc.name =bash',
    'proc.name==bash',
    'proc.name != "a b"',
    "proc.name = 'single'",
    'fd.num>=0',
    'fd.num <= -1',
    'fd.num < 0x1F',
    'fd.num > 1.5e+3',
    'f.x in v',
    'f.x = oneof v',
    'f.x in oneof',
    'f.x exists and not',
    'x and(y)or(z)',
    'b64(f.x)exists',
    'proc.name = oneof',
    'join("-", ()) = x',
    'f.num <= 0XaB00AB',
    'proc.name exists',
    'proc.name exists and m',
    'not proc.name exists',
    'not(proc.name=x)',
    'x and(y)',
    'x or(y)',
    'not_macro',
    'and_macro or notz',
    'proc.name in ()',
    'proc.name in (a)',
    'proc.name in (a, "b c", \'d\')',
    'proc.name in(a,b)',
    'proc.aname[2]=bash',
    'evt.arg[0] = 3',
    'evt.arg.flags contains O_TRUNC',
    'evt.rawarg.res < 0',
    'evt.arg[key]=1',
    'evt.arg["key with space"]=1',
    'container.mount.dest[/var/run/docker.sock] != "N/A"',
    'f.x[""] = a',
    'tolower(proc.name) = bash',
    'toupper(tolower(proc.name)) = BASH',
    'proc.name = tolower(proc.pname)',
    'proc.name = val(proc.pname)',
    'proc.name in val(proc.pname)',
    'proc.name in tolower(proc.pname)',
    'join(",", (proc.name, proc.pname)) = "a,b"',
    'concat(proc.name, "-", proc.pname) = "a-b"',
    'getopt(proc.args, "ab:")[b] = x',
    'len(proc.name) > 3',
    'proc.name = oneof (a, b)',
    'proc.name startswith anyof (a, b)',
    'proc.name contains allof (a, b)',
    'proc.name pmatch (/a, /b)',
    'proc.name intersects (a)',
    'fd.name glob "/home/*/.ssh/*"',
    'evt.buffer bcontains cafebabe',
    'proc.name regex "a.*"',
    '((((proc.name=a))))',
    'proc.name="\\x41\\t\\n\\\\\\/"',
    "proc.name='it\\'s'",
    'proc.name="say \\"hi\\""',
  ];
  for (const c of ok) it(`accepts ${c}`, () => expect(parseErrorColumn(c)).toBe('ok'));
});

describe('condition parser: rejected forms with exact error columns', () => {
  const bad: [string, number][] = [
    ['', 1],
    ['x andy', 3],
    ['xand y', 6],
    ['x and or y', 10],
    ['f.num > 1.5e3', 12],
    ['f.num > 0x1G', 12],
    ['join("-", ((f.x))) = y', 12],
    ['proc.name ==oneof (a)', 19],
    ['proc.name == oneof(a)', 19],
    ['proc.name in oneof (a)', 20],
    ['b64 (f.x) exists', 5],
    ['proc.name = "a\\\\"', 13],
    ['f.x containsv', 5],
    ['f.x === v', 7],
    ['f.x !== v', 7],
    ['f.x ExIsTs', 5],
    ['f.x exists v', 12],
    ['f.num <= a', 10],
    ['f.x = (v)', 7],
    ['f.x in (a,)', 11],
    ['f.x in (,)', 9],
    ['f.x in (a,,b)', 11],
    ['f.x[] = a', 5],
    ['f.x[ a ] = a', 5],
    ['f.x[[] = a', 5],
    ['f.x[abc', 8],
    ['(a and b', 9],
    ['a and b)', 8],
    ['proc.name = "abc', 13],
    ['proc.name = "a\\qb"', 15],
    ['proc.name = "a\\x4"', 15],
    ["proc.name = 'a\\\"b'", 15],
    ['proc.name', 10],
    ['proc.name = tolower()', 21],
    ['a or', 3],
  ];
  for (const [c, col] of bad) it(`rejects ${JSON.stringify(c)} at column ${col}`, () => expect(parseErrorColumn(c)).toBe(col));
});

describe('precedence and structure', () => {
  it('not > and > or', () => {
    expect(shape('a.b=1 or c.d=2 and m')).toBe(shape('a.b=1 or (c.d=2 and m)'));
    expect(shape('not a.b=1 and m')).toBe(shape('(not a.b=1) and m'));
    expect(shape('a or b and c or d')).toBe('(a or (b and c) or d)');
  });
  it('keeps the argument forms apart', () => {
    const n = parse('f.x[""] = a');
    expect(n.kind === 'check' && n.lhs.kind === 'field' && n.lhs.arg).toBe('');
    const m = parse('f.x = a');
    expect(m.kind === 'check' && m.lhs.kind === 'field' && m.lhs.arg).toBe(undefined);
  });
  it('decodes escapes (a backslash before a blank stands for a backslash and takes the blank)', () => {
    const n = parse('proc.name="\\x41\\t\\\\ \\ x"');
    expect(n.kind === 'check' && n.rhs?.kind === 'literal' && n.rhs.value).toBe('A\t\\ \\x');
  });
  it('reads and, or and not alone as macro names, as libsinsp does (the loader then reports them)', () => {
    expect(shape('not')).toBe('not');
    expect(shape('a and not')).toBe('(a and not)');
  });
  it('collapses runs of not to their parity', () => {
    expect(shape('not not not a')).toBe('not a');
    expect(shape('not not a')).toBe('a');
    expect(shape('not (not a)')).toBe('not (not a)');
  });
  it('enforces the nesting limit of 1000', () => {
    const deep = (d: number): string => '('.repeat(d) + 'a.b=1' + ')'.repeat(d);
    expect(parseErrorColumn(deep(MAX_NESTING_DEPTH - 1))).toBe('ok');
    expect(parseErrorColumn(deep(MAX_NESTING_DEPTH + 1))).not.toBe('ok');
    // A run of `not`s does not nest (libsinsp counts its parity).
    expect(parseErrorColumn('not '.repeat(MAX_NESTING_DEPTH + 1) + 'a')).toBe('ok');
    expect(parseErrorColumn('not('.repeat(MAX_NESTING_DEPTH + 1) + 'a' + ')'.repeat(MAX_NESTING_DEPTH + 1))).not.toBe('ok');
  });
});

/** A quote right after an escaped backslash does not close a string in Falco: write that backslash as \x5c. */
const endQuote = (quoted: string): string => quoted.replace(/\\\\"$/, '\\x5c"');

describe('property: print → parse round trip, no crashes', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter((s) => !['and', 'or', 'not', 'val', ...['tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt']].includes(s));
  const field = fc.tuple(name, name, fc.option(fc.oneof(fc.constant(''), fc.string({ maxLength: 5 })), { nil: undefined })).map(([a, b, arg]) => `${a}.${b}${arg === undefined ? '' : `[${endQuote(JSON.stringify(arg).replace(/\\u0000/g, '\\x00'))}]`}`);
  const value = fc.string({ maxLength: 8 });
  const q = (s: string): string => endQuote('"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\x00-\x1f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')) + '"');
  const leaf = fc.oneof(
    fc.tuple(field, fc.constantFrom('=', '!=', 'contains', 'startswith', 'glob', 'icontains'), value).map(([f, op, v]) => `${f} ${op} ${q(v)}`),
    fc.tuple(field, fc.constantFrom('in', 'pmatch', 'intersects'), fc.array(value, { maxLength: 3 })).map(([f, op, vs]) => `${f} ${op} (${vs.map(q).join(', ')})`),
    fc.tuple(field, fc.constantFrom('<', '>=', '<='), fc.integer()).map(([f, op, n]) => `${f} ${op} ${n}`),
    field.map((f) => `${f} exists`),
    name,
  );
  const cond: fc.Arbitrary<string> = fc.letrec((tie) => ({
    c: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.tuple(tie('c'), fc.constantFrom('and', 'or'), tie('c')).map(([a, o, b]) => `(${a}) ${o} (${b})`), tie('c').map((a) => `not (${a})`)),
  })).c as fc.Arbitrary<string>;

  it('round-trips canonical printing', () => {
    fc.assert(
      fc.property(cond, (c) => {
        const once = printCondition(parse(c));
        expect(printCondition(parse(once))).toBe(once);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws anything but a syntax error on random input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const r = parseErrorColumn(s);
        expect(r === 'ok' || (typeof r === 'number' && r >= 1 && r <= s.length + 1)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
