/**
 * libsinsp's own filter tests as the specification of the condition language: every parse case of
 * filter_parser.ut.cpp, the unescaping cases of filter_escaping.ut.cpp, the compile cases on real
 * fields, and the evaluation cases whose event Lanner's synthetic events can rebuild. The tables
 * (libs-*-cases.ts) hold libsinsp's inputs and outcomes; the expectations here are theirs.
 */
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/probe/linux';
import type { SyntheticEventInit } from '../../src/probe/synthetic';
import { ConditionCompiler } from '../../src/rules/compile';
import { inferEventTypes } from '../../src/rules/evttypes';
import { ConditionSyntaxError, inlineSource, parseCondition } from '../../src/rules/parser';
import { fdInfo, FakeState, proc } from './fake-state';
import { evalCond } from './helpers';
import { LIBS_COMPILE_CASES } from './libs-compile-cases';
import { LIBS_EVAL_CASES } from './libs-eval-cases';
import { LIBS_PARSE_CASES } from './libs-parse-cases';

function parses(text: string): boolean {
  try {
    parseCondition(inlineSource(text));
    return true;
  } catch (err) {
    if (err instanceof ConditionSyntaxError) return false;
    throw err;
  }
}

/** libsinsp re-parses accepted cases padded with blanks, with blanks as line breaks, then as tabs. */
function blankVariants(text: string): string[] {
  const padded = ` ${text} `;
  const lines = padded.replaceAll(' ', '\n');
  return [padded, lines, lines.replaceAll('\n', '\t')];
}

describe('libsinsp filter_parser.ut.cpp: every parse case', () => {
  it(`has the ${LIBS_PARSE_CASES.length} cases`, () => expect(LIBS_PARSE_CASES.length).toBeGreaterThan(500));
  for (const [text, outcome, variants] of LIBS_PARSE_CASES) {
    it(`${outcome}s ${JSON.stringify(text)}`, () => {
      expect(parses(text)).toBe(outcome === 'accept');
      if (variants) for (const v of blankVariants(text)) expect(parses(v), JSON.stringify(v)).toBe(true);
    });
  }
  it('rejects 100,000 open parentheses with a syntax error, not a stack overflow', () => {
    expect(parses('('.repeat(100_000))).toBe(false);
  });
});

describe('libsinsp filter_escaping.ut.cpp: quoted strings', () => {
  const value = (body: string): string | undefined => {
    try {
      const n = parseCondition(inlineSource(`a.b = "${body}"`));
      return n.kind === 'check' && n.rhs?.kind === 'literal' ? n.rhs.value : undefined;
    } catch (err) {
      if (err instanceof ConditionSyntaxError) return undefined;
      throw err;
    }
  };
  it.each([
    ['\\x41', 'A'],
    ['\\x7f', '\x7f'],
    ['\\x01', '\x01'],
    ['\\xff', '\xff'],
    ['\\x80', '\x80'],
    ['\\xAb', '\xab'],
    ['\\xff\\xfe', '\xff\xfe'],
    ['a\\xffb', 'a\xffb'],
    ['\\x00', '\0'],
    ['a\\x00b', 'a\0b'],
    ['\\x413', 'A3'],
    ['some\\\\b\\\\f\\\\n\\\\r\\\\tstring', 'some\\b\\f\\n\\r\\tstring'],
    ['some \\"quoted string\\"', 'some "quoted string"'],
    ["some 'quoted string'", "some 'quoted string'"],
    ['\\b\\f\\n\\r\\t\\/', '\b\f\n\r\t/'],
  ])('"%s" is %j', (body, want) => expect(value(body)).toBe(want));
  it.each(['\\x', '\\xf', 'a\\xf', '\\xgg', '\\xfg', '\\x g', '\\x-1', '\\x+a', "\\'", '\\q'])('"%s" is refused', (body) => expect(value(body)).toBe(undefined));
});

function compiles(text: string): boolean {
  try {
    const node = parseCondition(inlineSource(text));
    new ConditionCompiler().compile(node);
    inferEventTypes(node);
    return true;
  } catch (err) {
    if (err instanceof Error && (err.name === 'ConditionSyntaxError' || err.name === 'CompileError')) return false;
    throw err;
  }
}

describe('libsinsp compile cases on real fields', () => {
  it(`has the ${LIBS_COMPILE_CASES.length} cases`, () => expect(LIBS_COMPILE_CASES.length).toBeGreaterThan(700));
  for (const [text, outcome, from] of LIBS_COMPILE_CASES) {
    it(`${outcome}s ${JSON.stringify(text)} (${from})`, () => expect(compiles(text)).toBe(outcome === 'accept'));
  }
});

/** The events libsinsp's tests build, rebuilt as synthetic events with the state they leave behind. */
const EVENTS: Record<string, () => { ev: SyntheticEventInit; state: FakeState; rename?: (c: string) => string }> = {
  'filter_op_contains.ut.cpp:contains_icontains:1': () => ({ ev: { type: 'open', tgid: 1, ret: 1, str0: '/opt/dir/SUBDIR/file.txt', args: [0, O_RDWR | O_CREAT, 0] }, state: new FakeState() }),
  'filter_op_pmatch.ut.cpp:pmatch:1': () => ({ ev: { type: 'open', tgid: 1, ret: 1, str0: '/opt/dir/subdir/file.txt', args: [0, 0, 0] }, state: new FakeState() }),
  // An epoll_create failing with -22 on CPU 1: a failed close carries the same fields here.
  'filter_op_numeric_compare.ut.cpp:signed_int_compare:1': () => ({ ev: { type: 'close', tgid: 1, cpu: 1, ret: -22, args: [3] }, state: new FakeState() }),
  'filter_op_numeric_compare.ut.cpp:signed_int_compare:2': () => ({ ev: { type: 'open', tgid: 1, cpu: 1, ret: -1, str0: '/tmp/the_file', args: [0, 0, 0o666] }, state: new FakeState() }),
  'filter_op_net_compare.ut.cpp:net_ipv4_compare:1': connectEvent,
  'filter_op_net_compare.ut.cpp:net_modifier_ip_compare:1': connectEvent,
  ...Object.fromEntries(
    ['eq', 'ne', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'transformer_lhs', 'compound', 'empty_rhs'].map((t) => [`filterchecks/cmp_operator_modifiers.cpp:FILTERCHECK_MOD_${t}:0`, execMyexe]),
  ),
  // A failed getcwd: this probe does not trace getcwd, so a failed chdir stands in for it.
  ...Object.fromEntries(
    ['filter_simple_evaluation', 'filter_val_transformer', 'filter_transformers_combination', 'filter_regex_operator_evaluation', 'filter_str_op_modifier_evaluation'].map((t) => [`filter_compiler.ut.cpp:${t}:0`, failedGetcwd]),
  ),
};

function connectEvent(): { ev: SyntheticEventInit; state: FakeState } {
  const state = new FakeState();
  state.addProcess(proc({ tgid: 1, name: 'init' }));
  // After libsinsp's connect the fd's local side is the server address (fd.lip = fd.sip).
  state.addFd(1, fdInfo({ num: 4, type: 'ipv4', name: '172.40.111.222:54321->142.251.111.147:443', clientIp: '172.40.111.222', clientPort: 54321, serverIp: '142.251.111.147', serverPort: 443, l4proto: 'tcp', isServer: true, connected: true }));
  return { ev: { type: 'connect', tgid: 1, ret: 0, args: [4], sockaddr: { family: 'ipv4', address: '142.251.111.147', port: 443 } }, state };
}

function execMyexe(): { ev: SyntheticEventInit; state: FakeState } {
  const state = new FakeState();
  state.addProcess(proc({ tgid: 1, name: 'myexe', exe: '/myexe', exePath: '/myexe' }));
  return { ev: { type: 'execve', tgid: 1, ret: 0, comm: 'myexe', str0: '/myexe' }, state };
}

function failedGetcwd(): { ev: SyntheticEventInit; state: FakeState; rename: (c: string) => string } {
  const state = new FakeState();
  state.addProcess(proc({ tgid: 1, name: 'init', exe: '/sbin/init' }));
  return { ev: { type: 'chdir', tgid: 1, ret: -2, str0: '/test/dir' }, state, rename: (c) => c.replace(/getcwd/g, 'chdir').replace(/GETCWD/g, 'CHDIR') };
}

describe('libsinsp evaluation cases', () => {
  const keys = Object.keys(LIBS_EVAL_CASES);
  it('rebuilds the event of every ported group', () => expect(keys.filter((k) => !EVENTS[k])).toEqual([]));
  for (const key of keys) {
    const build = EVENTS[key];
    if (!build) continue;
    describe(key, () => {
      for (const [cond, want] of LIBS_EVAL_CASES[key]!) {
        it(`${cond} → ${want}`, () => {
          const { ev, state, rename } = build();
          expect(evalCond(rename ? rename(cond) : cond, ev, state)).toBe(want);
        });
      }
    });
  }
});
