/**
 * Rule priorities, as Falco names and orders them. A rule property first: the loader parses them,
 * the engine stamps them on alerts, outputs route and print them.
 */

export const PRIORITY_NAMES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];
/** 0 = Emergency … 7 = Debug; lower is more severe. */
export type PriorityNum = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Parses a priority as Falco accepts it (any case, `info` = Informational); undefined if unknown. */
export function parsePriority(text: string): PriorityNum | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'info') return 6;
  const i = PRIORITY_NAMES.findIndex((n) => n.toLowerCase() === t);
  return i < 0 ? undefined : (i as PriorityNum);
}
