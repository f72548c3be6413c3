/**
 * SIGHUP re-reads the configuration file too. What can change while the agent runs is applied:
 * the outputs (sinks added, removed or reconfigured, their routing, rate limits, dedup, format),
 * `priority` and `append_output` (with the rules reload that follows), redaction and static
 * fields. Every other changed key keeps its running value and is named in one log line
 * as needing a restart. A configuration that does not load (bad YAML, an unknown key, a wrong
 * value) or whose outputs cannot start is refused whole, and the running configuration stays.
 */
import type { LannerConfig } from '../config';
import type { Logger } from '../log';
import type { OutputsReload } from '../outputs';
import type { OutputsConfig } from '../outputs/config';
import type { Pipeline } from './pipeline';
import { alertShapingOf, rulesetOptionsOf } from './settings';

/** Keys applied live; a key is live when it or one of its parents is listed. */
export const LIVE_CONFIG_KEYS: readonly string[] = ['outputs', 'priority', 'append_output', 'static_fields', 'redaction'];

const isLive = (path: string): boolean => LIVE_CONFIG_KEYS.some((k) => path === k || path.startsWith(`${k}.`));

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted paths of the leaves (scalars, arrays) that differ between two configurations. */
export function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) out.push(...changedKeys(before[k], after[k], prefix ? `${prefix}.${k}` : k));
    return out;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

function getPath(source: unknown, path: readonly string[]): unknown {
  let node = source;
  for (const k of path) node = isPlainObject(node) ? node[k] : undefined;
  return node;
}

export interface ReloadPlan {
  /** The configuration to run with: the new one, with the restart-only keys at their running values. */
  readonly effective: LannerConfig;
  /** Changed keys applied now. */
  readonly live: readonly string[];
  /** Changed keys that keep their running value until a restart. */
  readonly restartOnly: readonly string[];
}

export function planReload(running: LannerConfig, next: LannerConfig): ReloadPlan {
  const changed = changedKeys(running, next);
  const live = changed.filter(isLive);
  const restartOnly = changed.filter((k) => !isLive(k));
  const effective = structuredClone(next) as unknown as Record<string, unknown>;
  for (const key of restartOnly) {
    const path = key.split('.');
    const value = getPath(running, path);
    // A section that appeared or went away whole (a key only one side has) is a leaf here too.
    if (value === undefined) {
      const parent = getPath(effective, path.slice(0, -1));
      if (isPlainObject(parent)) delete parent[path[path.length - 1]!];
    } else setPath(effective, path, structuredClone(value));
  }
  return { effective: effective as unknown as LannerConfig, live, restartOnly };
}

export interface ConfigReloadOutcome {
  readonly applied: boolean;
  readonly config: LannerConfig;
}

/**
 * Re-reads the configuration (`load` throws a ConfigError for a file that does not validate) and
 * applies what can change live. Resolves with the configuration now running; never rejects.
 */
export async function reloadConfiguration(running: LannerConfig, load: () => LannerConfig, pipeline: Pipeline, log: Logger): Promise<ConfigReloadOutcome> {
  let next: LannerConfig;
  try {
    next = load();
  } catch (err) {
    log.error(`configuration not reloaded: ${(err as Error).message}; keeping the running configuration`);
    return { applied: false, config: running };
  }
  const plan = planReload(running, next);
  if (plan.restartOnly.length > 0) {
    log.warn({ keys: plan.restartOnly }, `configuration changes that need a restart, keeping the running values: ${plan.restartOnly.join(', ')}`);
  }
  if (plan.live.length === 0) {
    log.info('configuration reloaded: nothing to change live');
    return { applied: true, config: running };
  }
  const config = plan.effective;
  let sinks: OutputsReload;
  try {
    sinks = await pipeline.outputs.reconfigure(config.outputs as OutputsConfig, alertShapingOf(config));
  } catch (err) {
    log.error(`configuration not reloaded: ${(err as Error).message}; keeping the running configuration`);
    return { applied: false, config: running };
  }
  pipeline.rules.setRulesetOptions(rulesetOptionsOf(config));
  log.info({ changed: plan.live, sinks }, 'configuration reloaded');
  return { applied: true, config };
}
