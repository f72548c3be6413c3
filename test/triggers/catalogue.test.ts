/**
 * The trigger catalogue, checked without running anything: every stock rule has a trigger or a
 * reason why it cannot have one; every rule a trigger names exists; every default rule is proven
 * end to end with a benign twin somewhere; the default rules' declared coverage meets the target.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../e2e/agent-harness';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { TECHNIQUES } from './attack-catalogue';
import { TRIGGERS } from './catalogue';
import { nodeRelevant } from './coverage-figures';
import { loadedRules } from './overlay';
import { UNTRIGGERABLE } from './untriggerable';

const stockRules = loadedRules(STOCK_SYSCALL_FILES).map((r) => r.name);
const defaultRules = loadedRules(DEFAULT_RULES).map((r) => r.name);
const E2E_DIR = join(__dirname, '../e2e');
const e2eText = readdirSync(E2E_DIR).filter((f) => f.endsWith('.test.ts')).map((f) => readFileSync(join(E2E_DIR, f), 'utf8')).join('\n');

describe('trigger catalogue', () => {
  it('ids are unique and techniques are known ATT&CK ids', () => {
    const ids = TRIGGERS.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of TRIGGERS) expect(TECHNIQUES[t.technique], `${t.id}: ${t.technique}`).toBeDefined();
  });

  it('every stock rule has a trigger, or is listed as untriggerable with a reason (never both)', () => {
    const triggered = new Set(TRIGGERS.flatMap((t) => t.stock));
    const untriggerable = new Set(UNTRIGGERABLE.map((u) => u.rule));
    for (const name of [...triggered, ...untriggerable]) expect(stockRules, name).toContain(name);
    for (const name of stockRules) expect(triggered.has(name) !== untriggerable.has(name), name).toBe(true);
    for (const u of UNTRIGGERABLE) expect(u.reason.length, u.rule).toBeGreaterThan(20);
  });

  it('every default rule a trigger expects exists; a trigger without one says why', () => {
    for (const t of TRIGGERS) {
      for (const name of [...t.defaults, ...(t.quietRules ?? [])]) expect([...defaultRules, ...stockRules], `${t.id}: ${name}`).toContain(name);
      expect(t.defaults.length === 0, t.id).toBe(t.gap !== undefined);
      if (t.gap) expect(t.gap.reason.length, t.id).toBeGreaterThan(20);
    }
  });

  it('every default rule is proven end to end with a benign twin (here or in test/e2e)', () => {
    const twinned = new Set(TRIGGERS.filter((t) => t.benign).flatMap((t) => (t.quietRules ?? [...t.stock, ...t.defaults]).filter((r) => t.defaults.includes(r))));
    const unproven = defaultRules.filter((r) => !twinned.has(r) && !e2eText.includes(`'${r}'`));
    expect(unproven).toEqual([]);
  });

  it('the default rules are declared to detect at least 95% of the node-relevant techniques', () => {
    const relevant = nodeRelevant(TRIGGERS);
    const covered = relevant.filter((t) => t.defaults.length > 0).length;
    expect(covered / relevant.length).toBeGreaterThanOrEqual(0.95);
  });
});
