/**
 * Rules reload hazards in the rules manager (issue 23, point 7), without the kernel: an emptied or
 * all-disabled rule set is refused unless `engine.allow_empty_rules`; the off-loop reload (the
 * built worker thread, from dist/) refuses broken and oversized rule sets without compiling them on
 * the main thread, folds reloads asked for while one runs, and leaves nothing running at close.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as EngineModule from '../../src/engine';
import { Engine, RulesManager } from '../../src/engine';
import { FakeState } from '../rules/fake-state';
import { REPO } from '../support/cli';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-reload-unit-'));
let n = 0;

const RULE = (name: string, enabled = true): string =>
  [`- rule: ${name}`, '  desc: d', '  condition: evt.type = openat and fd.name = /etc/shadow', '  output: o', '  priority: WARNING', `  enabled: ${enabled}`, ''].join('\n');

function rulesFile(text: string): string {
  const f = join(tmp, `r${++n}.yaml`);
  writeFileSync(f, text);
  return f;
}

function engine(E: typeof Engine = Engine): Engine {
  return new E({ reader: new FakeState(), onAlert: () => undefined, bootOffsetNs: 0n, hostname: 'h' });
}

/** About `bytes` of distinct, valid rules. */
function bigRules(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const r = `- rule: Generated ${i}\n  desc: d\n  condition: evt.type in (open, openat) and fd.name startswith /etc/gen${i}/ and proc.name in (bash, sh) and not user.name = nobody${i}\n  output: "gen ${i} file=%fd.name proc=%proc.name"\n  priority: WARNING\n`;
    parts.push(r);
    size += r.length;
  }
  return parts.join('');
}

describe('empty rule sets', () => {
  it('an emptied file is refused and the running rules stay; allow_empty_rules accepts it', () => {
    const f = rulesFile(RULE('Kept'));
    const e = engine();
    const mgr = new RulesManager({ engine: e, paths: [f] });
    expect(mgr.reload().applied).toBe(true);
    const running = e.currentRuleset;
    for (const emptied of ['', '# nothing left\n', RULE('Off', false)]) {
      writeFileSync(f, emptied);
      const r = mgr.reload();
      expect(r.applied).toBe(false);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.message).toMatch(/^refusing an empty rule set: .*set engine.allow_empty_rules to run without rules$/);
      expect(e.currentRuleset).toBe(running);
    }
    expect(mgr.counters.failedReloads).toBe(3);
    const allowing = new RulesManager({ engine: e, paths: [f], allowEmpty: true });
    writeFileSync(f, '');
    expect(allowing.reload()).toMatchObject({ applied: true, rules: 0 });
  });

  it('the off-loop reload refuses it the same way', async () => {
    const f = rulesFile(RULE('Kept'));
    const e = engine();
    const mgr = new RulesManager({ engine: e, paths: [f] });
    mgr.reload();
    writeFileSync(f, '');
    const r = await mgr.reloadOffLoop();
    expect(r.applied).toBe(false);
    expect(r.errors[0]!.message).toContain('refusing an empty rule set');
    expect(e.currentRuleset!.rules.map((x) => x.name)).toEqual(['Kept']);
  });
});

const distManager = join(REPO, 'dist/engine/index.js');
describe.skipIf(!existsSync(join(REPO, 'dist/engine/rules-worker.js')))('the off-loop reload in its worker thread (dist/)', () => {
  // The built modules: the worker script sits next to them.
  const dist = createRequire(__filename)(distManager) as typeof EngineModule;

  it('applies a good rule set and refuses a broken one, keeping the running rules', async () => {
    const f = rulesFile(RULE('First'));
    const e = engine(dist.Engine);
    const mgr = new dist.RulesManager({ engine: e, paths: [f] });
    mgr.reload();
    writeFileSync(f, RULE('Second'));
    expect(await mgr.reloadOffLoop()).toMatchObject({ applied: true, rules: 1 });
    expect(e.currentRuleset!.rules[0]!.name).toBe('Second');
    writeFileSync(f, RULE('Third').replace('fd.name =', 'fd.nme ='));
    const bad = await mgr.reloadOffLoop();
    expect(bad.applied).toBe(false);
    expect(bad.errors[0]).toMatchObject({ file: f, line: 3, code: 'LOAD_ERR_COMPILE_CONDITION' });
    expect(e.currentRuleset!.rules[0]!.name).toBe('Second');
    mgr.close();
  });

  it('folds reloads asked for while one runs into one more', async () => {
    const f = rulesFile(RULE('A'));
    const e = engine(dist.Engine);
    const results: boolean[] = [];
    const mgr = new dist.RulesManager({ engine: e, paths: [f], onReload: (r) => results.push(r.applied) });
    const first = mgr.reloadOffLoop();
    writeFileSync(f, RULE('B'));
    const second = mgr.reloadOffLoop();
    const third = mgr.reloadOffLoop();
    await Promise.all([first, second, third]);
    expect(results).toEqual([true, true]);
    expect(e.currentRuleset!.rules[0]!.name).toBe('B');
    mgr.close();
  });

  it('refuses a rule set beyond its memory budget without compiling it here, and stays responsive', async () => {
    const f = rulesFile(RULE('Small'));
    const e = engine(dist.Engine);
    const mgr = new dist.RulesManager({ engine: e, paths: [f], checkMemoryMb: 32 });
    mgr.reload();
    writeFileSync(f, bigRules(5_000_000));
    let worstGap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 10);
    const t0 = performance.now();
    const r = await mgr.reloadOffLoop();
    clearInterval(tick);
    expect(r.applied).toBe(false);
    expect(r.errors[0]!.message).toContain('the rules need more than 32 MiB to compile');
    expect(e.currentRuleset!.rules[0]!.name).toBe('Small');
    console.log(`5 MB rule set over a 32 MiB budget: refused after ${Math.round(performance.now() - t0)} ms, worst event-loop gap ${Math.round(worstGap)} ms`);
    expect(worstGap).toBeLessThan(500);
    mgr.close();
  }, 120_000);
});
