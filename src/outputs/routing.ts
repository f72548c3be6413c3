/**
 * Per-sink routing: which alerts a sink takes. Compiled once from the sink's section into sets, so
 * the per-alert decision is a priority compare and a few set lookups, made once per alert per sink
 * at fan-out (never per event).
 */
import { parsePriority, type Alert, type PriorityNum } from './alert';

/** A sink section's routing keys, as the `outputs.<sink>` schema validates them. */
export interface RoutingConfig {
  readonly min_priority: string;
  readonly include: AlertSelectorConfig;
  readonly exclude: AlertSelectorConfig;
}

export interface AlertSelectorConfig {
  readonly rules: readonly string[];
  readonly tags: readonly string[];
  readonly sources: readonly string[];
}

/** Empty lists select nothing in `exclude` and everything in `include`; `null` stands for that. */
interface CompiledSelector {
  readonly rules: ReadonlySet<string> | null;
  readonly tags: ReadonlySet<string> | null;
  readonly sources: ReadonlySet<string> | null;
}

const setOrNull = (names: readonly string[]): ReadonlySet<string> | null => (names.length === 0 ? null : new Set(names));

function compileSelector(s: AlertSelectorConfig): CompiledSelector {
  return { rules: setOrNull(s.rules), tags: setOrNull(s.tags), sources: setOrNull(s.sources) };
}

function anyTagIn(tags: readonly string[], set: ReadonlySet<string>): boolean {
  for (let i = 0; i < tags.length; i++) if (set.has(tags[i]!)) return true;
  return false;
}

export class SinkRoute {
  /** Every alert: what a sink without routing keys (tests, extra sinks) gets. */
  static readonly ALL = new SinkRoute({ min_priority: 'debug', include: { rules: [], tags: [], sources: [] }, exclude: { rules: [], tags: [], sources: [] } });

  readonly minPriority: PriorityNum;
  private readonly include: CompiledSelector;
  private readonly exclude: CompiledSelector;
  /** True when only the priority decides (no include or exclude list). */
  private readonly priorityOnly: boolean;

  constructor(config: RoutingConfig) {
    this.minPriority = parsePriority(config.min_priority) ?? 7;
    this.include = compileSelector(config.include);
    this.exclude = compileSelector(config.exclude);
    const i = this.include;
    const e = this.exclude;
    this.priorityOnly = !i.rules && !i.tags && !i.sources && !e.rules && !e.tags && !e.sources;
  }

  /**
   * At least `min_priority` (priority numbers grow toward debug); every non-empty include list
   * matched (the rule name is listed, any of its tags is listed, its source is listed); no exclude
   * list matched. Exclusion wins over inclusion.
   */
  accepts(alert: Alert): boolean {
    if (alert.priority > this.minPriority) return false;
    if (this.priorityOnly) return true;
    const i = this.include;
    if (i.rules && !i.rules.has(alert.rule)) return false;
    if (i.sources && !i.sources.has(alert.source)) return false;
    if (i.tags && !anyTagIn(alert.tags, i.tags)) return false;
    const e = this.exclude;
    if (e.rules?.has(alert.rule)) return false;
    if (e.sources?.has(alert.source)) return false;
    if (e.tags && anyTagIn(alert.tags, e.tags)) return false;
    return true;
  }
}
