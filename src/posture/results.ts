/**
 * The latest result per (benchmark, id) and the status transitions between them. One check
 * definition may carry ids in several benchmarks; recording it writes one result per benchmark
 * reported.
 */
import { LANNER_NODE } from './config';
import type { NodeCheck } from './node';
import { statusOf } from './audit';
import { CHECK_STATUSES, type Benchmark, type CheckResult, type CheckStatus, type PostureSummary, type StatusChange } from './types';

type Listener = (change: StatusChange) => void;
export type ResultBody = Omit<CheckResult, 'benchmark' | 'id' | 'evaluatedAtMs' | 'group'>;

const resultKey = (benchmark: Benchmark, id: string): string => `${benchmark} ${id}`;

/** The group is the id's parent (1.2.16 → 1.2, L.4.1 → L.4): ids move between benchmarks, so does the group. */
export function groupOf(id: string): string {
  const i = id.lastIndexOf('.');
  return i < 0 ? id : id.slice(0, i);
}

/** Orders `1.2.10` after `1.2.9`, and Lanner's `L.` ids after numeric ones. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = Number(x);
    const ny = Number(y);
    const d = Number.isNaN(nx) || Number.isNaN(ny) ? (Number.isNaN(nx) === Number.isNaN(ny) ? (x < y ? -1 : x > y ? 1 : 0) : Number.isNaN(nx) ? 1 : -1) : nx - ny;
    if (d !== 0) return d;
  }
  return 0;
}

export function emptyCounts(): Record<CheckStatus, number> {
  return Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0])) as Record<CheckStatus, number>;
}

export class PostureResults {
  private readonly results = new Map<string, CheckResult>();
  private readonly listeners = new Set<Listener>();

  constructor(
    readonly benchmarks: readonly Benchmark[],
    private readonly now: () => number,
  ) {}

  onStatusChange(cb: Listener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  all(): CheckResult[] {
    return [...this.results.values()].sort((a, b) => (a.benchmark === b.benchmark ? compareIds(a.id, b.id) : a.benchmark < b.benchmark ? -1 : 1));
  }

  get(benchmark: Benchmark, id: string): CheckResult | undefined {
    return this.results.get(resultKey(benchmark, id));
  }

  summary(): PostureSummary {
    const out: PostureSummary = {};
    for (const b of this.benchmarks) out[b] = emptyCounts();
    for (const r of this.results.values()) {
      const counts = out[r.benchmark];
      if (counts) counts[r.status]++;
    }
    return out;
  }

  record(ids: Partial<Record<Benchmark, string>>, body: ResultBody): CheckResult[] {
    const out: CheckResult[] = [];
    for (const b of this.benchmarks) {
      const id = ids[b];
      if (id === undefined) continue;
      const kind = b === LANNER_NODE ? 'lanner' : body.kind;
      const next: CheckResult = { benchmark: b, id, ...body, kind, group: groupOf(id), evaluatedAtMs: this.now() };
      this.store(this.results.get(resultKey(b, id)), next);
      out.push(next);
    }
    return out;
  }

  /** Moves existing results to INFO (the audited thing disappeared); never creates new ones. */
  forget(ids: Partial<Record<Benchmark, string>>, actual: string): CheckResult[] {
    const out: CheckResult[] = [];
    for (const b of this.benchmarks) {
      const id = ids[b];
      if (id === undefined) continue;
      const prev = this.results.get(resultKey(b, id));
      if (!prev || prev.status === 'INFO') continue;
      const next: CheckResult = { ...prev, status: 'INFO', actual, evaluatedAtMs: this.now() };
      this.store(prev, next);
      out.push(next);
    }
    return out;
  }

  recordNode(check: NodeCheck, passed: boolean, actual: string, subject: string, extra: { note?: string } = {}): CheckResult[] {
    return this.record(
      { [LANNER_NODE]: check.id },
      { text: check.text, scored: check.scored, status: statusOf(passed, check.scored, false), actual, expected: check.expected, remediation: check.remediation, subject, kind: 'lanner', ...extra },
    );
  }

  forgetNode(checks: readonly NodeCheck[], actual: string): CheckResult[] {
    return checks.flatMap((c) => this.forget({ [LANNER_NODE]: c.id }, actual));
  }

  private store(prev: CheckResult | undefined, next: CheckResult): void {
    this.results.set(resultKey(next.benchmark, next.id), next);
    if (prev && prev.status === next.status) return;
    const change: StatusChange = {
      benchmark: next.benchmark,
      id: next.id,
      text: next.text,
      from: prev ? prev.status : null,
      to: next.status,
      actual: next.actual,
      expected: next.expected,
      remediation: next.remediation,
      scored: next.scored,
      subject: next.subject,
    };
    for (const l of this.listeners) l(change);
  }
}
