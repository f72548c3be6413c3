/**
 * What a trigger is: one real action that an attacker (or a careless operator) performs, the
 * stock Falco rules it must raise, the Lanner default rules that must raise it, and, where the
 * technique has an obvious look-alike, a benign twin that must raise none of them.
 */
import type { TriggerEnv } from './env';

/** How the suite tells this trigger's alerts apart from everything else the agents see. */
export interface Evidence {
  /** Host pid of the process the action started: its alerts carry it as proc.pid or an ancestor's pid. */
  readonly pid?: number;
  /** Several host pids (an action made of separate processes). */
  readonly pids?: readonly number[];
  /** 12-character id of the container the action ran in. */
  readonly containerId?: string;
}

/** Why no default rule is expected for a technique. */
export interface DefaultGap {
  /**
   * noise: the technique matters on a node but cannot be told from normal work by a syscall rule
   * without site knowledge; cost: a rule would make the kernel ship a busy class of events;
   * out-of-scope: not an intrusion technique (a deployment policy, posture or a site baseline).
   */
  readonly kind: 'noise' | 'cost' | 'out-of-scope';
  readonly reason: string;
}

export interface Trigger {
  /** Stable id, also the test name. */
  readonly id: string;
  /** The MITRE ATT&CK technique the action performs. */
  readonly technique: string;
  /** One line: what the action does. */
  readonly what: string;
  /** Stock rules (any of the three files) the action must raise. */
  readonly stock: readonly string[];
  /** Default rules (rules/lanner_rules.yaml) the action must raise; empty only with `gap`. */
  readonly defaults: readonly string[];
  readonly gap?: DefaultGap;
  /**
   * Event types the default rule needs that the probe does not trace yet: the default half of
   * the trigger is skipped (and counted as waiting) until `lanner list-events` lists them as traced.
   */
  readonly waitingFor?: readonly string[];
  /** Likewise for the stock half: event types the stock rules need that the probe does not trace yet. */
  readonly stockWaitingFor?: readonly string[];
  /**
   * A Lanner gap (not an event type) that keeps the stock rules from firing on this action: the
   * stock half is skipped and the rules are reported as not fired with this reason.
   */
  readonly stockBlockedBy?: string;
  readonly act: (env: TriggerEnv) => Promise<Evidence>;
  /** The near-miss: must raise none of `quietRules` (default: every rule named above). */
  readonly benign?: (env: TriggerEnv) => Promise<Evidence>;
  readonly quietRules?: readonly string[];
}

/** A stock rule no action on this machine can raise, and why. */
export interface Untriggerable {
  readonly rule: string;
  readonly reason: string;
}
