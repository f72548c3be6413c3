/**
 * One-shot posture report (`lanner posture`): a full scan, a kube-bench-compatible JSON document
 * per benchmark, a plain-text rendering and the exit status for pipelines.
 *
 * Like a kube-bench run, one document covers one benchmark: the top-level `Controls`/`Totals` are
 * the primary benchmark's (the first CIS benchmark configured); every other reported benchmark
 * (another CIS version, Lanner's `lanner-node` section) is a document of its own in
 * `other_reports`, so no total ever mixes two benchmarks.
 *
 * kube-bench JSON shape (`--json`), one Controls entry per controls file:
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
import { isCisBenchmark, PARTIAL_BENCHMARKS, type PostureConfig } from './config';
import { GROUP_TEXT } from './controls';
import { PostureEngine } from './evaluator';
import { compareIds, emptyCounts } from './results';
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

/** One benchmark's kube-bench document, named. */
export interface BenchmarkReport extends KubeBenchReport {
  readonly benchmark: Benchmark;
  /** Set when Lanner covers the benchmark only in part. */
  readonly note?: string;
}

/**
 * The report is itself a kube-bench `--json` document (Controls, Totals) for `benchmark`, so it
 * can be fed to kube-bench consumers as is; the extra keys are Lanner's.
 */
export interface PostureReport extends BenchmarkReport {
  readonly generated_at: string;
  /** Every benchmark reported, the primary one first. */
  readonly benchmarks: readonly Benchmark[];
  /** Counts per benchmark (each document's Totals, side by side). */
  readonly totals_by_benchmark: Partial<Record<Benchmark, StatusCounts>>;
  /** The other benchmarks' documents. */
  readonly other_reports: readonly BenchmarkReport[];
}

export interface PostureReportOptions {
  readonly config: PostureConfig;
  /** An engine to scan with (tests inject one with a process filter); a fresh one otherwise. */
  readonly engine?: PostureEngine;
  /** The benchmark of the top-level document (default: the first configured CIS benchmark). */
  readonly primary?: Benchmark;
  readonly now?: () => Date;
}

const CONTROLS: Readonly<Record<ControlsKind, { id: string; text: string }>> = {
  master: { id: '1', text: 'Control Plane Security Configuration' },
  etcd: { id: '2', text: 'Etcd Node Configuration' },
  controlplane: { id: '3', text: 'Control Plane Configuration' },
  node: { id: '4', text: 'Worker Node Security Configuration' },
  lanner: { id: 'L', text: 'Lanner node hardening (not part of the CIS benchmark)' },
};
const KIND_ORDER: readonly ControlsKind[] = ['master', 'etcd', 'controlplane', 'node', 'lanner'];

export const PARTIAL_NOTE = 'partial: only the controls whose id in this benchmark is documented are checked; use cis-1.12 for a complete run';

function totalsOf(counts: StatusCounts): KubeBenchTotals {
  return { total_pass: counts.PASS, total_fail: counts.FAIL, total_warn: counts.WARN, total_info: counts.INFO };
}

/** One benchmark's results as a kube-bench document. */
export function toKubeBench(results: readonly CheckResult[], benchmark: Benchmark): BenchmarkReport {
  const controls: KubeBenchControls[] = [];
  const all = emptyCounts();
  for (const kind of KIND_ORDER) {
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
  return { benchmark, Controls: controls, Totals: totalsOf(all), ...(PARTIAL_BENCHMARKS.has(benchmark) ? { note: PARTIAL_NOTE } : {}) };
}

/** Scans the node once and builds the report. */
export function runPostureReport(opts: PostureReportOptions): PostureReport {
  const engine = opts.engine ?? new PostureEngine(opts.config);
  engine.scanAll();
  const reported = engine.reportedBenchmarks();
  const primary = opts.primary !== undefined && reported.includes(opts.primary) ? opts.primary : (reported.find(isCisBenchmark) ?? reported[0]!);
  const order = [primary, ...reported.filter((b) => b !== primary)];
  const results = engine.allResults();
  const [main, ...others] = order.map((b) => toKubeBench(results, b));
  return {
    ...main!,
    generated_at: (opts.now ?? (() => new Date()))().toISOString(),
    benchmarks: order,
    totals_by_benchmark: engine.summary(),
    other_reports: others,
  };
}

/**
 * The process exit status for pipelines (`--exit-code N`, as kube-bench's): `failCode` when any
 * reported benchmark has a FAIL, else 0. WARN (unscored and manual checks) never fails a run.
 */
export function postureExitCode(report: PostureReport, failCode: number): number {
  return [report, ...report.other_reports].some((r) => r.Totals.total_fail > 0) ? failCode : 0;
}

/** Plain text, one line per check, failures with their remediation; one block per benchmark. */
export function renderPostureText(report: PostureReport): string {
  const lines: string[] = [];
  for (const doc of [report, ...report.other_reports]) {
    if (doc.note !== undefined) lines.push(`[${doc.benchmark}] note: ${doc.note}`);
    for (const c of doc.Controls) {
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
  }
  const all = [report, ...report.other_reports];
  if (all.every((d) => d.Controls.length === 0)) lines.push('No Kubernetes components or configuration files found on this node.');
  for (const d of all) {
    const t = d.Totals;
    lines.push(`== Summary ${d.benchmark}: ${t.total_pass} pass, ${t.total_fail} fail, ${t.total_warn} warn, ${t.total_info} info ==`);
  }
  return lines.join('\n') + '\n';
}
