/**
 * falco.yaml's `append_output`: extra output text and extra output fields for the rules an entry
 * matches (by rule name, source and tags; every condition given must hold, no `match` means every
 * rule). Compiled into the rule's output at load, with the rule's own compiler, so `%fields` in
 * them are extracted like the rule's own (one memo slot per field and event), and a reload
 * applies a changed list.
 */
import { CompileError, type ConditionCompiler } from './compile';
import { compileOutput, type CompiledOutput } from './output';
import { PosText } from './postext';

export interface AppendOutputEntry {
  readonly match?: { readonly rule?: string; readonly source?: string; readonly tags?: readonly string[] };
  /** Appended to the output text, after a space; may hold `%field` tokens. */
  readonly extra_output?: string;
  /** A field name (`evt.hostname`), or one `name: format` pair; only in output_fields, not in the text. */
  readonly extra_fields?: readonly (string | Readonly<Record<string, string>>)[];
  /** Accepted for falco.yaml compatibility; Lanner's suggested fields are `engine.append_container_fields`. */
  readonly suggested_output?: boolean;
}

interface RuleIdentity {
  readonly name: string;
  readonly source: string;
  readonly tags: readonly string[];
}

export function appendOutputMatches(entry: AppendOutputEntry, rule: RuleIdentity): boolean {
  const m = entry.match;
  if (m === undefined) return true;
  if (m.rule !== undefined && m.rule !== rule.name) return false;
  if (m.source !== undefined && m.source !== rule.source) return false;
  if (m.tags !== undefined && !m.tags.every((t) => rule.tags.includes(t))) return false;
  return true;
}

/**
 * The rule's output (`text`, which already holds any container suffix) with the matching entries'
 * extra output appended in list order, and their extra fields compiled beside it.
 */
export function compileRuleOutput(compiler: ConditionCompiler, text: PosText, rule: RuleIdentity, entries: readonly AppendOutputEntry[] | undefined): CompiledOutput {
  const matching = (entries ?? []).filter((e) => appendOutputMatches(e, rule));
  if (matching.length === 0) return compileOutput(compiler, text, rule.name);
  const at = text.locate(0);
  let full = text;
  for (const e of matching) {
    if (!e.extra_output) continue;
    const extra = PosText.fixed(` ${e.extra_output}`, at);
    fromAppendOutput(() => compileOutput(compiler, extra, rule.name));
    full = full.concat(extra);
  }
  const extraFields: { key: string; output: CompiledOutput }[] = [];
  for (const e of matching) {
    for (const item of e.extra_fields ?? []) {
      const [key, format] = typeof item === 'string' ? [item, `%${item}`] : Object.entries(item)[0]!;
      extraFields.push({ key, output: fromAppendOutput(() => compileOutput(compiler, PosText.fixed(format, at), rule.name)) });
    }
  }
  const output = compileOutput(compiler, full, rule.name);
  return extraFields.length === 0 ? output : { ...output, extraFields };
}

/**
 * An error in an appended part names append_output (the position is the rule's output), and is
 * never an unknown field a rule's `skip-if-unknown-filter` could forgive: the rule stays loaded or
 * the load fails, a configuration mistake does not silently drop the rule.
 */
function fromAppendOutput<T>(compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    if (err instanceof CompileError) throw new CompileError(`append_output: ${err.message}`, err.node, false, err.offset);
    throw err;
  }
}
