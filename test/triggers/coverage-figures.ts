/**
 * The two figures the trigger suite reports: how many stock rules fired (out of all rules in the
 * three files), and how many node-relevant techniques some default rule detected.
 */
import type { Trigger, Untriggerable } from './trigger';

export interface TriggerOutcome {
  readonly id: string;
  /** Stock rules seen firing for this trigger's action. */
  readonly stockFired: readonly string[];
  /** Default rules expected and seen; undefined when the default half did not run (gap or waiting). */
  readonly defaultsFired?: readonly string[];
  readonly failures: readonly string[];
}

/** Triggers whose technique a default rule must detect: all but the out-of-scope ones. */
export function nodeRelevant(triggers: readonly Trigger[]): Trigger[] {
  return triggers.filter((t) => t.gap?.kind !== 'out-of-scope');
}

export function stockLine(allStockRules: readonly string[], fired: ReadonlySet<string>, untriggerable: readonly Untriggerable[], waiting: ReadonlyMap<string, string> = new Map()): string {
  const lines = [`${[...fired].filter((r) => allStockRules.includes(r)).length}/${allStockRules.length} stock rules fired`];
  const missing = allStockRules.filter((r) => !fired.has(r));
  for (const r of missing) {
    const u = untriggerable.find((x) => x.rule === r);
    const w = waiting.get(r);
    lines.push(`  not fired: ${r}${u ? ` (untriggerable here: ${u.reason})` : w ? ` (${w})` : ''}`);
  }
  return lines.join('\n');
}

export function defaultsLine(triggers: readonly Trigger[], detected: ReadonlySet<string>, waiting: ReadonlySet<string>): string {
  const relevant = nodeRelevant(triggers);
  const hit = relevant.filter((t) => detected.has(t.id)).length;
  const pct = relevant.length === 0 ? 0 : Math.floor((hit / relevant.length) * 1000) / 10;
  const lines = [`${hit}/${relevant.length} node-relevant techniques detected by the default rules (${pct}%)`];
  for (const t of triggers) {
    if (t.gap) lines.push(`  ${t.gap.kind}: ${t.id} (${t.technique}): ${t.gap.reason}`);
    else if (waiting.has(t.id)) lines.push(`  waiting for event types ${t.waitingFor!.join(', ')}: ${t.id} (${t.technique})`);
    else if (!detected.has(t.id)) lines.push(`  missed: ${t.id} (${t.technique})`);
  }
  return lines.join('\n');
}
