/**
 * Loads and hot-reloads rules: compiles off to the side and swaps into the engine only when the
 * new ruleset has no errors; otherwise the running ruleset stays and the errors are reported.
 * Reloads come from `reload()` (the CLI wires SIGHUP to it) and, optionally, from file watching.
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { LoadMessage } from '../rules/messages';
import { loadRules, type CompiledRuleset, type RulesetOptions } from '../rules/ruleset';
import type { Engine } from './rule-engine';

export interface ReloadResult {
  /** True when the new ruleset is now running. */
  readonly applied: boolean;
  readonly errors: readonly LoadMessage[];
  readonly warnings: readonly LoadMessage[];
  readonly rules: number;
  readonly files: readonly string[];
  readonly durationMs: number;
}

export interface RulesManagerOptions extends RulesetOptions {
  readonly engine: Engine;
  /** Files or directories (every *.yaml / *.yml inside, sorted by name), in load order. */
  readonly paths: readonly string[];
  readonly watch?: boolean;
  readonly debounceMs?: number;
  /** Called after every load attempt (initial, manual, watched). */
  readonly onReload?: (result: ReloadResult) => void;
}

/** Expands directories into their YAML files; missing paths stay so the loader reports them. */
export function expandRulesPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      for (const f of readdirSync(abs).filter((n) => /\.ya?ml$/.test(n)).sort()) out.push(join(abs, f));
    } else out.push(abs);
  }
  return out;
}

export class RulesManager {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloads = 0;
  private failedReloads = 0;
  private lastAppliedAt = 0;
  private activeWarnings = 0;

  constructor(private readonly opts: RulesManagerOptions) {}

  /** Compiles the configured files; swaps into the engine only if error-free. */
  reload(): ReloadResult {
    const t0 = performance.now();
    const files = expandRulesPaths(this.opts.paths);
    let rs: CompiledRuleset;
    try {
      rs = loadRules(files, this.opts);
    } catch (err) {
      rs = {
        rules: [],
        byType: [],
        evaluators: [],
        slotCount: 0,
        nodeCount: 0,
        warnings: [],
        files,
        errors: [{ file: files[0] ?? '', line: 1, column: 1, itemKind: 'file', itemName: '', code: 'LOAD_ERR_VALIDATE', message: `internal error while loading rules: ${(err as Error).message}` }],
      };
    }
    const applied = rs.errors.length === 0;
    if (applied) {
      this.opts.engine.setRuleset(rs);
      this.lastAppliedAt = Date.now() / 1000;
      this.activeWarnings = rs.warnings.length;
    }
    this.reloads++;
    if (!applied) this.failedReloads++;
    const result: ReloadResult = { applied, errors: rs.errors, warnings: rs.warnings, rules: rs.rules.length, files, durationMs: performance.now() - t0 };
    this.opts.onReload?.(result);
    if (this.opts.watch && this.watchers.length === 0) this.startWatching();
    return result;
  }

  get counters(): { reloads: number; failedReloads: number } {
    return { reloads: this.reloads, failedReloads: this.failedReloads };
  }

  /** The shape the metrics part reads (src/metrics/sources.ts `RulesInfo`). */
  rulesInfo(): { enabled: number; disabled: number; warnings: number; lastReloadTimestampSeconds: number; reloadsSucceeded: number; reloadsFailed: number } {
    const rs = this.opts.engine.currentRuleset;
    const enabled = rs ? rs.rules.filter((r) => r.enabled).length : 0;
    return {
      enabled,
      disabled: rs ? rs.rules.length - enabled : 0,
      warnings: this.activeWarnings,
      lastReloadTimestampSeconds: this.lastAppliedAt,
      reloadsSucceeded: this.reloads - this.failedReloads,
      reloadsFailed: this.failedReloads,
    };
  }

  /**
   * Watches the directories holding the rules (editors replace files by rename, which a watch on
   * the file itself would miss) and reloads after `debounceMs` of quiet.
   */
  startWatching(): void {
    const dirs = new Map<string, Set<string> | 'all'>();
    for (const p of this.opts.paths) {
      const abs = resolve(p);
      if (existsSync(abs) && statSync(abs).isDirectory()) dirs.set(abs, 'all');
      else {
        const d = dirname(abs);
        const cur = dirs.get(d);
        if (cur !== 'all') dirs.set(d, new Set([...(cur ?? []), basename(abs)]));
      }
    }
    for (const [dir, names] of dirs) {
      if (!existsSync(dir)) continue;
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        const name = filename ? filename.toString() : '';
        // Kubernetes publishes a ConfigMap update by swapping the `..data` symlink (its atomic
        // writer's `..`-prefixed entries); the visible files are symlinks through it and see no
        // event of their own.
        const atomicSwap = name.startsWith('..');
        if (atomicSwap || name === '' || (names === 'all' ? /\.ya?ml$/.test(name) : names.has(name))) this.schedule();
      });
      w.on('error', () => undefined);
      this.watchers.push(w);
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload();
    }, this.opts.debounceMs ?? 300);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
