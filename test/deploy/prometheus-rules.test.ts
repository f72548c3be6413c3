import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { createLannerRegistry } from '../../src/metrics/registry';
import { FakeAgent, TEST_IDENTITY } from '../metrics/fake-sources';
import { REPO_ROOT } from './render';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const PROM_DIR = join(REPO_ROOT, 'deploy', 'prometheus');
const RULES = join(PROM_DIR, 'lanner-alerts.rules.yaml');
const RULE_TESTS = join(PROM_DIR, 'tests', 'lanner-alerts.test.yaml');
const OPERATOR_RULE = join(REPO_ROOT, 'deploy', 'kubernetes', 'overlays', 'prometheus-operator', 'prometheusrule.yaml');

const unavailable = existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found (Debian package 'prometheus')`;
if (unavailable && process.env.CI !== 'true') console.warn(`skipping promtool tests: ${unavailable}`);

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; for?: string }[] }[];
}

function promtool(args: string[], cwd?: string): { status: number; output: string } {
  if (unavailable) throw new Error(`CI=true and promtool cannot run: ${unavailable}`);
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the rule file and its tests in a temp dir, with the rule file edited by `edit`. */
function mutatedCopy(edit: (rules: RuleFile) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-rules-'));
  scratch.push(dir);
  cpSync(join(PROM_DIR, 'tests'), join(dir, 'tests'), { recursive: true });
  const rules = parseYaml(readFileSync(RULES, 'utf8')) as RuleFile;
  edit(rules);
  writeFileSync(join(dir, 'lanner-alerts.rules.yaml'), stringify(rules));
  return join(dir, 'tests', 'lanner-alerts.test.yaml');
}

function rule(rules: RuleFile, alert: string): { expr: string; for?: string } {
  const r = rules.groups.flatMap((g) => g.rules).find((x) => x.alert === alert);
  if (!r) throw new Error(`no alert ${alert}`);
  return r;
}

describe.skipIf(unavailable !== undefined && process.env.CI !== 'true')('Prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.status, r.output).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool(['test', 'rules', RULE_TESTS]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS/);
  });

  it.each([
    ['a down agent alerting without waiting', (rules: RuleFile) => void delete rule(rules, 'LannerAgentDown').for],
    ['a drop alert that ignores small drop rates', (rules: RuleFile) => void (rule(rules, 'LannerEventsDropped').expr = rule(rules, 'LannerEventsDropped').expr.replace('> 0', '> 1'))],
    ['critical alerts that miss priority critical', (rules: RuleFile) => void (rule(rules, 'LannerCriticalAlerts').expr = rule(rules, 'LannerCriticalAlerts').expr.replace('emergency|alert|critical', 'emergency|alert'))],
    ['an output alert that counts successful sends', (rules: RuleFile) => void (rule(rules, 'LannerOutputFailing').expr = rule(rules, 'LannerOutputFailing').expr.replace('failed|dropped', 'failed|dropped|sent'))],
  ])('unit tests catch %s', (_name, edit) => {
    const r = promtool(['test', 'rules', mutatedCopy(edit)]);
    expect(r.status, r.output).not.toBe(0);
  });

  it('use only series the metrics server exports', async () => {
    const agent = new FakeAgent();
    agent.addSink('stdout');
    const registry = createLannerRegistry(agent.sources(), TEST_IDENTITY, agent.readiness(), { processMetrics: false });
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const rules = parseYaml(readFileSync(RULES, 'utf8')) as RuleFile;
    const used = new Set(rules.groups.flatMap((g) => g.rules).flatMap((r) => r.expr.match(/\blanner_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(exported.has(name), `${name} is not exported`).toBe(true);
  });

  it('scrape config for plain Prometheus is valid apart from Kubernetes discovery', () => {
    const cfg = parseYaml(readFileSync(join(PROM_DIR, 'scrape-config.yaml'), 'utf8')) as { scrape_configs: Record<string, unknown>[] };
    const job = cfg.scrape_configs.find((j) => j.job_name === 'lanner');
    expect(job).toBeDefined();
    // Debian's promtool is built without Kubernetes service discovery ("field kubernetes_sd_configs
    // not found"), so the rest of the job is checked with the discovery swapped for a static target.
    const { kubernetes_sd_configs: sd, ...rest } = job!;
    expect(sd).toEqual([{ role: 'endpoints', namespaces: { names: ['lanner'] } }]);
    const dir = mkdtempSync(join(tmpdir(), 'lanner-scrape-'));
    scratch.push(dir);
    cpSync(RULES, join(dir, 'lanner-alerts.rules.yaml'));
    writeFileSync(join(dir, 'prometheus.yml'), stringify({ ...cfg, scrape_configs: [{ ...rest, static_configs: [{ targets: ['127.0.0.1:8766'] }] }] }));
    const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    expect(r.status, r.output).toBe(0);
  });
});

describe('PrometheusRule manifest', () => {
  it('has exactly the groups of the plain rule file', () => {
    const plain = parseYaml(readFileSync(RULES, 'utf8')) as RuleFile;
    const manifest = parseYaml(readFileSync(OPERATOR_RULE, 'utf8')) as { kind: string; spec: RuleFile };
    expect(manifest.kind).toBe('PrometheusRule');
    expect(manifest.spec.groups).toEqual(plain.groups);
  });

  it('is what the generator renders now', () => {
    expect(() => execFileSync(process.execPath, [join(PROM_DIR, 'render-prometheusrule.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
