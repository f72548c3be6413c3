/**
 * The one place that decides, from a compiled ruleset, what the kernel must capture for it: which
 * event types, which open paths, and the data the probe copies only on demand (exec environments,
 * the caller's side of forks). Everything a rule can match still ships; everything none can
 * match may be dropped in the kernel.
 */
import { EVENT_FAMILIES, EVENT_TYPES } from '../probe/event-types';
import type { KernelCapture } from '../probe/kernel-capture';
import type { OpenPathPrefix } from '../probe/probe';
import { rulesetMatchesType, rulesetReadsField } from './field-use';
import { aliasPathsFor, changeFilterFor, openFilterFor } from './open-filter';
import type { CompiledRuleset } from './ruleset';

/** Fields that read a process's environment (captured at exec). */
const ENV_FIELDS: ReadonlySet<string> = new Set(['proc.env', 'proc.aenv']);

/** What parts other than the rules need from the kernel (the state tables, posture). */
export interface OtherKernelNeeds {
  /** Event types needed whether or not a rule names them. */
  readonly eventTypes: Iterable<string>;
  /**
   * Path prefixes whose write-opens and path changes must ship (posture's watched files). Of the
   * path-changing types in eventTypes, these paths are all the other parts need.
   */
  readonly openPaths?: readonly OpenPathPrefix[];
}

/** The rule event types: every type with at least one enabled rule indexed under it. */
export function ruleEventTypes(ruleset: CompiledRuleset): Set<string> {
  const out = new Set<string>();
  ruleset.byType.forEach((rules, id) => {
    if (rules.length > 0) out.add(EVENT_TYPES[id]!.name);
  });
  return out;
}

export function kernelCaptureFor(ruleset: CompiledRuleset, others: OtherKernelNeeds): KernelCapture {
  const open = openFilterFor(ruleset, others.openPaths ?? []);
  const change = changeFilterFor(ruleset, others.openPaths ?? [], others.eventTypes);
  return {
    eventTypes: new Set([...ruleEventTypes(ruleset), ...others.eventTypes]),
    openFilter: open.filter,
    ...(open.unboundedBy !== undefined ? { openFilterOffBecause: `rule '${open.unboundedBy}' can match any open` } : {}),
    changeFilter: change.filter,
    changeFilterByType: change.byType,
    execEnvironment: rulesetReadsField(ruleset, ENV_FIELDS),
    cloneCallerSide: rulesetMatchesType(ruleset, EVENT_FAMILIES.fork),
    aliasPaths: aliasPathsFor(ruleset),
  };
}
