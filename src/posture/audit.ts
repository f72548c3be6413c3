/**
 * Looks a test item up in a component's audit sources with kube-bench's precedence —
 * command line, then config file, then environment — and evaluates the item and the check.
 *
 * Unlike kube-bench, a value set nowhere falls back to the component's documented default for the
 * mode it runs in (see defaults.ts), so "not set" is judged by what the component really does: a
 * `set: false` item ("not set passes") stands only for a safe default, and where the default is
 * known the compare item judges it instead.
 */
import { compareValue, describeCompare, parseGoDuration, type Compare } from './compare';
import type { CheckStatus } from './types';

export interface TestItem {
  /** Flag name without dashes, e.g. `anonymous-auth`. */
  readonly flag: string;
  /** Look the value up as a gate inside `--feature-gates` (and `featureGates` in the config file). */
  readonly featureGate?: string;
  /** Key path into the parsed config file; arrays are joined with `,`. */
  readonly path?: readonly string[];
  /** The same path as kube-bench spells it (JSONPath), for reports. */
  readonly pathText?: string;
  readonly env?: string;
  /** false: the item passes only when the flag is absent everywhere. */
  readonly set: boolean;
  readonly compare?: Compare;
  /** The value is a Go duration: compared as nanoseconds (`0s` is 0), unparseable fails. */
  readonly duration?: boolean;
}

export interface AuditSources {
  readonly argv: readonly string[];
  /** Parsed config file (kubelet/kube-proxy `--config`), when there is one. */
  readonly config?: unknown;
  readonly env?: ReadonlyMap<string, string>;
  /** Documented defaults by flag name (feature gates as `feature-gates:Name`), for the mode the component runs in. */
  readonly defaults?: ReadonlyMap<string, string>;
}

export interface Lookup {
  readonly found: boolean;
  readonly value: string;
  readonly source: 'command line' | 'config file' | 'environment' | 'default' | 'none';
}

const NOT_FOUND: Lookup = { found: false, value: '', source: 'none' };

function flagName(token: string): { name: string; inline: string | undefined } | undefined {
  if (!token.startsWith('-') || token === '-' || token === '--') return undefined;
  const body = token.startsWith('--') ? token.slice(2) : token.slice(1);
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, inline: undefined } : { name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

/**
 * Value of a flag on the command line; the last occurrence wins (as Go's flag parsers do). The
 * space-separated form is read only when a value is wanted and the next token is not a flag.
 */
export function lookupFlag(argv: readonly string[], flag: string, wantsValue: boolean): Lookup {
  let result: Lookup = NOT_FOUND;
  for (let i = 1; i < argv.length; i++) {
    const parsed = flagName(argv[i]!);
    if (!parsed || parsed.name !== flag) continue;
    let value: string;
    if (parsed.inline !== undefined) value = parsed.inline;
    else if (wantsValue && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) value = argv[i + 1]!;
    else value = 'true';
    result = { found: true, value, source: 'command line' };
  }
  return result;
}

function featureGateValue(gates: string, gate: string): string | undefined {
  let value: string | undefined;
  for (const part of gates.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name === gate) value = eq < 0 ? 'true' : part.slice(eq + 1).trim();
  }
  return value;
}

function renderConfigValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    const parts = v.map(renderConfigValue).filter((s): s is string => s !== undefined);
    return parts.length === 0 ? undefined : parts.join(',');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  return s === '' ? undefined : s;
}

export function configValue(config: unknown, path: readonly string[]): string | undefined {
  let node: unknown = config;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return renderConfigValue(node);
}

export function lookupItem(item: TestItem, src: AuditSources): Lookup {
  const wantsValue = item.compare !== undefined;
  if (item.featureGate !== undefined) {
    const gates = lookupFlag(src.argv, 'feature-gates', true);
    const v = gates.found ? featureGateValue(gates.value, item.featureGate) : undefined;
    if (v !== undefined) return { found: true, value: v, source: 'command line' };
  } else {
    const onCmd = lookupFlag(src.argv, item.flag, wantsValue);
    if (onCmd.found) return onCmd;
  }
  if (src.config !== undefined && item.path) {
    const v = configValue(src.config, item.path);
    if (v !== undefined) return { found: true, value: v, source: 'config file' };
  }
  if (item.env !== undefined && src.env) {
    const v = src.env.get(item.env);
    if (v !== undefined) return { found: true, value: v, source: 'environment' };
  }
  const d = src.defaults?.get(defaultKey(item));
  if (d !== undefined) return { found: true, value: d, source: 'default' };
  return NOT_FOUND;
}

/** Key of an item in a defaults table: the flag name, or `feature-gates:Gate`. */
export function defaultKey(item: Pick<TestItem, 'flag' | 'featureGate'>): string {
  return item.featureGate !== undefined ? `feature-gates:${item.featureGate}` : item.flag;
}

export function evaluateItem(item: TestItem, found: Lookup): boolean {
  // A known default is not "unset": the item comparing the value judges it.
  if (!item.set) return !found.found;
  if (!found.found) return false;
  if (!item.compare) return true;
  if (item.duration) {
    const ns = parseGoDuration(found.value);
    return ns !== undefined && compareValue(String(ns), item.compare);
  }
  return compareValue(found.value, item.compare);
}

export function describeItem(item: TestItem): string {
  const name = item.featureGate ? `feature gate ${item.featureGate}` : `--${item.flag}`;
  if (!item.set) return `${name} not set`;
  return item.compare ? `${name} ${describeCompare(item.compare)}` : `${name} set`;
}

export function describeLookup(item: TestItem, found: Lookup): string {
  const name = item.featureGate ? item.featureGate : `--${item.flag}`;
  if (!found.found) return `${name} not set`;
  if (found.source === 'config file') return `${item.pathText ?? item.path?.join('.')}=${found.value} (config file)`;
  if (found.source === 'environment') return `${item.env}=${found.value} (environment)`;
  if (found.source === 'default') return `${name} not set (default ${found.value})`;
  return `${name}=${found.value}`;
}

/** kube-bench's status rule: manual → WARN; pass → PASS; scored failure → FAIL, unscored → WARN. */
export function statusOf(passed: boolean, scored: boolean, manual: boolean): CheckStatus {
  if (manual) return 'WARN';
  if (passed) return 'PASS';
  return scored ? 'FAIL' : 'WARN';
}
