/**
 * Soundness of the kernel's open and change filters: whatever an enabled rule matches, the filter
 * derived from the rules ships. Random rulesets and calls from test/support/path-corpus.ts, and
 * Falco's stock files. The reference is the engine without its path gate (test/rules/path-gate.test.ts
 * checks that the gate changes no verdict).
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANGE_FILTER_TYPES } from '../../src/rules/filter-classes';
import { changeFilterFor, openFilterFor } from '../../src/rules/open-filter';
import { loadRules, type CompiledRuleset } from '../../src/rules/ruleset';
import { kernelShipsChange, kernelShipsOpen, type ModelChange, type ModelOpen } from '../support/open-filter-model';
import { asCalled, change, changeCondition, changeScene, condition, open, openScene, rulesetOf, rulesMatching } from '../support/path-corpus';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';

const UNGATED = { pathGate: false } as const;
const anyRuleMatches = (rs: CompiledRuleset, o: ModelOpen): boolean => rulesMatching(rs, openScene(o)).length > 0;
const anyRuleMatchesChange = (rs: CompiledRuleset, c: ModelChange): boolean => rulesMatching(rs, changeScene(c)).length > 0;

describe('the kernel open filter is sound', () => {
  it('random rulesets: every open a rule matches ships', () => {
    fc.assert(
      fc.property(fc.array(condition, { minLength: 1, maxLength: 4 }), fc.array(open, { minLength: 10, maxLength: 30 }), (conds, opens) => {
        const rs = rulesetOf(conds, undefined, UNGATED);
        const { filter } = openFilterFor(rs);
        for (const o of opens) if (anyRuleMatches(rs, o)) expect(kernelShipsOpen(filter, o), `${o.type} ${o.path} by ${o.comm}`).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("Falco's stock files: every open a stock rule matches ships", () => {
    const rs = loadRules([...STOCK_SYSCALL_FILES], UNGATED);
    const { filter } = openFilterFor(rs);
    expect(filter).not.toBeNull();
    let matched = 0;
    fc.assert(
      fc.property(open, (o) => {
        if (!anyRuleMatches(rs, o)) return;
        matched++;
        expect(kernelShipsOpen(filter, o), `${o.type} ${o.path} by ${o.comm}`).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // The corpus reaches the rules: a soundness check over opens no rule matches would prove nothing.
    expect(matched).toBeGreaterThan(20);
  });
});

describe('the kernel change filter is sound', () => {
  it('a directory written with its trailing slash in pmatch ships the directory itself', () => {
    // Found by the property below (seed 2121908177): `pmatch (/etc/)` matches `/etc`, which the
    // prefix `/etc/` alone did not hold.
    const rs = rulesetOf(['evt.arg.path pmatch (/etc/)'], ['rmdir'], UNGATED);
    const c: ModelChange = { type: 'rmdir', paths: ['/etc'], comm: 'sshd' };
    expect(anyRuleMatchesChange(rs, c)).toBe(true);
    expect(kernelShipsChange(changeFilterFor(rs).filter, c)).toBe(true);
    const opens = rulesetOf(['fd.name pmatch (/etc/)'], undefined, UNGATED);
    const o: ModelOpen = { type: 'openat', path: '/etc', flags: 0, comm: 'sshd' };
    expect(anyRuleMatches(opens, o)).toBe(true);
    expect(kernelShipsOpen(openFilterFor(opens).filter, o)).toBe(true);
  });

  it('random rulesets over path-changing types: every call a rule matches ships', () => {
    let matched = 0;
    fc.assert(
      fc.property(fc.subarray([...CHANGE_FILTER_TYPES], { minLength: 1, maxLength: 4 }), fc.array(changeCondition, { minLength: 1, maxLength: 3 }), fc.array(change, { minLength: 10, maxLength: 30 }), (types, conds, calls) => {
        const rs = rulesetOf(conds, types, UNGATED);
        const { filter } = changeFilterFor(rs);
        for (const c of calls.map(asCalled)) {
          if (!anyRuleMatchesChange(rs, c)) continue;
          matched++;
          expect(kernelShipsChange(filter, c), `${c.type} ${c.paths.join(' -> ')} by ${c.comm}`).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
    expect(matched).toBeGreaterThan(50);
  });

  it("Falco's stock files and the default rules: every path change a rule matches ships", () => {
    for (const files of [[...STOCK_SYSCALL_FILES], [join(__dirname, '../../rules/lanner_rules.yaml')]]) {
      const rs = loadRules(files, UNGATED);
      const { filter } = changeFilterFor(rs);
      expect(filter).not.toBeNull();
      let matched = 0;
      fc.assert(
        fc.property(change, (raw) => {
          const c = asCalled(raw);
          if (!anyRuleMatchesChange(rs, c)) return;
          matched++;
          expect(kernelShipsChange(filter, c), `${c.type} ${c.paths.join(' -> ')} by ${c.comm}`).toBe(true);
        }),
        { numRuns: 3000 },
      );
      expect(matched, files.join(' ')).toBeGreaterThan(5);
    }
  });
});
