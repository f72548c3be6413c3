/**
 * One-shot posture report (`lanner posture`): a full scan, totals, a kube-bench-compatible JSON
 * document and a plain-text rendering.
 *
 * kube-bench JSON shape (`--json`), one Controls entry per (benchmark, controls file):
 *
 *   { "Controls": [ { "id": "1"|"2"|"4", "version": "cis-1.12", "detected_version": "",
 *                     "text", "node_type": "master"|"etcd"|"node",
 *                     "tests": [ { "section": "1.2", "type": "", "pass", "fail", "warn", "info", "desc",
 *                                  "results": [ { "test_number", "test_desc", "audit", "AuditEnv",
 *                                                 "AuditConfig", "type", "remediation", "test_info": [..],
 *                                                 "status", "actual_value", "scored", "IsMultiple",
 *                                                 "expected_result", "reason"? } ] } ],
 *                     "total_pass", "total_fail", "total_warn", "total_info" } ],
 *     "Totals": { "total_pass", "total_fail", "total_warn", "total_info" } }
 *
 * `audit` holds what Lanner audited (process or file), `reason` carries Lanner's note (e.g. aesgcm).
 */
import type { PostureConfig } from './config';
import { GROUP_TEXT } from './controls';
import { compareIds, emptyCounts, PostureEngine } from './engine';
import type { Benchmark, CheckResult, CheckStatus, ControlsKind, StatusCounts } from './types';

export interface KubeBenchResult {
  test_number: string;
  test_desc: string;
  audit: string;
  AuditEnv: string;
  AuditConfig: string;
  type: string;
  remediation: string;
  test_info: string[];
  status: CheckStatus;
  actual_value: string;
  scored: boolean;
  IsMultiple: boolean;
  expected_result: string;
  reason?: string;
}

export interface KubeBenchTotals {
  total_pass: number;
  total_fail: number;
  total_warn: number;
  total_info: number;
}

export interface KubeBenchSection {
  section: string;
  type: string;
  pass: number;
  fail: number;
  warn: number;
  info: number;
  desc: string;
  results: KubeBenchResult[];
}

export interface KubeBenchControls extends KubeBenchTotals {
  id: string;
  version: string;
  detected_version: string;
  text: string;
  node_type: ControlsKind;
  tests: KubeBenchSection[];
}

export interface KubeBenchReport {
  Controls: KubeBenchControls[];
  Totals: KubeBenchTotals;
}

/**
 * The report is itself a kube-bench `--json` document (Controls, Totals), so it can be printed as
 * is; the extra keys are Lanner's and ignored by kube-bench consumers.
 */
export interface PostureReport extends KubeBenchReport {
  readonly generated_at: string;
  readonly benchmarks: readonly Benchmark[];
  /** Counts per benchmark (Totals sums over all of them). */
  readonly totals_by_benchmark: Partial<Record<Benchmark, StatusCounts>>;
}

export interface PostureReportOptions {
  readonly config: PostureConfig;
  /** An engine to scan with (tests inject one with a process filter); a fresh one otherwise. */
  readonly engine?: PostureEngine;
  readonly now?: () => Date;
}

const CONTROLS: Readonly<Record<ControlsKind, { id: string; text: string }>> = {
  master: { id: '1', text: 'Control Plane Security Configuration' },
  etcd: { id: '2', text: 'Etcd Node Configuration' },
  node: { id: '4', text: 'Worker Node Security Configuration' },
};

function totalsOf(counts: StatusCounts): KubeBenchTotals {
  return { total_pass: counts.PASS, total_fail: counts.FAIL, total_warn: counts.WARN, total_info: counts.INFO };
}

export function toKubeBench(results: readonly CheckResult[], benchmarks: readonly Benchmark[]): KubeBenchReport {
  const controls: KubeBenchControls[] = [];
  const all = emptyCounts();
  for (const benchmark of benchmarks) {
    for (const kind of ['master', 'etcd', 'node'] as const) {
      const mine = results.filter((r) => r.benchmark === benchmark && r.kind === kind).sort((a, b) => compareIds(a.id, b.id));
      if (mine.length === 0) continue;
      const counts = emptyCounts();
      const sections = new Map<string, KubeBenchSection>();
      for (const r of mine) {
        counts[r.status]++;
        all[r.status]++;
        let s = sections.get(r.group);
        if (!s) {
          s = { section: r.group, type: '', pass: 0, fail: 0, warn: 0, info: 0, desc: GROUP_TEXT[r.group] ?? r.group, results: [] };
          sections.set(r.group, s);
        }
        s[r.status.toLowerCase() as 'pass' | 'fail' | 'warn' | 'info']++;
        s.results.push({
          test_number: r.id,
          test_desc: r.text,
          audit: r.subject,
          AuditEnv: '',
          AuditConfig: '',
          type: '',
          remediation: r.remediation,
          test_info: [r.remediation],
          status: r.status,
          actual_value: r.actual,
          scored: r.scored,
          IsMultiple: false,
          expected_result: r.expected,
          ...(r.note !== undefined ? { reason: r.note } : {}),
        });
      }
      controls.push({
        id: CONTROLS[kind].id,
        version: benchmark,
        detected_version: '',
        text: CONTROLS[kind].text,
        node_type: kind,
        tests: [...sections.values()].sort((a, b) => compareIds(a.section, b.section)),
        ...totalsOf(counts),
      });
    }
  }
  return { Controls: controls, Totals: totalsOf(all) };
}

/** Scans the node once and builds the report. */
export function runPostureReport(opts: PostureReportOptions): PostureReport {
  const engine = opts.engine ?? new PostureEngine(opts.config);
  engine.scanAll();
  const kubeBench = toKubeBench(engine.allResults(), opts.config.benchmarks);
  return {
    ...kubeBench,
    generated_at: (opts.now ?? (() => new Date()))().toISOString(),
    benchmarks: opts.config.benchmarks,
    totals_by_benchmark: engine.summary(),
  };
}

/** Plain text, one line per check, failures with their remediation. */
export function renderPostureText(report: PostureReport): string {
  const lines: string[] = [];
  for (const c of report.Controls) {
    lines.push(`[${c.version}] ${c.id} ${c.text}`);
    for (const s of c.tests) {
      lines.push(`  ${s.section} ${s.desc}`);
      for (const r of s.results) {
        lines.push(`    [${r.status}] ${r.test_number} ${r.test_desc}${r.scored ? '' : ' (not scored)'}`);
        if (r.status !== 'PASS' || r.reason) lines.push(`           found: ${r.actual_value}`);
        if (r.reason) lines.push(`           note: ${r.reason}`);
        if (r.status === 'FAIL' || r.status === 'WARN') lines.push(`           fix: ${r.remediation}`);
      }
    }
    lines.push(`  ${c.total_pass} pass, ${c.total_fail} fail, ${c.total_warn} warn, ${c.total_info} info`);
    lines.push('');
  }
  if (report.Controls.length === 0) lines.push('No Kubernetes components or configuration files found on this node.');
  const t = report.Totals;
  lines.push(`== Summary: ${t.total_pass} pass, ${t.total_fail} fail, ${t.total_warn} warn, ${t.total_info} info ==`);
  return lines.join('\n') + '\n';
}
