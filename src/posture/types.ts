/**
 * Shapes of posture results. A check definition may carry ids in several benchmarks; every
 * evaluation yields one result per (benchmark, id) so ids that moved between benchmark versions
 * never collide.
 */
import type { Benchmark } from './config';

export type { Benchmark };

export type CheckStatus = 'PASS' | 'FAIL' | 'WARN' | 'INFO';
export const CHECK_STATUSES: readonly CheckStatus[] = ['PASS', 'FAIL', 'WARN', 'INFO'];

/** The components whose command line the checks audit. */
export type Component = 'kube-apiserver' | 'etcd' | 'kubelet' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy';

/**
 * Which kube-bench controls file (and JSON `node_type`) a check belongs to; `lanner` is Lanner's
 * own node section (not CIS).
 */
export type ControlsKind = 'master' | 'etcd' | 'controlplane' | 'node' | 'lanner';

export interface CheckResult {
  readonly benchmark: Benchmark;
  readonly id: string;
  readonly text: string;
  readonly scored: boolean;
  readonly status: CheckStatus;
  /** What was found: flag value(s), file mode and owner, provider list. */
  readonly actual: string;
  /** What the check wants, in words. */
  readonly expected: string;
  readonly remediation: string;
  /** Extra context, e.g. why a passing aesgcm setup still deserves attention. */
  readonly note?: string;
  /** Which process or file was audited. */
  readonly subject: string;
  readonly kind: ControlsKind;
  /** Group id such as `1.2` (API server). */
  readonly group: string;
  /** When the result was last computed (ms since the epoch). */
  readonly evaluatedAtMs: number;
}

export interface StatusChange {
  readonly benchmark: Benchmark;
  readonly id: string;
  readonly text: string;
  /** null on the first result for this (benchmark, id). */
  readonly from: CheckStatus | null;
  readonly to: CheckStatus;
  readonly actual: string;
  readonly expected: string;
  readonly remediation: string;
  readonly scored: boolean;
  readonly subject: string;
}

export interface ProcessInput {
  readonly pid?: number;
  readonly exePath: string;
  readonly comm: string;
  readonly argv: readonly string[];
  /** `K=V` entries; read from /proc/<pid>/environ when omitted and a pid is given. */
  readonly env?: readonly string[];
}

export type StatusCounts = Record<CheckStatus, number>;
export type PostureSummary = Partial<Record<Benchmark, StatusCounts>>;
