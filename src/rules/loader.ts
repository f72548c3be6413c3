/**
 * Reads rules files (YAML with positions) into one shared collection of lists, macros and rules,
 * applying Falco's append/override/redefinition semantics in file order. Compilation happens in
 * `ruleset.ts`; this module only validates structure.
 */
import semver from 'semver';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { parsePriority, type PriorityNum } from './priority';
import { LoadAbort, type ItemKind, type LoadMessage, type LoadWarningCode, type LoadErrorCode, type SourcePosition } from './messages';
import { PosText, scalarLocator } from './postext';

/** The Falco rules engine version whose language Lanner implements. */
export const ENGINE_VERSION = '0.57.0';

/** Plugins whose fields Lanner provides natively, with the highest plugin version matched. */
const NATIVE_PLUGINS: Record<string, string> = { container: '0.6.0', k8saudit: '0.18.0', json: '0.7.4' };

export interface RulesFileInput {
  readonly name: string;
  readonly content: string;
}

export type ExceptionValue = string | readonly string[];

export interface ExceptionInfo {
  readonly name: string;
  readonly pos: SourcePosition;
  /** A list of fields, or one field (scalar form). */
  readonly fields: readonly string[] | string;
  readonly comps: readonly string[] | string | undefined;
  readonly values: ExceptionValue[] | ExceptionValue[][];
}

export interface ListInfo {
  readonly name: string;
  readonly index: number;
  readonly pos: SourcePosition;
  items: string[];
  used: boolean;
}

export interface MacroInfo {
  readonly name: string;
  readonly index: number;
  readonly pos: SourcePosition;
  condition: PosText;
  used: boolean;
}

export interface RuleInfo {
  readonly name: string;
  readonly index: number;
  readonly pos: SourcePosition;
  condition: PosText;
  output: PosText;
  desc: string;
  priority: PriorityNum;
  source: string;
  enabled: boolean;
  tags: Set<string>;
  exceptions: ExceptionInfo[];
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  capture: boolean;
  captureDuration: number;
  /** Lanner's `actions` (src/enforce): what a match does besides alerting. */
  actions: RuleAction[];
  /** Lanner's per-rule `enforcement` (monitor | enforce); undefined: the configured mode. */
  enforcement: EnforcementMode | undefined;
}

/** Lanner's rule actions: `kill` sends SIGKILL to the matching process (src/enforce). */
export const RULE_ACTIONS = ['kill'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];
export type EnforcementMode = 'monitor' | 'enforce';

export interface RuleCollection {
  readonly lists: Map<string, ListInfo>;
  readonly macros: Map<string, MacroInfo>;
  readonly rules: Map<string, RuleInfo>;
  readonly errors: LoadMessage[];
  readonly warnings: LoadMessage[];
}

const LIST_KEYS = new Set(['list', 'items', 'append', 'override']);
const MACRO_KEYS = new Set(['macro', 'condition', 'append', 'override']);
const RULE_KEYS = new Set([
  'rule', 'condition', 'output', 'desc', 'priority', 'source', 'enabled', 'tags', 'exceptions', 'warn_evttypes',
  'skip-if-unknown-filter', 'capture', 'capture_duration', 'append', 'override', 'actions', 'enforcement',
]);
const RULE_APPENDABLE = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
const RULE_REPLACEABLE = new Set([
  'condition', 'output', 'desc', 'priority', 'tags', 'exceptions', 'enabled', 'warn_evttypes', 'skip-if-unknown-filter', 'capture', 'capture_duration', 'actions', 'enforcement',
]);

/**
 * libs' compatibility rule for versions (engine and plugins alike): what we have satisfies what a
 * file requires when both are semver, the major versions are equal and ours is not older.
 */
function versionSatisfies(have: string, required: string): boolean {
  const h = semver.parse(have);
  const r = semver.parse(required.trim());
  return h !== null && r !== null && h.major === r.major && semver.gte(h, r);
}

class FileReader {
  private readonly lc = new LineCounter();
  private itemKind: ItemKind = 'file';
  private itemName = '';

  constructor(
    private readonly file: RulesFileInput,
    private readonly out: RuleCollection,
    private readonly counter: { next: number },
  ) {}

  private at(node: YamlNode | Pair | null | undefined): SourcePosition {
    const range = node && 'range' in node && node.range ? node.range : node && 'key' in node && node.key && (node.key as YamlNode).range ? (node.key as YamlNode).range : undefined;
    const { line, col } = this.lc.linePos(range ? range[0] : 0);
    return { file: this.file.name, line, column: col };
  }

  private error(code: LoadErrorCode, message: string, pos: SourcePosition): never {
    throw new LoadAbort({ ...pos, itemKind: this.itemKind, itemName: this.itemName, code, message });
  }

  private warn(code: LoadWarningCode, message: string, pos: SourcePosition): void {
    this.out.warnings.push({ ...pos, itemKind: this.itemKind, itemName: this.itemName, code, message });
  }

  read(): void {
    const docs = parseAllDocuments(this.file.content, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: false });
    const list = Array.isArray(docs) ? docs : [docs];
    try {
      for (const doc of list) {
        if (doc.errors.length > 0) {
          const e = doc.errors[0]!;
          const { line, col } = this.lc.linePos(e.pos[0]);
          this.error('LOAD_ERR_YAML_PARSE', e.message.split('\n')[0]!, { file: this.file.name, line, column: col });
        }
        const root = doc.contents;
        if (root === null || (isScalar(root) && root.value === null)) continue;
        if (!isSeq(root)) this.error('LOAD_ERR_YAML_VALIDATE', 'rules content is not a sequence of items', this.at(root));
        for (const item of root.items) {
          if (item === null || (isScalar(item) && item.value === null)) continue;
          if (!isMap(item)) this.error('LOAD_ERR_YAML_VALIDATE', 'unexpected element type: each item must be a map', this.at(item as YamlNode));
          this.readItem(item);
        }
      }
    } catch (err) {
      if (err instanceof LoadAbort) this.out.errors.push(err.detail);
      else throw err;
    }
  }

  private get(map: YAMLMap, key: string): Pair<Scalar<string>, YamlNode | null> | undefined {
    for (const p of map.items) {
      if (isScalar(p.key) && p.key.value === key) return p as Pair<Scalar<string>, YamlNode | null>;
    }
    return undefined;
  }

  private has(map: YAMLMap, key: string): boolean {
    return this.get(map, key) !== undefined;
  }

  /** A required non-empty string scalar. */
  private str(map: YAMLMap, key: string, required: boolean): { value: string; node: Scalar } | undefined {
    const p = this.get(map, key);
    if (!p) {
      if (required) this.error('LOAD_ERR_YAML_VALIDATE', `item has no mapping for key '${key}'`, this.at(map));
      return undefined;
    }
    const v = p.value;
    if (!isScalar(v) || v.value === null || v.value === undefined) this.error('LOAD_ERR_YAML_VALIDATE', `value for '${key}' must be a non-empty string`, this.at(v ?? p));
    if (typeof v.value === 'object') this.error('LOAD_ERR_YAML_VALIDATE', `value for '${key}' must be a string`, this.at(v));
    const value = String(v.value);
    if (value.trim() === '') this.error('LOAD_ERR_YAML_VALIDATE', `value for '${key}' must be a non-empty string`, this.at(v));
    return { value, node: v };
  }

  private bool(map: YAMLMap, key: string): boolean | undefined {
    const p = this.get(map, key);
    if (!p) return undefined;
    const v = p.value;
    if (!isScalar(v) || typeof v.value !== 'boolean') this.error('LOAD_ERR_YAML_VALIDATE', `value for '${key}' must be true or false`, this.at(v ?? p));
    return v.value;
  }

  /** `capture_duration`: milliseconds, an unsigned 32-bit integer as in Falco (0: the configured default). */
  private durationMs(map: YAMLMap, key: string): number | undefined {
    const p = this.get(map, key);
    if (!p) return undefined;
    const v = p.value;
    if (!isScalar(v) || typeof v.value !== 'number' || !Number.isInteger(v.value) || v.value < 0 || v.value > 0xffffffff) {
      this.error('LOAD_ERR_YAML_VALIDATE', `value for '${key}' must be a whole number of milliseconds (0 to 4294967295)`, this.at(v ?? p));
    }
    return v.value;
  }

  private posText(s: { value: string; node: Scalar }): PosText {
    return PosText.of(s.value, scalarLocator(this.file.name, this.file.content, s.node, this.lc));
  }

  private checkKeys(map: YAMLMap, known: ReadonlySet<string>): void {
    for (const p of map.items) {
      const k = isScalar(p.key) ? String(p.key.value) : '?';
      if (!known.has(k)) this.warn('LOAD_UNKNOWN_KEY', `unknown key '${k}' ignored`, this.at(p.key as YamlNode));
    }
  }

  /** Returns the override map {key: 'append'|'replace'} after validating it against the item's keys. */
  private overrides(map: YAMLMap, overridable: readonly string[], appendable: ReadonlySet<string>, replaceable: ReadonlySet<string>): Map<string, 'append' | 'replace'> | undefined {
    const p = this.get(map, 'override');
    if (!p) return undefined;
    if (this.has(map, 'append')) this.error('LOAD_ERR_YAML_VALIDATE', "keys 'override' and 'append: true' cannot be used together (ERROR_OVERRIDE_APPEND)", this.at(p.key));
    if (!isMap(p.value)) this.error('LOAD_ERR_YAML_VALIDATE', "'override' must be a map of key: append|replace", this.at(p.value ?? p));
    const result = new Map<string, 'append' | 'replace'>();
    for (const op of p.value.items) {
      const key = isScalar(op.key) ? String(op.key.value) : '';
      const how = isScalar(op.value) ? String(op.value.value) : '';
      const pos = this.at(op.key as YamlNode);
      if (how !== 'append' && how !== 'replace') this.error('LOAD_ERR_YAML_VALIDATE', `invalid override operation for key '${key}': '${how}' (allowed: append, replace)`, this.at(op.value as YamlNode));
      if (!this.has(map, key)) this.error('LOAD_ERR_YAML_VALIDATE', `key '${key}' is listed under 'override' but not present in the item`, pos);
      if (how === 'append' && !appendable.has(key)) this.error('LOAD_ERR_YAML_VALIDATE', `key '${key}' cannot be appended to (appendable: ${[...appendable].join(', ')})`, pos);
      if (how === 'replace' && !replaceable.has(key)) this.error('LOAD_ERR_YAML_VALIDATE', `key '${key}' cannot be replaced (replaceable: ${[...replaceable].join(', ')})`, pos);
      result.set(key, how);
    }
    for (const k of overridable) {
      if (this.has(map, k) && !result.has(k)) this.error('LOAD_ERR_YAML_VALIDATE', `key '${k}' is present but has no 'override' operation`, this.at(this.get(map, k)!.key));
    }
    return result;
  }

  private readItem(map: YAMLMap): void {
    this.itemKind = 'unknown';
    this.itemName = '';
    if (this.has(map, 'required_engine_version')) return this.readEngineVersion(map);
    if (this.has(map, 'required_plugin_versions')) return this.readPluginVersions(map);
    if (this.has(map, 'list')) return this.readList(map);
    if (this.has(map, 'macro')) return this.readMacro(map);
    if (this.has(map, 'rule')) return this.readRule(map);
    const first = map.items[0];
    this.warn('LOAD_UNKNOWN_ITEM', `unknown top-level item '${first && isScalar(first.key) ? String(first.key.value) : '?'}' ignored`, this.at(map));
  }

  private readEngineVersion(map: YAMLMap): void {
    this.itemKind = 'required_engine_version';
    const p = this.get(map, 'required_engine_version')!;
    const v = p.value;
    if (!isScalar(v) || v.value === null) this.error('LOAD_ERR_YAML_VALIDATE', 'required_engine_version must be a version', this.at(p.key));
    const text = typeof v.value === 'number' ? `0.${v.value}.0` : String(v.value);
    this.itemName = text;
    if (semver.parse(text.trim()) === null) this.error('LOAD_ERR_YAML_VALIDATE', `unable to parse engine version '${text}' as a semver string`, this.at(v));
    if (!versionSatisfies(ENGINE_VERSION, text)) this.error('LOAD_ERR_VALIDATE', `rules require engine version ${text}, but engine version is ${ENGINE_VERSION}`, this.at(v));
  }

  private readPluginVersions(map: YAMLMap): void {
    this.itemKind = 'required_plugin_versions';
    const p = this.get(map, 'required_plugin_versions')!;
    if (!isSeq(p.value)) this.error('LOAD_ERR_YAML_VALIDATE', 'required_plugin_versions must be a list', this.at(p.key));
    for (const entry of p.value.items) {
      if (!isMap(entry)) this.error('LOAD_ERR_YAML_VALIDATE', 'each required plugin must be a map with name and version', this.at(entry as YamlNode));
      const candidates: { name: string; version: string; node: Scalar }[] = [];
      const main = { name: this.str(entry, 'name', true)!, version: this.str(entry, 'version', true)! };
      this.itemName = main.name.value;
      candidates.push({ name: main.name.value, version: main.version.value, node: main.version.node });
      const alts = this.get(entry, 'alternatives');
      if (alts && isSeq(alts.value)) {
        for (const a of alts.value.items) {
          if (!isMap(a)) continue;
          const n = this.str(a, 'name', true)!;
          const ver = this.str(a, 'version', true)!;
          candidates.push({ name: n.value, version: ver.value, node: ver.node });
        }
      }
      const ok = candidates.some((c) => {
        const have = NATIVE_PLUGINS[c.name];
        return have !== undefined && versionSatisfies(have, c.version);
      });
      if (!ok) {
        this.error('LOAD_ERR_VALIDATE', `plugin '${main.name.value}' version ${main.version.value} is required but not provided (Lanner provides: ${Object.entries(NATIVE_PLUGINS).map(([k, v]) => `${k} ${v}`).join(', ')})`, this.at(main.name.node));
      }
    }
  }

  private readList(map: YAMLMap): void {
    this.itemKind = 'list';
    const name = this.str(map, 'list', true)!;
    this.itemName = name.value;
    this.checkKeys(map, LIST_KEYS);
    if (!/^[^()"'\s=,]+$/.test(name.value)) this.warn('LOAD_INVALID_LIST_NAME', `list name '${name.value}' contains invalid characters`, this.at(name.node));
    const itemsPair = this.get(map, 'items');
    if (!itemsPair) this.error('LOAD_ERR_YAML_VALIDATE', "item has no mapping for key 'items'", this.at(map));
    if (!isSeq(itemsPair.value) && !(isScalar(itemsPair.value) && itemsPair.value.value === null)) this.error('LOAD_ERR_YAML_VALIDATE', "value for 'items' must be a sequence", this.at(itemsPair.value ?? itemsPair));
    const items: string[] = [];
    if (isSeq(itemsPair.value)) {
      for (const it of itemsPair.value.items) {
        if (!isScalar(it) || it.value === null || typeof it.value === 'object') this.error('LOAD_ERR_YAML_VALIDATE', 'list items must be scalars', this.at(it as YamlNode));
        items.push(String(it.value));
      }
    }
    const legacyAppend = this.bool(map, 'append') === true;
    if (legacyAppend) this.warn('LOAD_DEPRECATED_ITEM', "'append: true' is deprecated; use 'override: {items: append}'", this.at(this.get(map, 'append')!.key));
    const ov = this.overrides(map, ['items'], new Set(['items']), new Set(['items']));
    const existing = this.out.lists.get(name.value);
    const how = legacyAppend ? 'append' : ov?.get('items');
    if (legacyAppend || ov) {
      if (!existing) this.error('LOAD_ERR_VALIDATE', `list '${name.value}' has 'append' or 'override' but no list by that name is defined yet`, this.at(name.node));
      if (how === 'append') {
        if (items.length === 0) this.warn('LOAD_APPEND_NO_VALUES', 'append with no values', this.at(itemsPair.key));
        existing.items.push(...items);
      } else if (how === 'replace') existing.items = items;
      return;
    }
    if (existing) existing.items = items;
    else this.out.lists.set(name.value, { name: name.value, index: this.counter.next++, pos: this.at(name.node), items, used: false });
  }

  private readMacro(map: YAMLMap): void {
    this.itemKind = 'macro';
    const name = this.str(map, 'macro', true)!;
    this.itemName = name.value;
    this.checkKeys(map, MACRO_KEYS);
    if (!/^[a-zA-Z]+[a-zA-Z0-9_]*$/.test(name.value)) this.warn('LOAD_INVALID_MACRO_NAME', `macro name '${name.value}' should match [a-zA-Z]+[a-zA-Z0-9_]*`, this.at(name.node));
    const cond = this.str(map, 'condition', true)!;
    const legacyAppend = this.bool(map, 'append') === true;
    if (legacyAppend) this.warn('LOAD_DEPRECATED_ITEM', "'append: true' is deprecated; use 'override: {condition: append}'", this.at(this.get(map, 'append')!.key));
    const ov = this.overrides(map, ['condition'], new Set(['condition']), new Set(['condition']));
    const existing = this.out.macros.get(name.value);
    const text = this.posText(cond);
    if (legacyAppend || ov) {
      if (!existing) this.error('LOAD_ERR_VALIDATE', `macro '${name.value}' has 'append' or 'override' but no macro by that name is defined yet`, this.at(name.node));
      const how = legacyAppend ? 'append' : ov!.get('condition');
      existing.condition = how === 'append' ? existing.condition.concat(PosText.fixed(' ', this.at(cond.node)), text) : text;
      return;
    }
    if (existing) existing.condition = text;
    else this.out.macros.set(name.value, { name: name.value, index: this.counter.next++, pos: this.at(name.node), condition: text, used: false });
  }

  private readTags(map: YAMLMap): Set<string> | undefined {
    const p = this.get(map, 'tags');
    if (!p) return undefined;
    if (isScalar(p.value) && p.value.value === null) return new Set();
    if (!isSeq(p.value)) this.error('LOAD_ERR_YAML_VALIDATE', "value for 'tags' must be a sequence of strings", this.at(p.value ?? p));
    const tags = new Set<string>();
    for (const t of p.value.items) {
      if (!isScalar(t) || t.value === null || typeof t.value === 'object') this.error('LOAD_ERR_YAML_VALIDATE', 'tags must be strings', this.at(t as YamlNode));
      tags.add(String(t.value));
    }
    return tags;
  }

  /** Lanner's `actions`: a sequence of RULE_ACTIONS (Falco's loader warns of the unknown key and ignores it). */
  private readActions(map: YAMLMap): RuleAction[] | undefined {
    const p = this.get(map, 'actions');
    if (!p) return undefined;
    if (isScalar(p.value) && p.value.value === null) return [];
    if (!isSeq(p.value)) this.error('LOAD_ERR_YAML_VALIDATE', `value for 'actions' must be a sequence of ${RULE_ACTIONS.join(', ')}`, this.at(p.value ?? p));
    const out: RuleAction[] = [];
    for (const a of p.value.items) {
      const v = isScalar(a) ? a.value : undefined;
      if (!(RULE_ACTIONS as readonly unknown[]).includes(v)) this.error('LOAD_ERR_YAML_VALIDATE', `unknown action '${String(v)}' (known: ${RULE_ACTIONS.join(', ')})`, this.at(a as YamlNode));
      if (!out.includes(v as RuleAction)) out.push(v as RuleAction);
    }
    return out;
  }

  private enforcementMode(map: YAMLMap): EnforcementMode | undefined {
    const s = this.str(map, 'enforcement', false);
    if (!s) return undefined;
    if (s.value !== 'monitor' && s.value !== 'enforce') this.error('LOAD_ERR_YAML_VALIDATE', "value for 'enforcement' must be monitor or enforce", this.at(s.node));
    return s.value;
  }

  private readExceptions(map: YAMLMap): ExceptionInfo[] | undefined {
    const p = this.get(map, 'exceptions');
    if (!p) return undefined;
    if (isScalar(p.value) && p.value.value === null) return [];
    if (!isSeq(p.value)) this.error('LOAD_ERR_YAML_VALIDATE', "value for 'exceptions' must be a sequence", this.at(p.value ?? p));
    const out: ExceptionInfo[] = [];
    const seen = new Set<string>();
    const prevKind = this.itemKind;
    for (const e of p.value.items) {
      if (!isMap(e)) this.error('LOAD_ERR_YAML_VALIDATE', 'each exception must be a map', this.at(e as YamlNode));
      const name = this.str(e, 'name', true)!;
      if (seen.has(name.value)) this.error('LOAD_ERR_YAML_VALIDATE', `exception name '${name.value}' is not unique in this item (LOAD_EXCEPTION_NAME_NOT_UNIQUE)`, this.at(name.node));
      seen.add(name.value);
      for (const kp of e.items) {
        const k = isScalar(kp.key) ? String(kp.key.value) : '?';
        if (!['name', 'fields', 'comps', 'values'].includes(k)) this.warn('LOAD_UNKNOWN_KEY', `unknown exception key '${k}' ignored`, this.at(kp.key as YamlNode));
      }
      const scalarOrList = (key: string): string[] | string | undefined => {
        const q = this.get(e, key);
        if (!q || (isScalar(q.value) && q.value.value === null)) return undefined;
        if (isScalar(q.value)) return String(q.value.value);
        if (isSeq(q.value)) {
          return q.value.items.map((x) => {
            if (!isScalar(x) || typeof x.value === 'object') this.error('LOAD_ERR_YAML_VALIDATE', `exception '${key}' entries must be scalars`, this.at(x as YamlNode));
            return String(x.value);
          });
        }
        this.error('LOAD_ERR_YAML_VALIDATE', `exception '${key}' must be a string or a list`, this.at(q.value ?? q));
      };
      const fields = scalarOrList('fields');
      const comps = scalarOrList('comps');
      const valuesPair = this.get(e, 'values');
      const values: (ExceptionValue | ExceptionValue[])[] = [];
      if (valuesPair && isSeq(valuesPair.value)) {
        for (const v of valuesPair.value.items) {
          if (isScalar(v)) values.push(String(v.value));
          else if (isSeq(v)) {
            values.push(
              v.items.map((x) => {
                if (isScalar(x)) return String(x.value);
                if (isSeq(x)) return x.items.map((y) => (isScalar(y) ? String(y.value) : ''));
                this.error('LOAD_ERR_YAML_VALIDATE', 'exception values must be scalars or lists', this.at(x as YamlNode));
              }),
            );
          } else this.error('LOAD_ERR_YAML_VALIDATE', 'exception values must be scalars or lists', this.at(v as YamlNode));
        }
      } else if (valuesPair && !(isScalar(valuesPair.value) && valuesPair.value.value === null)) {
        this.error('LOAD_ERR_YAML_VALIDATE', "exception 'values' must be a sequence", this.at(valuesPair.value ?? valuesPair));
      }
      out.push({ name: name.value, pos: this.at(name.node), fields: fields ?? [], comps, values: values as ExceptionValue[] | ExceptionValue[][] });
    }
    this.itemKind = prevKind;
    return out;
  }

  private readRule(map: YAMLMap): void {
    this.itemKind = 'rule';
    const name = this.str(map, 'rule', true)!;
    this.itemName = name.value;
    this.checkKeys(map, RULE_KEYS);
    const existing = this.out.rules.get(name.value);
    const legacyAppend = this.bool(map, 'append') === true;
    const ov = this.overrides(map, [...RULE_REPLACEABLE], RULE_APPENDABLE, RULE_REPLACEABLE);
    const enabled = this.bool(map, 'enabled');

    if (legacyAppend || ov) {
      if (!existing) this.error('LOAD_ERR_VALIDATE', `rule '${name.value}' has 'append' or 'override' but no rule by that name is defined yet`, this.at(name.node));
      if (legacyAppend) {
        this.warn('LOAD_DEPRECATED_ITEM', "'append: true' is deprecated; use 'override'", this.at(this.get(map, 'append')!.key));
        for (const k of ['output', 'desc', 'priority', 'tags', 'source', 'enabled', 'warn_evttypes', 'skip-if-unknown-filter']) {
          if (this.has(map, k)) this.error('LOAD_ERR_YAML_VALIDATE', `rule with 'append: true' may only carry 'condition' and/or 'exceptions', not '${k}'`, this.at(this.get(map, k)!.key));
        }
        if (!this.has(map, 'condition') && !this.has(map, 'exceptions')) this.error('LOAD_ERR_YAML_VALIDATE', "rule with 'append: true' must have 'condition' or 'exceptions'", this.at(name.node));
      }
      const how = (k: string): 'append' | 'replace' | undefined => (legacyAppend ? (this.has(map, k) ? 'append' : undefined) : ov!.get(k));
      const cond = this.str(map, 'condition', false);
      if (cond) {
        const t = this.posText(cond);
        existing.condition = how('condition') === 'append' ? existing.condition.concat(PosText.fixed(' ', this.at(cond.node)), t) : t;
      }
      const output = this.str(map, 'output', false);
      if (output) {
        const t = this.posText(output);
        existing.output = how('output') === 'append' ? existing.output.concat(PosText.fixed(' ', this.at(output.node)), t) : t;
      }
      const desc = this.str(map, 'desc', false);
      if (desc) existing.desc = how('desc') === 'append' ? `${existing.desc} ${desc.value}` : desc.value;
      const tags = this.readTags(map);
      if (tags) existing.tags = how('tags') === 'append' ? new Set([...existing.tags, ...tags]) : tags;
      const exceptions = this.readExceptions(map);
      if (exceptions) {
        if (how('exceptions') === 'append') this.appendExceptions(existing, exceptions);
        else existing.exceptions = exceptions;
      }
      const prio = this.str(map, 'priority', false);
      if (prio) existing.priority = this.priority(prio);
      if (enabled !== undefined) existing.enabled = enabled;
      const we = this.bool(map, 'warn_evttypes');
      if (we !== undefined) existing.warnEvttypes = we;
      const sk = this.bool(map, 'skip-if-unknown-filter');
      if (sk !== undefined) existing.skipIfUnknownFilter = sk;
      const cap = this.bool(map, 'capture');
      if (cap !== undefined) existing.capture = cap;
      const capDur = this.durationMs(map, 'capture_duration');
      if (capDur !== undefined) existing.captureDuration = capDur;
      const actions = this.readActions(map);
      if (actions) existing.actions = actions;
      const mode = this.enforcementMode(map);
      if (mode) existing.enforcement = mode;
      return;
    }

    const hasAny = ['condition', 'output', 'desc', 'priority'].some((k) => this.has(map, k));
    if (!hasAny) {
      if (enabled === undefined) this.error('LOAD_ERR_YAML_VALIDATE', "item has no mapping for key 'condition'", this.at(map));
      if (!existing) this.error('LOAD_ERR_VALIDATE', `rule '${name.value}' only sets 'enabled' but no rule by that name is defined yet`, this.at(name.node));
      this.warn('LOAD_DEPRECATED_ITEM', "enabling/disabling a rule with only 'enabled' is deprecated; use 'override: {enabled: replace}'", this.at(this.get(map, 'enabled')!.key));
      existing.enabled = enabled;
      return;
    }

    const cond = this.str(map, 'condition', true)!;
    const output = this.str(map, 'output', true)!;
    const desc = this.str(map, 'desc', true)!;
    const prio = this.str(map, 'priority', true)!;
    const source = this.str(map, 'source', false)?.value ?? 'syscall';
    const trimmed = output.value.trim();
    const lead = output.value.indexOf(trimmed);
    const outText = this.posText(output).slice(lead, lead + trimmed.length);
    const exceptions = this.readExceptions(map) ?? [];
    const info = {
      name: name.value,
      pos: this.at(name.node),
      condition: this.posText(cond),
      output: outText,
      desc: desc.value,
      priority: this.priority(prio),
      source,
      enabled: enabled ?? true,
      tags: this.readTags(map) ?? new Set<string>(),
      exceptions,
      warnEvttypes: this.bool(map, 'warn_evttypes') ?? true,
      skipIfUnknownFilter: this.bool(map, 'skip-if-unknown-filter') ?? false,
      capture: this.bool(map, 'capture') ?? false,
      captureDuration: this.durationMs(map, 'capture_duration') ?? 0,
      actions: this.readActions(map) ?? [],
      enforcement: this.enforcementMode(map),
    };
    // A redefinition replaces the content but keeps the original evaluation position.
    if (existing) Object.assign(existing, info, { index: existing.index, pos: existing.pos });
    else this.out.rules.set(name.value, { ...info, index: this.counter.next++ });
  }

  private appendExceptions(rule: RuleInfo, add: ExceptionInfo[]): void {
    for (const e of add) {
      const cur = rule.exceptions.find((x) => x.name === e.name);
      if (!cur) {
        if ((Array.isArray(e.fields) ? e.fields.length === 0 : !e.fields) || e.values.length === 0) {
          this.error('LOAD_ERR_YAML_VALIDATE', `appended exception '${e.name}' is new and needs 'fields' and 'values'`, e.pos);
        }
        rule.exceptions.push(e);
        continue;
      }
      if (e.values.length === 0) this.warn('LOAD_APPEND_NO_VALUES', `append to exception '${e.name}' with no values`, e.pos);
      (cur.values as unknown[]).push(...(e.values as unknown[]));
    }
  }

  private priority(p: { value: string; node: Scalar }): PriorityNum {
    const n = parsePriority(p.value);
    if (n === undefined) this.error('LOAD_ERR_YAML_VALIDATE', `invalid priority level: ${p.value}`, this.at(p.node));
    return n;
  }
}

function emptyCollection(): RuleCollection {
  return { lists: new Map(), macros: new Map(), rules: new Map(), errors: [], warnings: [] };
}

/** Reads the files in order into one collection; each file stops at its own first error. */
export function readRulesFiles(files: readonly RulesFileInput[]): RuleCollection {
  const out = emptyCollection();
  const counter = { next: 0 };
  for (const f of files) new FileReader(f, out, counter).read();
  return out;
}
