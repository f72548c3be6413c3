/**
 * Turning posture status transitions into alerts, so they travel through the same sinks as rule
 * alerts. Only transitions worth a human's attention become alerts: a first result that is
 * already compliant (or merely informational) is not news.
 */
import type { Alert, PriorityNum } from '../outputs/alert';
import { isCisBenchmark } from './config';
import type { StatusChange } from './types';

/** True when the change deserves an alert: anything non-PASS, and recoveries from FAIL/WARN. */
export function isAlertworthy(change: StatusChange): boolean {
  if (change.from === null) return change.to === 'FAIL' || change.to === 'WARN';
  if (change.to === 'INFO') return false;
  return true;
}

/** Scored failures are Critical, unscored failures and manual checks Warning, recoveries Notice. */
export function postureAlertPriority(change: StatusChange): PriorityNum {
  if (change.to === 'FAIL') return change.scored ? 2 : 4;
  if (change.to === 'WARN') return 4;
  if (change.to === 'PASS') return 5;
  return 6;
}

export function postureRuleName(change: StatusChange): string {
  return `Lanner posture: ${change.text}`;
}

export function statusChangeToAlert(change: StatusChange, opts: { hostname: string; timeNs: bigint }): Alert {
  const was = change.from === null ? 'first check' : `was ${change.from}`;
  const message =
    `${postureRuleName(change)} is ${change.to} (${was}) (benchmark=${change.benchmark} id=${change.id} scored=${change.scored} ` +
    `subject=${change.subject} actual=${change.actual} expected=${change.expected} remediation=${change.remediation})`;
  return {
    timeNs: opts.timeNs,
    rule: postureRuleName(change),
    priority: postureAlertPriority(change),
    source: 'internal',
    message,
    outputFields: {
      'posture.benchmark': change.benchmark,
      'posture.id': change.id,
      'posture.status': change.to,
      'posture.previous_status': change.from,
      'posture.scored': change.scored,
      'posture.subject': change.subject,
      'posture.actual': change.actual,
      'posture.expected': change.expected,
      'posture.remediation': change.remediation,
    },
    // Lanner's node section is not CIS: it is not tagged as such.
    tags: [...(isCisBenchmark(change.benchmark) ? ['cis'] : []), 'compliance', 'kubernetes', 'posture', change.benchmark].sort(),
    hostname: opts.hostname,
  };
}
