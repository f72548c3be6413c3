/**
 * Loads and hot-reloads rules: compiles off to the side and swaps into the engine only when the
 * new ruleset has no errors and is not empty (unless allowed); otherwise the running ruleset stays
 * and the errors are reported. The first load is `reload()`; SIGHUP and the file watcher use
 * `reloadOffLoop()`, which checks the files in a worker thread first.
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadMessage } from '../rules/messages';
import { compileRules, loadRules, type CompiledRuleset, type RulesetOptions } from '../rules/ruleset';
import type { Engine } from './rule-engine';
import { checkRules, type RulesCheckReply, type RulesCheckRequest } from './rules-worker';

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
  /** Heap limit of the off-loop rules check, in MiB (default 64). */
  readonly checkMemoryMb?: number;
  /**
   * Apply a load that leaves no enabled rule (`engine.allow_empty_rules`). Off by default: an
   * emptied or truncated rules file would otherwise switch detection off without an error.
   */
  readonly allowEmpty?: boolean;
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

/** The error a load with no enabled rule gets unless empty rule sets are allowed. */
function noRulesError(files: readonly string[], disabled: number): LoadMessage {
  const loaded = files.length === 1 ? 'the rules file' : `the ${files.length} rules files`;
  const what = disabled > 0 ? `every one of the ${disabled} rules in ${loaded} is disabled` : `${loaded} ${files.length === 1 ? 'defines' : 'define'} no rule`;
  return {
    file: files[0] ?? '',
    line: 1,
    column: 1,
    itemKind: 'file',
    itemName: '',
    code: 'LOAD_ERR_VALIDATE',
    message: `refusing an empty rule set: ${what} (an emptied or truncated rules file?); set engine.allow_empty_rules to run without rules`,
  };
}

/**
 * Heap the off-loop rules check may use by default (`engine.reload_memory_mb`). Falco's three
 * stock files compile within 16 MiB; a rule set that needs more than the budget is refused instead
 * of being compiled again, and then held, on the main thread.
 */
const DEFAULT_CHECK_MEMORY_MB = 64;

/** A load that failed as a whole (internal error, check worker gone), as one error. */
function failedLoad(files: readonly string[], message: string): CompiledRuleset {
  return {
    rules: [],
    byType: [],
    evaluators: [],
    slotCount: 0,
    nodeCount: 0,
    warnings: [],
    files: [...files],
    errors: [{ file: files[0] ?? '', line: 1, column: 1, itemKind: 'file', itemName: '', code: 'LOAD_ERR_VALIDATE', message }],
  };
}

/** What a load came to: its counts and messages, and the ruleset when it was compiled here. */
interface LoadVerdict {
  readonly ruleset?: CompiledRuleset;
  readonly errors: readonly LoadMessage[];
  readonly warnings: readonly LoadMessage[];
  readonly rules: number;
  readonly enabled: number;
}

function verdictOf(rs: CompiledRuleset): LoadVerdict {
  return { ruleset: rs, errors: rs.errors, warnings: rs.warnings, rules: rs.rules.length, enabled: rs.rules.filter((r) => r.enabled).length };
}

function compileGuarded(files: readonly string[], compile: () => CompiledRuleset): CompiledRuleset {
  try {
    return compile();
  } catch (err) {
    return failedLoad(files, `internal error while loading rules: ${(err as Error).message}`);
  }
}

export class RulesManager {
  private watchers: FSWatcher[] = [];
  private inFlight: Promise<ReloadResult> | undefined;
  private again = false;
  private worker: Worker | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private reloads = 0;
  private failedReloads = 0;
  private lastAppliedAt = 0;
  private activeWarnings = 0;

  /** What the rules compile with; a configuration reload may change it (`setRulesetOptions`). */
  private rulesetOptions: RulesetOptions;

  constructor(private readonly opts: RulesManagerOptions) {
    this.rulesetOptions = opts;
  }

  /** Options for the next loads (priority floor, container fields, append_output); the running rules stay until then. */
  setRulesetOptions(options: RulesetOptions): void {
    this.rulesetOptions = options;
  }

  /**
   * Compiles the configured files on this thread; swaps into the engine only if error-free (and
   * not empty, unless allowed). The start of the agent and the tests use it; a running agent
   * reloads with `reloadOffLoop`.
   */
  reload(): ReloadResult {
    const t0 = performance.now();
    const files = expandRulesPaths(this.opts.paths);
    return this.finish(verdictOf(compileGuarded(files, () => loadRules(files, this.rulesetOptions))), files, t0);
  }

  /**
   * The reload SIGHUP and the file watcher run while the agent is serving: the files are read and
   * compiled first in a worker thread (rules-worker.ts), so a broken, empty or oversized rule set
   * is refused without the event loop ever waiting on it, and only a rule set known to load is
   * compiled again here (predicates are closures: they cannot be handed over). A request while
   * one runs is folded into one more reload after it, which reads the files as they are then.
   */
  reloadOffLoop(): Promise<ReloadResult> {
    if (this.inFlight !== undefined) {
      this.again = true;
      return this.inFlight;
    }
    const run = async (): Promise<ReloadResult> => {
      let result: ReloadResult;
      do {
        this.again = false;
        result = await this.reloadOnce();
      } while (this.again && !this.closed);
      return result;
    };
    this.inFlight = run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const t0 = performance.now();
    const files = expandRulesPaths(this.opts.paths);
    let check: RulesCheckReply | Error;
    try {
      check = await this.checkOffLoop(files);
    } catch (err) {
      check = err as Error;
    }
    // Stopping: the engine's rules are final, and nobody waits for this reload's verdict.
    if (this.closed) return { applied: false, errors: [], warnings: [], rules: 0, files, durationMs: performance.now() - t0 };
    if (check instanceof Error) return this.finish(verdictOf(failedLoad(files, check.message)), files, t0);
    // Refused by the check: nothing is compiled here.
    if (check.errors.length > 0 || (check.enabled === 0 && !this.opts.allowEmpty)) return this.finish(check, files, t0);
    const inputs = check.inputs;
    return this.finish(verdictOf(compileGuarded(files, () => compileRules(inputs, this.rulesetOptions))), files, t0);
  }

  /** Runs `checkRules` in a worker thread; in-thread when running from the TypeScript sources (tests). */
  private checkOffLoop(files: readonly string[]): Promise<RulesCheckReply> {
    const o = this.rulesetOptions;
    const request: RulesCheckRequest = {
      files,
      options: {
        ...(o.minPriority === undefined ? {} : { minPriority: o.minPriority }),
        ...(o.appendContainerFields === undefined ? {} : { appendContainerFields: o.appendContainerFields }),
        ...(o.appendOutput === undefined ? {} : { appendOutput: o.appendOutput }),
      },
    };
    const script = join(__dirname, 'rules-worker.js');
    if (!existsSync(script)) return Promise.resolve(checkRules(request));
    const limitMb = this.opts.checkMemoryMb ?? DEFAULT_CHECK_MEMORY_MB;
    return new Promise((resolveCheck, reject) => {
      const worker = new Worker(script, { workerData: { lannerRulesCheck: request }, resourceLimits: { maxOldGenerationSizeMb: limitMb } });
      this.worker = worker;
      let reply: RulesCheckReply | undefined;
      worker.once('message', (m: RulesCheckReply) => (reply = m));
      worker.once('error', (err: Error & { code?: string }) => {
        reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new Error(`the rules need more than ${limitMb} MiB to compile (engine.reload_memory_mb; a runaway rules file?)`) : new Error(`rules check failed: ${err.message}`));
      });
      worker.once('exit', (code) => {
        this.worker = undefined;
        if (reply !== undefined) resolveCheck(reply);
        else reject(new Error(this.closed ? 'the agent is stopping' : `rules check worker exited with code ${code}`));
      });
    });
  }

  /** Swaps the ruleset in when it has no errors (and is not empty, unless allowed); reports the attempt. */
  private finish(load: LoadVerdict, files: readonly string[], t0: number): ReloadResult {
    let errors = load.errors;
    if (errors.length === 0 && load.enabled === 0 && !this.opts.allowEmpty) errors = [noRulesError(files, load.rules)];
    const applied = errors.length === 0 && load.ruleset !== undefined;
    if (applied) {
      this.opts.engine.setRuleset(load.ruleset!);
      this.lastAppliedAt = Date.now() / 1000;
      this.activeWarnings = load.warnings.length;
    }
    this.reloads++;
    if (!applied) this.failedReloads++;
    const result: ReloadResult = { applied, errors, warnings: load.warnings, rules: load.rules, files, durationMs: performance.now() - t0 };
    this.opts.onReload?.(result);
    if (this.opts.watch && this.watchers.length === 0 && !this.closed) this.startWatching();
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
      void this.reloadOffLoop();
    }, this.opts.debounceMs ?? 300);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
