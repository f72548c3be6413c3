/**
 * Generates docs/coverage.md: the MITRE ATT&CK coverage of Lanner's default rules and of Falco's
 * stock rules, from the rules' own tags (tactic → technique → rules).
 *
 *   npm run docs:coverage          rewrite docs/coverage.md
 *   (test/triggers/coverage-doc.test.ts fails when the committed file is out of date)
 *
 * A rule's technique is listed under each tactic the rule is tagged with that ATT&CK also files
 * the technique under; when the two do not meet, under the technique's own ATT&CK tactics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRules } from '../../src/rules/ruleset';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';
import { TACTICS, TECHNIQUES } from './attack-catalogue';

const REPO = resolve(__dirname, '../..');
export const COVERAGE_DOC = join(REPO, 'docs/coverage.md');
const DEFAULT_FILES = [join(REPO, 'rules/lanner_rules.yaml')];

interface TaggedRule {
  readonly name: string;
  readonly tags: readonly string[];
  readonly enabled: boolean;
}

type Side = 'defaults' | 'stock';
/** tactic tag → technique id ('' = tactic tag without a technique) → side → rule names. */
type Table = Map<string, Map<string, Record<Side, Set<string>>>>;

const TECHNIQUE_TAG = /^T\d{4}(\.\d{3})?$/;
const TACTIC_BY_ID = new Map(TACTICS.map((t) => [t.id, t.tag]));

function rulesOf(files: readonly string[]): TaggedRule[] {
  const rs = loadRules(files);
  if (rs.errors.length > 0) throw new Error(`rules do not load: ${rs.errors.map((e) => e.message).join('; ')}`);
  return rs.rules.filter((r) => r.source === 'syscall').map((r) => ({ name: r.name, tags: r.tags, enabled: r.enabled }));
}

function add(table: Table, tactic: string, technique: string, side: Side, rule: string): void {
  let byTechnique = table.get(tactic);
  if (!byTechnique) table.set(tactic, (byTechnique = new Map()));
  let cell = byTechnique.get(technique);
  if (!cell) byTechnique.set(technique, (cell = { defaults: new Set(), stock: new Set() }));
  cell[side].add(rule);
}

function place(table: Table, rule: TaggedRule, side: Side): void {
  const label = rule.enabled ? rule.name : `${rule.name} (disabled)`;
  // Stock rules sometimes carry a tactic id (TA0003) instead of a mitre_* tag.
  const tactics = new Set(rule.tags.flatMap((t) => (t.startsWith('mitre_') ? [t] : TACTIC_BY_ID.has(t) ? [TACTIC_BY_ID.get(t)!] : [])));
  const techniques = rule.tags.filter((t) => TECHNIQUE_TAG.test(t));
  for (const technique of techniques) {
    const own = TECHNIQUES[technique]?.[1] ?? [];
    const both = own.filter((t) => tactics.has(t));
    for (const tactic of both.length > 0 ? both : own.length > 0 ? own : [...tactics]) add(table, tactic, technique, side, label);
  }
  if (techniques.length === 0) for (const tactic of tactics) add(table, tactic, '', side, label);
}

const cellText = (names: ReadonlySet<string>): string => (names.size === 0 ? '—' : [...names].sort().join('<br>'));

/** The whole document. */
export function renderCoverage(): string {
  const defaults = rulesOf(DEFAULT_FILES);
  const stock = rulesOf(STOCK_SYSCALL_FILES);
  const table: Table = new Map();
  for (const r of defaults) place(table, r, 'defaults');
  for (const r of stock) place(table, r, 'stock');

  const techniquesOf = (side: Side): Set<string> => {
    const s = new Set<string>();
    for (const byTechnique of table.values()) for (const [t, cell] of byTechnique) if (t && cell[side].size > 0) s.add(t);
    return s;
  };
  const d = techniquesOf('defaults');
  const s = techniquesOf('stock');
  const onlyStock = [...s].filter((t) => !d.has(t)).sort();

  const out: string[] = [
    '# MITRE ATT&CK coverage',
    '',
    'Generated from the rules\' tags by `npm run docs:coverage` (`test/triggers/mitre-coverage.ts`); do not edit by hand.',
    '`test/triggers/coverage-doc.test.ts` fails when this file is out of date.',
    '',
    `Default rules (\`rules/lanner_rules.yaml\`): ${defaults.length} rules tagged with ${d.size} techniques. ` +
      `Falco's stock rules (\`rules/falco/\`, three syscall files): ${stock.length} rules tagged with ${s.size} techniques.`,
    `Techniques only stock rules are tagged with: ${onlyStock.length === 0 ? 'none' : onlyStock.join(', ')}.`,
    '',
    'A tag says what a rule is about, not that it fires: `npm run test:triggers` performs each technique for real and',
    'reports which rules do fire (see the README, "Detection coverage").',
    '',
  ];
  for (const tactic of TACTICS) {
    const byTechnique = table.get(tactic.tag);
    if (!byTechnique) continue;
    out.push(`## ${tactic.name} (${tactic.id})`, '', '| technique | default rules | stock rules |', '| --- | --- | --- |');
    const ids = [...byTechnique.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
    for (const id of ids) {
      const cell = byTechnique.get(id)!;
      const name = id === '' ? '(tactic tag only)' : `${id} ${TECHNIQUES[id]?.[0] ?? ''}`.trim();
      out.push(`| ${name} | ${cellText(cell.defaults)} | ${cellText(cell.stock)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv.includes('--write')) {
  writeFileSync(COVERAGE_DOC, renderCoverage());
  console.log(`wrote ${COVERAGE_DOC}`);
} else if (process.argv.includes('--check')) {
  if (readFileSync(COVERAGE_DOC, 'utf8') !== renderCoverage()) {
    console.error(`${COVERAGE_DOC} is out of date: run npm run docs:coverage`);
    process.exit(1);
  }
}
