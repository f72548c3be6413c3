/**
 * Turns a rule collection into an executable ruleset: lists inlined and substituted (textually,
 * as Falco does), exceptions expanded, conditions parsed, macros resolved with Falco's visibility
 * rules, everything compiled, event types inferred and rules indexed by event type.
 */
import { readFileSync } from 'node:fs';
import type { ExtractContext } from './context';
import type { PriorityNum } from './priority';
import { EVENT_TYPES, EVENT_TYPE_COUNT } from '../probe/event-types';
import { quote, type CheckNode, type CondSource, type ConditionNode, type FieldRef, type MacroRefNode, type Operand, type Rhs, type TransformerArg } from './ast';
import { CompileError, ConditionCompiler, type FieldLookup, type Predicate } from './compile';
import { inferEventTypes } from './evttypes';
import { findField, type Extractor } from './fields';
import { readRulesFiles, type EnforcementMode, type ExceptionInfo, type RuleAction, type RuleCollection, type RuleInfo, type RulesFileInput } from './loader';
import type { ItemKind, LoadErrorCode, LoadMessage, LoadWarningCode, SourcePosition } from './messages';
import { compileRuleOutput, type AppendOutputEntry } from './append-output';
import { CONTAINER_OUTPUT_SUFFIX, type CompiledOutput } from './output';
import { ConditionSyntaxError, KNOWN_OPERATORS, parseCondition, parseOperand } from './parser';
import { PosText } from './postext';
import { PLUGIN_SOURCES } from './sources';
import { pathGateFor, type GateFields, type PathGate } from './path-gate';

export interface CompiledRule {
  readonly name: string;
  /** Position in evaluation (definition) order. */
  readonly index: number;
  readonly pos: SourcePosition;
  readonly priority: PriorityNum;
  readonly source: string;
  readonly desc: string;
  /** Sorted, deduplicated. */
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly evttypes: readonly number[];
  readonly evttypeNames: readonly string[];
  readonly predicate: Predicate;
  readonly output: CompiledOutput;
  /** Fully expanded condition (macros and lists resolved), for debugging and `validate`. */
  readonly expandedCondition: ConditionNode;
  /** Falco's `capture`: a match writes a capture file (with `capture.mode: rules`). */
  readonly capture: boolean;
  /** Falco's `capture_duration`: milliseconds of events after the match; 0 for the configured default. */
  readonly captureDuration: number;
  /** Lanner's `actions` (src/enforce). */
  readonly actions: readonly RuleAction[];
  /** Lanner's per-rule `enforcement` mode; undefined: the configured `enforcement.mode`. */
  readonly enforcement: EnforcementMode | undefined;
}

/**
 * Evaluates one event type's rules in order; calls `hit(i)` for a match of `rules[i]` and stops
 * when it returns true. Returns how many rules were evaluated.
 */
export type BucketEvaluator = (c: ExtractContext, hit: (index: number) => boolean) => number;

export interface CompiledRuleset {
  /** Every compiled rule at or above the priority floor, enabled or not, in evaluation order. */
  readonly rules: readonly CompiledRule[];
  /** Enabled rules per event type id, in evaluation order. */
  readonly byType: readonly (readonly CompiledRule[])[];
  /** Per event type id, a generated evaluator over `byType[id]` (undefined when empty). */
  readonly evaluators: readonly (BucketEvaluator | undefined)[];
  readonly slotCount: number;
  readonly nodeCount: number;
  readonly errors: readonly LoadMessage[];
  readonly warnings: readonly LoadMessage[];
  readonly files: readonly string[];
  /**
   * The enabled rules of each other event source (`k8s_audit`), compiled against that source's
   * field catalogue; a source without rules has no entry. `rules` lists them too.
   */
  readonly sources?: ReadonlyMap<string, SourceRuleset>;
}

/** One non-syscall source's rules: evaluated in order against a context sized by the counts. */
export interface SourceRuleset {
  readonly source: string;
  /** Enabled rules, in evaluation order. */
  readonly rules: readonly CompiledRule[];
  readonly slotCount: number;
  readonly nodeCount: number;
}

export interface RulesetOptions {
  /** Rules less severe than this are not loaded (falco.yaml `priority`). Default: 7 (debug). */
  readonly minPriority?: PriorityNum;
  /** Append Falco's container/k8s suggested fields to every output. Default: true. */
  readonly appendContainerFields?: boolean;
  /** falco.yaml `append_output` entries, applied in order to the rules each matches. */
  readonly appendOutput?: readonly AppendOutputEntry[];
  /** Skip the rules an open's or path change's path cannot satisfy (./path-gate.ts). Default: true; off only to test it. */
  readonly pathGate?: boolean;
}

function fieldReader(name: string): Extractor {
  const made = findField(name)!.make(undefined);
  if (typeof made === 'string') throw new Error(made);
  return made;
}
/** What the path gate reads besides the record: the fields its name and exec atoms come from. */
const GATE_FIELDS: GateFields = { processName: fieldReader('proc.name'), exePath: fieldReader('proc.exepath') };

const BLANKS = ' \t\n\r';
const LIST_DELIMS = BLANKS + '(),=';
const LIST_COMPS = new Set(['in', 'intersects', 'pmatch']);
const LIST_WORDS = new Set([...LIST_COMPS, 'oneof', 'anyof', 'allof']);
/**
 * Expanded conditions deeper than this (and/or/not levels plus macro references) are refused with
 * the macro where it happened, before any recursive pass can run out of stack.
 */
export const MAX_EXPANSION_DEPTH = 1000;

/** Quotes a value for textual substitution when it would not survive as a bare word. */
function renderValue(v: string): string {
  if (v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'")))) return v;
  if (v === '' || /[\s()=,"']/.test(v)) return quote(v);
  return v;
}

/** The word before `at` (skipping blanks) is a list operator or a modifier. */
function listWordBefore(s: string, at: number): boolean {
  let end = at;
  while (end > 0 && BLANKS.includes(s[end - 1]!)) end--;
  if (end === at) return false;
  let start = end;
  while (start > 0 && /[a-z]/.test(s[start - 1]!)) start--;
  return LIST_WORDS.has(s.slice(start, end)) && (start === 0 || LIST_DELIMS.includes(s[start - 1]!));
}

function renderValueOrList(v: string | readonly string[], listComp: boolean): string {
  if (Array.isArray(v)) return `(${(v as readonly string[]).map(renderValue).join(', ')})`;
  return listComp ? `(${renderValue(v as string)})` : renderValue(v as string);
}

/** The fields a check reads: its left side, a `val()` field, and the fields inside transformers. */
function fieldsOf(node: CheckNode): FieldRef[] {
  const out: FieldRef[] = [];
  const visit = (o: Operand | TransformerArg | Rhs | undefined): void => {
    if (o === undefined) return;
    if (o.kind === 'field') out.push(o);
    else if (o.kind === 'val') out.push(o.field);
    else if (o.kind === 'transformer') o.args.forEach(visit);
    else if (o.kind === 'tuple') o.items.forEach(visit);
  };
  visit(node.lhs);
  visit(node.rhs);
  return out;
}

/** Height of expanded trees, recorded as they are built (macros share subtrees, so no walk). */
const heights = new WeakMap<ConditionNode, number>();
function heightOf(n: ConditionNode): number {
  return heights.get(n) ?? 1;
}
function withHeight<T extends ConditionNode>(n: T, h: number): T {
  heights.set(n, h);
  return n;
}

class RulesetBuilder {
  private readonly compiler = new ConditionCompiler();
  /** One compiler per other source, so its memo slots and leaves index its own context. */
  private readonly sourceCompilers = new Map<string, ConditionCompiler>();
  private readonly errors: LoadMessage[];
  private readonly warnings: LoadMessage[];
  private readonly macroAst = new Map<string, ConditionNode | null>();
  private readonly expandedMacros = new Map<string, { readonly node: ConditionNode; readonly height: number }>();

  constructor(
    private readonly coll: RuleCollection,
    private readonly opts: RulesetOptions,
  ) {
    this.errors = [...coll.errors];
    this.warnings = [...coll.warnings];
    this.inlineLists();
  }

  private msg(kind: 'e' | 'w', code: LoadErrorCode | LoadWarningCode, pos: SourcePosition, itemKind: ItemKind, itemName: string, message: string): void {
    (kind === 'e' ? this.errors : this.warnings).push({ ...pos, itemKind, itemName, code, message });
  }

  /** An item naming an earlier list is replaced by that list's items. */
  private inlineLists(): void {
    const ordered = [...this.coll.lists.values()].sort((a, b) => a.index - b.index);
    for (const l of ordered) {
      const out: string[] = [];
      for (const item of l.items) {
        const ref = this.coll.lists.get(item);
        if (ref && ref.index < l.index) {
          ref.used = true;
          out.push(...ref.items);
        } else out.push(item);
      }
      l.items = out;
    }
  }

  /** Textual list substitution: list names bounded by blanks or `( ) , =` become their items. */
  substituteLists(pt: PosText): PosText {
    const s = pt.text;
    let out: PosText | undefined;
    let last = 0;
    let i = 0;
    while (i < s.length) {
      if (LIST_DELIMS.includes(s[i]!)) {
        i++;
        continue;
      }
      let j = i;
      while (j < s.length && !LIST_DELIMS.includes(s[j]!)) j++;
      const list = this.coll.lists.get(s.slice(i, j));
      if (list) {
        list.used = true;
        let start = i;
        let end = j;
        const sub = list.items.map(renderValue).join(', ');
        if (sub === '') {
          // An empty list also drops one neighbouring comma so `(a, empty)` stays valid.
          let l = start - 1;
          while (l >= 0 && BLANKS.includes(s[l]!)) l--;
          if (l >= 0 && s[l] === ',') start = l;
          else {
            let r = end;
            while (r < s.length && BLANKS.includes(s[r]!)) r++;
            if (r < s.length && s[r] === ',') end = r + 1;
          }
        }
        // After `in`, `intersects`, `pmatch` or a modifier the name stands for a whole list.
        const piece = PosText.fixed(listWordBefore(s, start) ? ` (${sub}) ` : ` ${sub} `, pt.locate(i));
        out = (out ?? PosText.fixed('', pt.locate(0))).concat(pt.slice(last, start), piece);
        last = end;
      }
      i = j;
    }
    if (!out) return pt;
    return out.concat(pt.slice(last));
  }

  private sourceOf(pt: PosText, itemKind: 'rule' | 'macro', itemName: string): CondSource {
    return { text: pt.text, itemKind, itemName, locate: (off) => pt.locate(off) };
  }

  private report(err: unknown, itemKind: ItemKind, itemName: string, code: LoadErrorCode, src?: CondSource): void {
    if (err instanceof ConditionSyntaxError && src) this.msg('e', code, src.locate(err.at), itemKind, itemName, err.message);
    else if (err instanceof CompileError) this.msg('e', code, err.node.src.locate(err.offset), itemKind, itemName, err.message);
    else throw err;
  }

  private parseMacro(name: string): ConditionNode | null {
    if (this.macroAst.has(name)) return this.macroAst.get(name)!;
    const m = this.coll.macros.get(name)!;
    const pt = this.substituteLists(m.condition);
    const src = this.sourceOf(pt, 'macro', name);
    let ast: ConditionNode | null = null;
    try {
      ast = parseCondition(src);
    } catch (err) {
      this.report(err, 'macro', name, 'LOAD_ERR_COMPILE_CONDITION', src);
    }
    this.macroAst.set(name, ast);
    return ast;
  }

  /** Parses every macro so syntax errors surface even in macros no rule uses. */
  parseAllMacros(): void {
    for (const m of [...this.coll.macros.values()].sort((a, b) => a.index - b.index)) this.parseMacro(m.name);
  }

  /**
   * Replaces macro references; a macro may only use macros defined before it, a rule any macro.
   * `depth` is the level of `node` in the expanded tree (and/or/not nodes and macro references
   * count); past MAX_EXPANSION_DEPTH the reference of the macro being expanded (`via`) is
   * reported, so a long macro chain ends in an error naming it instead of a stack overflow.
   */
  private expand(node: ConditionNode, visibleBelow: number, depth: number, via?: MacroRefNode): ConditionNode {
    if (depth > MAX_EXPANSION_DEPTH) {
      const ref = node.kind === 'macro' ? node : via;
      throw ref ? this.tooDeep(ref) : new CompileError(`condition nests deeper than ${MAX_EXPANSION_DEPTH} levels`, node);
    }
    switch (node.kind) {
      case 'and':
      case 'or': {
        const children = new Array<ConditionNode>(node.children.length);
        let h = 0;
        for (let i = 0; i < children.length; i++) {
          children[i] = this.expand(node.children[i]!, visibleBelow, depth + 1, via);
          h = Math.max(h, heightOf(children[i]!));
        }
        return withHeight({ ...node, children }, h + 1);
      }
      case 'not': {
        const child = this.expand(node.child, visibleBelow, depth + 1, via);
        return withHeight({ ...node, child }, heightOf(child) + 1);
      }
      case 'check':
        return node;
      case 'macro': {
        const m = this.coll.macros.get(node.name);
        if (!m || m.index >= visibleBelow) {
          const hint = node.name === 'and' || node.name === 'or' || node.name === 'not' ? ` (a condition is missing after '${node.name}')` : '';
          throw new CompileError(`undefined macro '${node.name}' used in filter${hint}`, node);
        }
        m.used = true;
        const cached = this.expandedMacros.get(node.name);
        if (cached) {
          if (depth + cached.height > MAX_EXPANSION_DEPTH) throw this.tooDeep(node);
          return cached.node;
        }
        const ast = this.parseMacro(node.name);
        if (!ast) throw new CompileError(`macro '${node.name}' has errors`, node);
        const expanded = this.expand(ast, m.index, depth + 1, node);
        this.expandedMacros.set(node.name, { node: expanded, height: heightOf(expanded) });
        return expanded;
      }
    }
  }

  private tooDeep(ref: MacroRefNode): CompileError {
    return new CompileError(`macro '${ref.name}' nests the condition deeper than ${MAX_EXPANSION_DEPTH} levels (the chain of macros is too long)`, ref);
  }

  /** The compiler of a source; undefined for a source Lanner does not have. */
  private compilerFor(source: string): ConditionCompiler | undefined {
    if (source === 'syscall') return this.compiler;
    let c = this.sourceCompilers.get(source);
    if (c === undefined) {
      const info = PLUGIN_SOURCES.get(source);
      if (info === undefined) return undefined;
      this.sourceCompilers.set(source, (c = new ConditionCompiler(info.lookup)));
    }
    return c;
  }

  /** Exceptions become `and not (...)` clauses appended to the condition text (Falco, textual). */
  private expandExceptions(rule: RuleInfo, compiler: ConditionCompiler): PosText {
    const open = PosText.fixed('(', rule.condition.locate(0));
    let pt = open.concat(rule.condition, PosText.fixed(')', rule.condition.locate(Math.max(0, rule.condition.text.length - 1))));
    for (const e of rule.exceptions) {
      this.checkException(e, compiler);
      if (e.values.length === 0) continue;
      let clause: string;
      if (!Array.isArray(e.fields)) {
        const comp = typeof e.comps === 'string' ? e.comps : 'in';
        const vals = (e.values as (string | readonly string[])[]).flatMap((v) => (Array.isArray(v) ? (v as string[]) : [v as string]));
        clause = ` and not (${e.fields} ${comp} (${vals.map(renderValue).join(', ')}))`;
      } else {
        const fields = e.fields as readonly string[];
        const comps = Array.isArray(e.comps) ? (e.comps as readonly string[]) : fields.map(() => '=');
        const terms = (e.values as unknown[]).map((tuple) => {
          const t = tuple as readonly (string | readonly string[])[];
          return '(' + fields.map((f, k) => `${f} ${comps[k]} ${renderValueOrList(t[k]!, LIST_COMPS.has(comps[k]!))}`).join(' and ') + ')';
        });
        clause = ` and not (${terms.join(' or ')})`;
      }
      pt = pt.concat(PosText.fixed(clause, e.pos));
    }
    return pt;
  }

  private checkException(e: ExceptionInfo, compiler: ConditionCompiler): void {
    const node = { at: 0, src: { locate: () => e.pos } };
    const fieldList = Array.isArray(e.fields) ? (e.fields as readonly string[]) : [e.fields as string];
    if (fieldList.length === 0) throw new CompileError(`exception '${e.name}' has no fields`, node);
    for (const f of fieldList) {
      try {
        compiler.compileOperand(parseOperand({ text: f, itemKind: 'rule', itemName: '', locate: () => e.pos }));
      } catch (err) {
        if (err instanceof CompileError) throw new CompileError(`exception '${e.name}': ${err.message}`, node, err.unknownFilter);
        throw new CompileError(`exception '${e.name}': '${f}' is not a field`, node);
      }
    }
    if (Array.isArray(e.fields)) {
      const comps = Array.isArray(e.comps) ? (e.comps as readonly string[]) : e.comps === undefined ? fieldList.map(() => '=') : undefined;
      if (!comps) throw new CompileError(`exception '${e.name}': with a list of fields, comps must be a list too`, node);
      if (comps.length !== fieldList.length) throw new CompileError(`exception '${e.name}': fields and comps lists must have equal length`, node);
      for (const c of comps) if (!KNOWN_OPERATORS.has(c)) throw new CompileError(`exception '${e.name}': '${c}' is not a supported comparison operator`, node);
      for (const v of e.values as unknown[]) {
        if (!Array.isArray(v) || v.length !== fieldList.length) throw new CompileError(`exception '${e.name}': every value must be a list of ${fieldList.length} item(s), one per field`, node);
      }
    } else {
      const comp = e.comps === undefined ? 'in' : e.comps;
      if (typeof comp !== 'string') throw new CompileError(`exception '${e.name}': with a single field, comps must be a single operator`, node);
      if (!KNOWN_OPERATORS.has(comp)) throw new CompileError(`exception '${e.name}': '${comp}' is not a supported comparison operator`, node);
      if (!LIST_COMPS.has(comp)) throw new CompileError(`exception '${e.name}': with a single field, comps must be a list operator (in, intersects, pmatch), not '${comp}'`, node);
    }
  }

  private walkWarnings(node: ConditionNode, rule: RuleInfo, lookup: FieldLookup): void {
    switch (node.kind) {
      case 'and':
      case 'or':
        node.children.forEach((c) => this.walkWarnings(c, rule, lookup));
        return;
      case 'not':
        this.walkWarnings(node.child, rule, lookup);
        return;
      case 'macro':
        return;
      case 'check': {
        if (node.lhs.kind === 'field') {
          const d = lookup(node.lhs.name, node.lhs.arg);
          if (d?.deprecated) this.msg('w', 'LOAD_DEPRECATED_FIELD', node.src.locate(node.at), 'rule', rule.name, `field '${node.lhs.name}' is deprecated`);
        }
        for (const f of fieldsOf(node)) {
          if (!lookup(f.name, f.arg)?.alwaysNull) continue;
          this.msg('w', 'LOAD_FIELD_ALWAYS_NULL', node.src.locate(f.at), 'rule', rule.name, `field '${f.name}' is always null on this probe: comparisons with it are false`);
        }
        if (node.rhs?.kind === 'literal' && node.rhs.value === '<NA>') {
          this.msg('w', 'LOAD_UNSAFE_NA_CHECK', node.src.locate(node.rhs.at), 'rule', rule.name, "comparing with '<NA>' is unsafe: a missing value is never equal to anything");
        }
        if (node.op === 'regex' && node.rhs?.kind === 'literal' && !/[\\^$.|?*+()[\]{}]/.test(node.rhs.value)) {
          this.msg('w', 'LOAD_COMPILE_CONDITION', node.src.locate(node.rhs.at), 'rule', rule.name, "regex without metacharacters: '=' or 'contains' is faster");
        }
      }
    }
  }

  compileRule(rule: RuleInfo): CompiledRule | undefined {
    const compiler = this.compilerFor(rule.source);
    if (compiler === undefined) {
      this.msg('w', 'LOAD_UNKNOWN_SOURCE', rule.pos, 'rule', rule.name, `unknown source '${rule.source}', rule skipped`);
      return undefined;
    }
    // Event types, and Falco's container fields in outputs, are syscall notions.
    const syscall = rule.source === 'syscall';
    let src: CondSource | undefined;
    let code: LoadErrorCode = 'LOAD_ERR_COMPILE_CONDITION';
    try {
      const withExceptions = this.expandExceptions(rule, compiler);
      const pt = this.substituteLists(withExceptions);
      src = this.sourceOf(pt, 'rule', rule.name);
      const ast = parseCondition(src);
      const expanded = this.expand(ast, Infinity, 0);
      const predicate = compiler.compile(expanded);
      const types = syscall ? inferEventTypes(expanded) : { ids: [], unbounded: false };
      this.walkWarnings(expanded, rule, syscall ? findField : PLUGIN_SOURCES.get(rule.source)!.lookup);
      const untraced = 'untraced' in types ? types.untraced : [];
      if (untraced.length) {
        const which = untraced.map((t) => `'${t}'`).join(', ');
        this.msg('w', 'LOAD_UNTRACED_EVTTYPE', rule.pos, 'rule', rule.name, `event type${untraced.length > 1 ? 's' : ''} ${which} ${untraced.length > 1 ? 'are' : 'is'} known to Falco but not traced by this probe: ${types.ids.length ? 'the rule only fires for its other event types' : 'the rule will never fire'} (lanner list-events)`);
      } else if (syscall && rule.warnEvttypes && (types.unbounded || types.ids.length === 0)) {
        this.msg('w', 'LOAD_NO_EVTTYPE', rule.pos, 'rule', rule.name, types.ids.length === 0 ? 'rule matches no event type and will never fire' : 'rule is not restricted to specific event types (evt.type) and will be evaluated for every event');
      }
      code = 'LOAD_ERR_COMPILE_OUTPUT';
      const outText = this.opts.appendContainerFields === false || !syscall ? rule.output : rule.output.concat(PosText.fixed(' ' + CONTAINER_OUTPUT_SUFFIX, rule.output.locate(0)));
      const output = compileRuleOutput(compiler, outText, { name: rule.name, source: rule.source, tags: [...rule.tags] }, this.opts.appendOutput);
      return {
        name: rule.name,
        index: rule.index,
        pos: rule.pos,
        priority: rule.priority,
        source: rule.source,
        desc: rule.desc,
        tags: [...rule.tags].sort(),
        enabled: rule.enabled,
        evttypes: types.ids,
        evttypeNames: types.ids.map((id) => EVENT_TYPES[id]!.name),
        predicate,
        output,
        expandedCondition: expanded,
        capture: rule.capture,
        captureDuration: rule.captureDuration,
        actions: rule.actions,
        enforcement: rule.enforcement,
      };
    } catch (err) {
      if (err instanceof CompileError && err.unknownFilter && rule.skipIfUnknownFilter) {
        this.msg('w', 'LOAD_UNKNOWN_FILTER', err.node.src.locate(err.offset), 'rule', rule.name, `rule skipped: ${err.message}`);
        return undefined;
      }
      this.report(err, 'rule', rule.name, code, src);
      return undefined;
    }
  }

  /**
   * One generated function per bucket with a separate call site per rule, so each site stays
   * monomorphic (a loop over predicates would be one megamorphic call site for every event).
   * Predicates are specialised for the bucket's event type; rules that fold to false are left out.
   * On opens, path changes and execs, the path gate (./path-gate.ts) first marks the rules the event's
   * path can satisfy, and a rule it bounds runs only when marked.
   */
  private bucketEvaluator(rules: readonly CompiledRule[], typeName: string): BucketEvaluator {
    const preds: Predicate[] = [];
    const gate = this.opts.pathGate === false ? undefined : pathGateFor(rules.map((r) => r.expandedCondition), typeName, GATE_FIELDS);
    let body = '';
    rules.forEach((r, i) => {
      const p = this.compiler.compileFor(r.expandedCondition, typeName);
      if (p === false) return;
      const marked = gate?.gated[i] ? `(a||A[${i}]===t)&&` : '';
      // `n` counts the rules evaluated (the engine's evaluations): those the gate skips are not.
      if (p === true) body += `if(${marked}++n&&hit(${i}))return n;`;
      else {
        body += `if(${marked}++n&&P[${preds.length}](c)&&hit(${i}))return n;`;
        preds.push(p);
      }
    });
    const head = gate ? 'const a=G(c),t=c.stamp;' : '';
    try {
      const factory = new Function('P', 'G', 'A', `"use strict";return function bucket(c,hit){let n=0;${head}${body}return n;};`) as (p: Predicate[], g: PathGate['mark'] | undefined, a: Uint32Array | undefined) => BucketEvaluator;
      return factory(preds, gate?.mark, gate?.allowed);
    } catch {
      // Code generation disabled (--disallow-code-generation-from-strings): plain loop.
      return (c, hit) => {
        const all = gate === undefined || gate.mark(c);
        let n = 0;
        for (let i = 0; i < rules.length; i++) {
          if (!all && gate.gated[i] && gate.allowed[i] !== c.stamp) continue;
          n++;
          if (rules[i]!.predicate(c) && hit(i)) return n;
        }
        return n;
      };
    }
  }

  build(files: readonly string[]): CompiledRuleset {
    this.parseAllMacros();
    const floor = this.opts.minPriority ?? 7;
    const rules: CompiledRule[] = [];
    for (const r of [...this.coll.rules.values()].sort((a, b) => a.index - b.index)) {
      if (r.priority > floor) continue;
      const c = this.compileRule(r);
      if (c) rules.push(c);
    }
    for (const m of this.coll.macros.values()) if (!m.used) this.msg('w', 'LOAD_UNUSED_MACRO', m.pos, 'macro', m.name, 'macro not referred to by any other rule/macro');
    for (const l of this.coll.lists.values()) if (!l.used) this.msg('w', 'LOAD_UNUSED_LIST', l.pos, 'list', l.name, 'list not referred to by any other rule/macro/list');
    const byType: CompiledRule[][] = Array.from({ length: EVENT_TYPE_COUNT }, () => []);
    for (const r of rules) if (r.enabled) for (const id of r.evttypes) byType[id]!.push(r);
    const evaluators = byType.map((b, id) => (b.length ? this.bucketEvaluator(b, EVENT_TYPES[id]!.name) : undefined));
    const sources = new Map<string, SourceRuleset>();
    for (const [source, c] of this.sourceCompilers) {
      sources.set(source, { source, rules: rules.filter((r) => r.enabled && r.source === source), slotCount: c.slotCount, nodeCount: c.nodeCount });
    }
    return { rules, byType, evaluators, slotCount: this.compiler.slotCount, nodeCount: this.compiler.nodeCount, errors: this.errors, warnings: this.warnings, files, sources };
  }
}

/** Compiles rules from in-memory files (in order; later files amend earlier ones). */
export function compileRules(files: readonly RulesFileInput[], opts: RulesetOptions = {}): CompiledRuleset {
  const coll = readRulesFiles(files);
  return new RulesetBuilder(coll, opts).build(files.map((f) => f.name));
}

/** Reads the files from disk and compiles them; unreadable files are LOAD_ERR_FILE_READ errors. */
export function loadRules(paths: readonly string[], opts: RulesetOptions = {}): CompiledRuleset {
  const inputs: RulesFileInput[] = [];
  const readErrors: LoadMessage[] = [];
  for (const p of paths) {
    try {
      inputs.push({ name: p, content: readFileSync(p, 'utf8') });
    } catch (err) {
      readErrors.push({ file: p, line: 1, column: 1, itemKind: 'file', itemName: p, code: 'LOAD_ERR_FILE_READ', message: (err as Error).message });
    }
  }
  const rs = compileRules(inputs, opts);
  return readErrors.length ? { ...rs, errors: [...readErrors, ...rs.errors] } : rs;
}
