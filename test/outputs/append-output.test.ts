/**
 * falco.yaml's append_output, compiled into the rules' outputs: extra text with %fields for the
 * rules an entry matches (rule, source, tags: every condition given), extra fields in
 * output_fields only, a typed value for a bare field and text for a format.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/rule-engine';
import type { Alert } from '../../src/outputs/alert';
import { appendOutputSchema } from '../../src/outputs/config';
import { syntheticEvent } from '../../src/probe/synthetic';
import type { AppendOutputEntry } from '../../src/rules/append-output';
import { compileRules } from '../../src/rules/ruleset';
import { FakeState, proc } from '../rules/fake-state';

const RULES = [
  '- rule: Shell run',
  '  desc: d',
  '  condition: evt.type = execve and proc.name = bash',
  '  output: shell (proc=%proc.name)',
  '  priority: WARNING',
  '  tags: [shell, container]',
  '- rule: Other run',
  '  desc: d',
  '  condition: evt.type = execve and proc.name = ls',
  '  output: other (proc=%proc.name)',
  '  priority: NOTICE',
  '  tags: [shell]',
  '',
].join('\n');

function alertsFor(entries: readonly AppendOutputEntry[], name: string): Alert[] {
  const rs = compileRules([{ name: 'r.yaml', content: RULES }], { appendContainerFields: false, appendOutput: appendOutputSchema.parse(entries) });
  expect(rs.errors).toEqual([]);
  const state = new FakeState().addProcess(proc({ tgid: 9, name, exe: name, exePath: `/usr/bin/${name}` }));
  const alerts: Alert[] = [];
  const e = new Engine({ reader: state, hooks: [state], onAlert: (a) => alerts.push(a), bootOffsetNs: 0n, hostname: 'node-1' });
  e.setRuleset(rs);
  e.process(syntheticEvent({ type: 'execve', tgid: 9, comm: name, cpu: 3, tsNs: 1 }));
  return alerts;
}

describe('append_output', () => {
  it('appends extra output with %fields and adds extra fields (typed for a bare field, text for a format)', () => {
    const [a] = alertsFor([{ match: { source: 'syscall' }, extra_output: 'on CPU %evt.cpu', extra_fields: ['proc.pid', { where: 'pid %proc.pid on %evt.hostname' }] }], 'bash');
    expect(a!.message).toBe('shell (proc=bash) on CPU 3');
    expect(a!.outputFields).toMatchObject({ 'proc.name': 'bash', 'evt.cpu': 3, 'proc.pid': 9, where: 'pid 9 on node-1' });
    expect(a!.message).not.toContain('where');
  });

  it('matches by rule name, source and all listed tags; entries apply in order; no match means every rule', () => {
    const entries: AppendOutputEntry[] = [
      { match: { rule: 'Shell run' }, extra_output: '[by-name]' },
      { match: { tags: ['shell', 'container'] }, extra_output: '[both-tags]' },
      { match: { tags: ['shell'], source: 'k8s_audit' }, extra_output: '[wrong-source]' },
      { extra_output: '[all]' },
    ];
    expect(alertsFor(entries, 'bash')[0]!.message).toBe('shell (proc=bash) [by-name] [both-tags] [all]');
    expect(alertsFor(entries, 'ls')[0]!.message).toBe('other (proc=ls) [all]');
  });

  it('a field the source does not have fails the load, naming it', () => {
    const rs = compileRules([{ name: 'r.yaml', content: RULES }], { appendOutput: [{ extra_output: 'x=%proc.nosuchfield' }] });
    expect(rs.errors.map((e) => e.message).join('\n')).toMatch(/append_output: .*proc.nosuchfield/);
  });

  it('the schema takes the falco.yaml shape and refuses others', () => {
    expect(appendOutputSchema.safeParse([{ match: { source: 'syscall' }, extra_output: 'x', extra_fields: ['evt.hostname', { home: '${HOME}' }] }, { suggested_output: true }]).success).toBe(true);
    expect(appendOutputSchema.safeParse([{ match: { rules: 'x' } }]).success).toBe(false);
    expect(appendOutputSchema.safeParse([{ extra_fields: [{ a: 'x', b: 'y' }] }]).success).toBe(false);
  });
});
