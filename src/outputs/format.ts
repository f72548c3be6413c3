/**
 * Falco-compatible alert serialisation. Falco builds its JSON with nlohmann::json, whose objects
 * are sorted maps, so byte compatibility means sorted keys at every level, and ns timestamps that
 * exceed 2^53 must be written from BigInt digits, never through a JS Number.
 */
import { PRIORITY_NAMES, type Alert, type OutputFieldValue } from './alert';
import { isoTimeNs, timeOfDayNs } from '../lib/time-format';
import { escapeControlText } from './text-escape';

export interface FormatOptions {
  /** JSON lines when true, Falco's text line (the `output` string) when false. */
  readonly jsonOutput: boolean;
  readonly includeOutput: boolean;
  readonly includeMessage: boolean;
  readonly includeOutputFields: boolean;
  readonly includeTags: boolean;
  /** Prefix time as ISO 8601 (`evt.time.iso8601`) instead of time of day (`evt.time`). */
  readonly timeIso8601: boolean;
}

export const FALCO_DEFAULT_FORMAT: FormatOptions = {
  jsonOutput: true,
  includeOutput: true,
  includeMessage: false,
  includeOutputFields: true,
  includeTags: true,
  timeIso8601: false,
};

/** The `output` string: `<time>: <Priority> <message>`; escaped, it is the whole text-mode line. */
export function formatOutputText(alert: Alert, timeIso8601: boolean): string {
  const prefix = timeIso8601 ? isoTimeNs(alert.timeNs) : timeOfDayNs(alert.timeNs);
  return `${prefix}: ${PRIORITY_NAMES[alert.priority]} ${alert.message}`;
}

function jsonValue(v: OutputFieldValue | undefined): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return 'null';
  }
}

/** Field names repeat across alerts of a rule set: quote each once (bounded, in case names are not). */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;

function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size >= QUOTED_KEYS_MAX) quotedKeys.clear();
    quotedKeys.set(key, q);
  }
  return q;
}

function outputFieldsJson(alert: Alert, timeKey: string): string {
  const fields = alert.outputFields;
  const keys = Object.keys(fields);
  if (!(timeKey in fields)) keys.push(timeKey);
  keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    // The prefix time is always the event time, whatever the rule output carried under that key.
    out += `${quoted(k)}:${k === timeKey ? alert.timeNs.toString() : jsonValue(fields[k])}`;
  }
  return out + '}';
}

/** A rule's tags are one array shared by all its alerts: render it once. */
const tagsMemo = new WeakMap<readonly string[], string>();

function tagsJson(tags: readonly string[]): string {
  const memo = tagsMemo.get(tags);
  if (memo !== undefined) return memo;
  const json = renderTags(tags);
  tagsMemo.set(tags, json);
  return json;
}

function renderTags(tags: readonly string[]): string {
  // Falco emits tags sorted and unique; the contract says callers already did that, but a
  // serialiser that trusted it would let one careless producer break byte compatibility.
  const sorted = [...new Set(tags)].sort();
  let out = '[';
  for (let i = 0; i < sorted.length; i++) out += (i > 0 ? ',' : '') + JSON.stringify(sorted[i]);
  return out + ']';
}

/**
 * One Falco JSON alert, no trailing newline. Keys in alphabetical order, as Falco writes them;
 * the identity (`agent_id`, `seq`, `uuid`) is three extra top-level keys, which a Falco receiver
 * (falcosidekick) ignores.
 */
export function formatJson(alert: Alert, opts: FormatOptions): string {
  let out = alert.agentId === undefined ? '{' : `{"agent_id":${JSON.stringify(alert.agentId)},`;
  out += `"hostname":${JSON.stringify(alert.hostname)}`;
  if (opts.includeMessage) out += `,"message":${JSON.stringify(alert.message)}`;
  if (opts.includeOutput) out += `,"output":${JSON.stringify(formatOutputText(alert, opts.timeIso8601))}`;
  if (opts.includeOutputFields) out += `,"output_fields":${outputFieldsJson(alert, opts.timeIso8601 ? 'evt.time.iso8601' : 'evt.time')}`;
  out += `,"priority":${JSON.stringify(PRIORITY_NAMES[alert.priority])}`;
  out += `,"rule":${JSON.stringify(alert.rule)}`;
  if (alert.seq !== undefined) out += `,"seq":${alert.seq}`;
  out += `,"source":${JSON.stringify(alert.source)}`;
  if (opts.includeTags) out += `,"tags":${tagsJson(alert.tags)}`;
  out += `,"time":"${isoTimeNs(alert.timeNs)}"`;
  return alert.uuid === undefined ? `${out}}` : `${out},"uuid":${JSON.stringify(alert.uuid)}}`;
}

/** The identity at the end of a text line: ` (seq=12 uuid=… agent_id=…)`, or nothing before stamping. */
function identitySuffix(alert: Alert): string {
  if (alert.seq === undefined) return '';
  return ` (seq=${alert.seq} uuid=${alert.uuid ?? ''} agent_id=${alert.agentId ?? ''})`;
}

/**
 * The line a sink writes for an alert under the configured format (no newline). The text line is
 * escaped as a whole: the message holds values a watched process chose, and no control character
 * in it may end the line or reach a terminal (the prefix has none of its own). The text line ends
 * with the identity: whatever the message holds, the last parenthesis is the agent's.
 */
export function formatLine(alert: Alert, opts: FormatOptions): string {
  return opts.jsonOutput ? formatJson(alert, opts) : escapeControlText(formatOutputText(alert, opts.timeIso8601)) + identitySuffix(alert);
}

/**
 * Several sinks write the same line for one alert; the memo keeps it to one serialisation per
 * alert. A WeakMap, so an alert dropped everywhere costs nothing to forget.
 */
export class LineFormatter {
  private readonly memo = new WeakMap<Alert, string>();
  constructor(readonly options: FormatOptions) {}

  line(alert: Alert): string {
    let s = this.memo.get(alert);
    if (s === undefined) {
      s = formatLine(alert, this.options);
      this.memo.set(alert, s);
    }
    return s;
  }

  get contentType(): string {
    return this.options.jsonOutput ? 'application/json' : 'text/plain';
  }
}

/** gRPC's `output_fields` is `map<string,string>`: every value stringified, null as `<NA>`. */
export function stringifyFieldValue(v: OutputFieldValue | undefined): string {
  if (v === null || v === undefined) return '<NA>';
  return typeof v === 'string' ? v : String(v);
}
