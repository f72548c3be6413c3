/**
 * The trigger suite: every action of test/triggers/catalogue is performed for real (on this host,
 * in the suite's network namespace, or in a podman container) while two agents watch:
 *   - one with Falco's three stock files (and the suite's overlay: disabled stock rules enabled,
 *     allow-lists filled in as a user would, pids appended to outputs), rule_matching=all;
 *   - one with Lanner's default rules only (plus the same pid overlay), rule_matching=first.
 * Each trigger must raise its stock rules in the first and its default rules in the second; its
 * benign twin must raise none of them. The closing lines print `N/M stock rules fired` and the
 * default rules' technique coverage.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { runCli } from '../support/cli';
import { AgentHarness, DEFAULT_RULES, skipReason, type AlertRecord } from '../e2e/agent-harness';
import { TRIGGERS } from './catalogue';
import { defaultsLine, stockLine } from './coverage-figures';
import { TriggerEnv, environmentUnavailableReason } from './env';
import { belongsTo, loadedRules, overlayYaml, STOCK_TUNING } from './overlay';
import type { Evidence, Trigger } from './trigger';
import { UNTRIGGERABLE } from './untriggerable';

const skip = skipReason(environmentUnavailableReason());
/** How long an expected alert may take (container metadata lookups, a busy shared machine). */
const ALERT_TIMEOUT_MS = 40_000;
/** LANNER_TRIGGERS=id,id… runs only those triggers (while writing one). */
const ONLY = process.env.LANNER_TRIGGERS?.split(',').filter(Boolean);
const SELECTED = ONLY ? TRIGGERS.filter((t) => ONLY.some((o) => t.id.includes(o))) : TRIGGERS;

/** Event types `lanner list-events` reports as traced by the probe. */
function tracedEventTypes(): Set<string> {
  const r = runCli(['list-events', '--json']);
  if (r.code !== 0) throw new Error(`lanner list-events failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { traced: { name: string }[] };
  return new Set(doc.traced.map((e) => e.name));
}

describe.skipIf(skip !== undefined)('trigger suite: stock rules and default rules on real actions', () => {
  let env: TriggerEnv;
  let stock: AgentHarness;
  let defaults: AgentHarness;
  let allStockRules: string[] = [];
  let traced = new Set<string>();
  const stockFired = new Set<string>();
  const detected = new Set<string>();
  const waiting = new Set<string>();
  /** Stock rule → why its trigger's stock half did not run (event types it waits for, an engine gap). */
  const stockWaiting = new Map<string, string>();

  beforeAll(async () => {
    env = await TriggerEnv.create();
    traced = tracedEventTypes();
    const stockRules = loadedRules(STOCK_SYSCALL_FILES);
    allStockRules = stockRules.map((r) => r.name);
    const stockOverlay = join(env.tmp, 'stock-overlay.yaml');
    writeFileSync(stockOverlay, overlayYaml(stockRules, { enableAll: true, barrier: true, tuning: STOCK_TUNING.map((t) => t.yaml) }));
    const defaultOverlay = join(env.tmp, 'default-overlay.yaml');
    writeFileSync(defaultOverlay, overlayYaml(loadedRules(DEFAULT_RULES), { enableAll: false, barrier: false }));
    [stock, defaults] = await Promise.all([
      AgentHarness.start({ rules: [...STOCK_SYSCALL_FILES, stockOverlay], overrides: ['rule_matching=all', ...env.agentOverrides()] }),
      AgentHarness.start({ rules: [...DEFAULT_RULES, defaultOverlay], overrides: env.agentOverrides() }),
    ]);
  }, 300_000);

  afterAll(async () => {
    const exits = await Promise.all([stock?.stop(), defaults?.stop()]);
    await env?.close();
    if (allStockRules.length > 0) {
      console.log(`${stockLine(allStockRules, stockFired, UNTRIGGERABLE, stockWaiting)}\n${defaultsLine(SELECTED, detected, waiting)}`);
    }
    for (const exit of exits) if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  }, 120_000);

  /** Waits for each rule's alert tied to `ev`; returns the rules that did not come. */
  const awaitRules = async (agent: AgentHarness, rules: readonly string[], ev: Evidence, from: number): Promise<string[]> => {
    const missing: string[] = [];
    await Promise.all(
      rules.map(async (rule) => {
        try {
          await agent.waitFor((a: AlertRecord) => a.rule === rule && belongsTo(a, ev), ALERT_TIMEOUT_MS, from);
        } catch {
          missing.push(rule);
        }
      }),
    );
    return missing;
  };

  const defaultHalfRuns = (t: Trigger): boolean => t.defaults.length > 0 && (t.waitingFor ?? []).every((type) => traced.has(type));
  const stockHalfRuns = (t: Trigger): boolean => t.stockBlockedBy === undefined && (t.stockWaitingFor ?? []).every((type) => traced.has(type));

  for (const t of SELECTED) {
    it(`${t.id} (${t.technique}): ${t.what}`, { timeout: 120_000 }, async () => {
      const fromStock = stock.mark();
      const fromDefaults = defaults.mark();
      const ev = await t.act(env);
      const runDefaults = defaultHalfRuns(t);
      const runStock = stockHalfRuns(t);
      if (t.defaults.length > 0 && !runDefaults) waiting.add(t.id);
      if (!runStock) for (const r of t.stock) stockWaiting.set(r, t.stockBlockedBy ?? `waiting for event types ${t.stockWaitingFor!.join(', ')}`);
      const [stockMissing, defaultsMissing] = await Promise.all([
        runStock ? awaitRules(stock, t.stock, ev, fromStock) : Promise.resolve([]),
        runDefaults ? awaitRules(defaults, t.defaults, ev, fromDefaults) : Promise.resolve([]),
      ]);
      if (runStock) for (const r of t.stock) if (!stockMissing.includes(r)) stockFired.add(r);
      if (runDefaults && defaultsMissing.length === 0) detected.add(t.id);
      const problems = [...stockMissing.map((r) => `stock rule did not fire: ${r}`), ...defaultsMissing.map((r) => `default rule did not fire: ${r}`)];

      if (t.benign) {
        const quiet = new Set(t.quietRules ?? [...(runStock ? t.stock : []), ...(runDefaults ? t.defaults : [])]);
        const fromStockB = stock.mark();
        const fromDefaultsB = defaults.mark();
        const twin = await t.benign(env);
        await Promise.all([stock.barrier(), defaults.barrier()]);
        const noisy = [...stock.alerts.slice(fromStockB), ...defaults.alerts.slice(fromDefaultsB)].filter((a) => quiet.has(a.rule) && belongsTo(a, twin));
        problems.push(...noisy.map((a) => `benign twin raised ${a.rule}: ${a.output.slice(0, 300)}`));
      }
      if (problems.length > 0) {
        // What each agent did see meanwhile, with the pids it tied the alerts to, for the failure message.
        const seen = (agent: AgentHarness, from: number): string[] =>
          agent.alerts.slice(from).filter((a) => !agent.isBarrier(a)).slice(-15).map((a) => `${a.rule} [${Object.entries(a.output_fields).filter(([k]) => k.startsWith('proc.pid') || k.startsWith('proc.apid') || k === 'container.id').map(([, v]) => v).join(',')}]`);
        problems.push(`evidence ${JSON.stringify({ pid: ev.pid, containerId: ev.containerId })}`, ...seen(stock, fromStock).map((x) => `stock saw: ${x}`), ...seen(defaults, fromDefaults).map((x) => `defaults saw: ${x}`));
      }
      expect(problems).toEqual([]);
    });
  }
});
