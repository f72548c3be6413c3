/**
 * What the kernel is asked to capture, as one value: the event types, the open path filter, and
 * the data the probe copies only on demand. The rules part computes it from the loaded ruleset
 * (src/rules/kernel-needs.ts, Falco's "enabled syscall codes" idea taken further); the agent
 * applies it to the probe after every rules load, so the kernel never hides what the running
 * rules look for and never copies what none of them reads.
 */
import type { ChangeFilterSpec, KernelEventSource, OpenFilterSpec } from './probe';
import type { AliasPath } from './alias-targets';
import { EVENT_FAMILIES } from './event-types';

const OPEN_TYPES: readonly string[] = EVENT_FAMILIES.open;

export interface KernelCapture {
  /** Event type names to ship (rule types plus what state and posture need). */
  readonly eventTypes: ReadonlySet<string>;
  /** Which opens ship; null when some rule can match any open (every open ships). */
  readonly openFilter: OpenFilterSpec | null;
  /** Why the open filter is off, when it is (the rule that keeps it open). */
  readonly openFilterOffBecause?: string;
  /** Which path changes ship, for the types it names; null when none is filtered. */
  readonly changeFilter: ChangeFilterSpec | null;
  /** Per path-changing type a rule or another part needs: filtered, or the rule that keeps it open. */
  readonly changeFilterByType: Readonly<Record<string, PathFilterState>>;
  /** Successful execs carry their environment (a rule reads proc.env). */
  readonly execEnvironment: boolean;
  /** Forks ship from the caller's side too (a rule matches a fork-family type). */
  readonly cloneCallerSide: boolean;
  /** Paths the rules name, resolved by inode in the kernel so another name for them is seen (empty: off). */
  readonly aliasPaths: readonly AliasPath[];
}

export type PathFilterState = { readonly filtered: true } | { readonly filtered: false; readonly unboundedBy: string };

/** What the probe ended up doing, for the log and metrics. */
export interface AppliedKernelCapture {
  readonly eventTypes: number;
  /** The open filter's size, or why it is off. */
  readonly openFilter: { readonly prefixes: number; readonly suffixes: number; readonly comms: number } | string;
  /** The change filter's types and size, or why it is off. */
  readonly changeFilter: { readonly types: readonly string[]; readonly prefixes: number; readonly suffixes: number; readonly comms: number; readonly modeMask: string } | string;
  /** Per event type a path filter can judge and something needs: filtered in the kernel, or what keeps it open. */
  readonly pathFilterByType: Readonly<Record<string, PathFilterState>>;
  readonly execEnvironment: boolean;
  readonly cloneCallerSide: boolean;
  /** Alias targets the kernel holds, and paths that did not fit its table. */
  readonly aliasTargets: { readonly targets: number; readonly overflow: number };
}

/**
 * Applies a capture to the probe. A filter the kernel cannot hold (too many or too long prefixes
 * or names) turns the open filter off rather than guessing: the filter is an optimisation, never
 * a blind spot.
 */
export function applyKernelCapture(probe: KernelEventSource, capture: KernelCapture): AppliedKernelCapture {
  probe.setInterestingTypes(capture.eventTypes);
  let openFilter: AppliedKernelCapture['openFilter'];
  if (capture.openFilter === null) {
    probe.setOpenFilter(null);
    openFilter = `off: ${capture.openFilterOffBecause ?? 'a rule can match any open'}`;
  } else {
    try {
      probe.setOpenFilter(capture.openFilter);
      openFilter = { prefixes: capture.openFilter.prefixes.length, suffixes: capture.openFilter.suffixes?.length ?? 0, comms: capture.openFilter.comms?.length ?? 0 };
    } catch (err) {
      probe.setOpenFilter(null);
      openFilter = `off: ${(err as Error).message}`;
    }
  }
  let changeFilter: AppliedKernelCapture['changeFilter'];
  if (capture.changeFilter === null) {
    probe.setChangeFilter(null);
    changeFilter = 'off: no path-changing type can be narrowed';
  } else {
    try {
      probe.setChangeFilter(capture.changeFilter);
      const f = capture.changeFilter;
      changeFilter = { types: f.types, prefixes: f.prefixes.length, suffixes: f.suffixes?.length ?? 0, comms: f.comms?.length ?? 0, modeMask: `0${(f.modeMask ?? 0).toString(8)}` };
    } catch (err) {
      probe.setChangeFilter(null);
      changeFilter = `off: ${(err as Error).message}`;
    }
  }
  const pathFilterByType: Record<string, PathFilterState> = {};
  for (const t of OPEN_TYPES) {
    if (!capture.eventTypes.has(t)) continue;
    pathFilterByType[t] = typeof openFilter === 'string' ? { filtered: false, unboundedBy: openFilter.replace(/^off: /, '') } : { filtered: true };
  }
  for (const [t, state] of Object.entries(capture.changeFilterByType)) {
    pathFilterByType[t] = typeof changeFilter === 'string' && state.filtered ? { filtered: false, unboundedBy: changeFilter.replace(/^off: /, '') } : state;
  }
  probe.setExecEnvCapture(capture.execEnvironment);
  probe.setCloneCallerEvents(capture.cloneCallerSide);
  const aliasTargets = probe.setAliasTargets(capture.aliasPaths);
  return { eventTypes: capture.eventTypes.size, openFilter, changeFilter, pathFilterByType, execEnvironment: capture.execEnvironment, cloneCallerSide: capture.cloneCallerSide, aliasTargets };
}
