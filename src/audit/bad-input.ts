/**
 * Bad audit input (malformed lines, oversized events, other API versions, …): counted by kind and
 * logged the first time a kind is seen, then at most once per kind per interval with how many were
 * left unlogged, so a flood of garbage costs a counter increment per item and never stops a source.
 */
import type { Logger } from '../log';
import { BAD_INPUT_KINDS, type BadInputKind } from './event';

/** Where bad input came from (a log label). */
export type InputName = 'file' | 'webhook';

interface KindLog {
  nextAtMs: number;
  unlogged: number;
}

export class BadInputCounter {
  private readonly counts = new Map<BadInputKind, number>();
  private readonly logs = new Map<BadInputKind, KindLog>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  note(kind: BadInputKind, input: InputName, detail: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const now = this.now();
    const l = this.logs.get(kind);
    if (l !== undefined && now < l.nextAtMs) {
      l.unlogged++;
      return;
    }
    const unlogged = l?.unlogged ?? 0;
    this.logs.set(kind, { nextAtMs: now + this.intervalMs, unlogged: 0 });
    this.log.warn({ kind, input, detail: detail.slice(0, 300), total: this.counts.get(kind), unloggedSinceLast: unlogged }, 'k8s audit: bad input skipped');
  }

  /** Counts by kind, every kind present (zeros included). */
  byKind(): Record<BadInputKind, number> {
    const out = {} as Record<BadInputKind, number>;
    for (const k of BAD_INPUT_KINDS) out[k] = this.counts.get(k) ?? 0;
    return out;
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
