/**
 * Turning counters that other parts own into Prometheus counters that never go down. The owners
 * keep plain running totals; at scrape time we add what grew since the previous scrape.
 */
import type { Counter } from 'prom-client';
import type { RuleMatchTable } from './sources';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** Feeds owner-kept totals into a prom-client counter, one remembered value per label set. */
export class TotalsFeed<L extends string> {
  private readonly last = new Map<string, number>();

  constructor(private readonly counter: Counter<L>) {}

  /**
   * `total` below the previous value means the owner started over (a restarted source, a rebuilt
   * table), so everything it now holds is new. Increments of 0 still create the series, so a
   * rate() over it exists before the first non-zero value.
   */
  feed(key: string, labels: Labels<L>, total: number): void {
    if (!Number.isFinite(total) || total < 0) return;
    const previous = this.last.get(key) ?? 0;
    const delta = total >= previous ? total - previous : total;
    this.last.set(key, total);
    this.counter.inc(labels, delta);
  }
}

/** Finds each rule's label set once per table, not once per scrape. */
function ruleLabels(table: RuleMatchTable, priorityName: (p: number) => string): Labels<'rule' | 'priority' | 'source'>[] {
  return table.rules.map((r) => ({ rule: r.name, priority: priorityName(r.priority), source: r.source }));
}

/**
 * Exports per-rule match counts across rule reloads. The engine replaces its table on reload; we
 * hold the previous table until the next scrape and drain what it counted after our last read,
 * so no match is lost or counted twice and `lanner_rule_matches_total` never decreases. A rule
 * that disappears keeps its last value (it stops growing); one that comes back continues from it.
 */
export class RuleMatchFeed {
  private table: RuleMatchTable | undefined;
  private seen = new Float64Array(0);
  private labels: Labels<'rule' | 'priority' | 'source'>[] = [];

  constructor(
    private readonly counter: Counter<'rule' | 'priority' | 'source'>,
    private readonly priorityName: (p: number) => string,
  ) {}

  feed(current: RuleMatchTable): void {
    if (this.table !== undefined && this.table !== current) this.drain();
    if (this.table !== current) {
      this.table = current;
      this.seen = new Float64Array(current.rules.length);
      this.labels = ruleLabels(current, this.priorityName);
    }
    this.drain();
  }

  private drain(): void {
    const table = this.table;
    if (table === undefined) return;
    const counts = table.counts;
    const n = Math.min(counts.length, this.seen.length);
    for (let i = 0; i < n; i++) {
      const now = counts[i]!;
      const delta = now - this.seen[i]!;
      // A table only grows; a smaller value would be an engine bug, and exporting it would break monotonicity.
      this.counter.inc(this.labels[i]!, delta > 0 ? delta : 0);
      if (delta > 0) this.seen[i] = now;
    }
  }
}
