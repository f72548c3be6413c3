/**
 * The off-loop half of a rules reload (manager.ts `reloadOffLoop`): in a worker thread, reads the
 * rules files and compiles them once, so a broken, empty or oversized rule set is found without
 * the agent's event loop (its /healthz, its event delivery) waiting for it. What comes back is
 * plain data: the contents it read (the main thread compiles exactly those, not a newer edit) and
 * the load's verdict. Compiled predicates are closures and cannot cross threads.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { RulesFileInput } from '../rules/loader';
import type { LoadMessage } from '../rules/messages';
import { compileRules, type RulesetOptions } from '../rules/ruleset';

export interface RulesCheckRequest {
  readonly files: readonly string[];
  readonly options: RulesetOptions;
}

export interface RulesCheckReply {
  readonly inputs: readonly RulesFileInput[];
  /** Read errors first, then the load's errors, as `loadRules` reports them. */
  readonly errors: readonly LoadMessage[];
  readonly warnings: readonly LoadMessage[];
  readonly rules: number;
  readonly enabled: number;
}

/** Reads and compiles `files`; the same verdict `loadRules` gives. */
export function checkRules(req: RulesCheckRequest): RulesCheckReply {
  const inputs: RulesFileInput[] = [];
  const readErrors: LoadMessage[] = [];
  for (const p of req.files) {
    try {
      inputs.push({ name: p, content: readFileSync(p, 'utf8') });
    } catch (err) {
      readErrors.push({ file: p, line: 1, column: 1, itemKind: 'file', itemName: p, code: 'LOAD_ERR_FILE_READ', message: (err as Error).message });
    }
  }
  const rs = compileRules(inputs, req.options);
  return { inputs, errors: [...readErrors, ...rs.errors], warnings: rs.warnings, rules: rs.rules.length, enabled: rs.rules.filter((r) => r.enabled).length };
}

if (parentPort !== null && (workerData as { lannerRulesCheck?: RulesCheckRequest } | undefined)?.lannerRulesCheck !== undefined) {
  parentPort.postMessage(checkRules((workerData as { lannerRulesCheck: RulesCheckRequest }).lannerRulesCheck));
}
