/**
 * The in-process benchmark scripts are plain JavaScript outside the typecheck: they build their
 * own state stubs and configurations, which drift when the contracts change (this session's
 * StateReader.ipNames and state.dns broke both). Run them whole and check they report; their
 * figures are BENCHMARKS.md's business, not asserted here.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '../..');

function runBench(script: string): string {
  const r = spawnSync(process.execPath, ['--expose-gc', resolve(REPO, 'test/bench', script)], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${script}: ${r.stderr.slice(-2000)}`).toBe(0);
  return r.stdout;
}

describe('benchmark scripts still run against the current contracts', () => {
  it('engine-throughput reports events per second for both rule sets', () => {
    const out = runBench('engine-throughput.js');
    expect(out.match(/"events_per_sec": \d+/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('decoder-paths reports CPU per event', () => {
    const out = runBench('decoder-paths.js');
    expect(out).toMatch(/"cpu_ns_per_event": \d/);
    expect(out).toContain('"check": true');
  }, 120_000);

  it('state-churn reports its churn, steady and seed figures', () => {
    const out = runBench('state-churn.js');
    for (const bench of ['churn', 'steady', 'seed']) expect(out).toContain(`"bench":"${bench}"`);
  }, 120_000);
});
