/**
 * Events that are JSON documents (the `k8s_audit` source): the extraction context that carries one
 * parsed document, and the field classes every JSON source has: `json.*` with its `jevt.*` aliases
 * (the json plugin's fields: RFC 6901 pointer access, the whole document, the event time) and the
 * source-independent `evt.*` fields (number, time, source, host).
 *
 * Values follow the plugins' conventions: a JSON string is itself, any other JSON value is its
 * compact JSON text (`200`, `true`, `{"a":1}`); a missing value is not extractable.
 */
import type { ContainerInfo, FdInfo, ProcessInfo, StateReader } from '../../state/types';
import { ExtractContext, type FieldValue } from '../context';
import { field, fieldWithArg, type FieldDef } from './field';
import { dateTime, isoTime, timeOfDay } from './time';

/** JSON sources read no process, fd or container state. */
const NO_STATE: StateReader = {
  process: (): ProcessInfo | undefined => undefined,
  fd: (): FdInfo | undefined => undefined,
  container: (): ContainerInfo | undefined => undefined,
  containerIdOfCgroup: (): string => '',
  userName: (): string | undefined => undefined,
  groupName: (): string | undefined => undefined,
  ipNames: (): readonly string[] | undefined => undefined,
};

/** What a JSON event adds to its extraction context. */
interface JsonEventState {
  doc: unknown;
  timeNs: bigint;
  readonly source: string;
  readonly pluginName: string;
}

/**
 * The JSON event behind a context. Kept beside the context, not in a subclass of it: the syscall
 * engine's contexts and these then share one hidden class, so the compiled predicates and memo
 * closures they have in common stay monomorphic on the syscall hot path.
 */
const jsonEvents = new WeakMap<ExtractContext, JsonEventState>();

/**
 * The extraction context of a JSON event source: a plain `ExtractContext` (compiled predicates
 * and outputs run on it unchanged) with the current document beside it. Only fields of the
 * source's own catalogue are compiled against it, so the syscall members are never read.
 */
export class JsonEventSession {
  readonly ctx: ExtractContext;
  private readonly state: JsonEventState;

  constructor(source: string, pluginName: string, slotCount: number, nodeCount: number, hostname: string) {
    this.ctx = new ExtractContext(NO_STATE, slotCount, nodeCount, 0n, hostname);
    this.state = { doc: undefined, timeNs: 0n, source, pluginName };
    jsonEvents.set(this.ctx, this.state);
  }

  /** Starts a new event: invalidates every memo (the stamp scheme of `ExtractContext.reset`). */
  begin(doc: unknown, timeNs: bigint, evtNum: number): void {
    this.state.doc = doc;
    this.state.timeNs = timeNs;
    const c = this.ctx;
    c.evtNum = evtNum;
    if (++c.stamp === 0xffffffff) {
      c.stamp = 1;
      c.slotStamp.fill(0);
      c.nodeStamp.fill(0);
    }
  }
}

/** The document of a JSON event; undefined for any other context. */
export function docOf(c: ExtractContext): unknown {
  return jsonEvents.get(c)?.doc;
}

/** A JSON value as field text: strings as they are, anything else as compact JSON; undefined stays undefined. */
export function jsonText(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A member of an object (or an element of an array by decimal index); undefined otherwise. */
export function member(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return /^\d+$/.test(key) ? (v as unknown[])[Number(key)] : undefined;
  return Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/** Walks object members by key; undefined as soon as one is missing. */
export function path(v: unknown, keys: readonly string[]): unknown {
  let cur = v;
  for (let i = 0; i < keys.length && cur !== undefined; i++) cur = member(cur, keys[i]!);
  return cur;
}

/** RFC 6901 reference tokens of a pointer (`/a/b~1c` → ['a', 'b/c']); the leading '/' is optional, as in the json plugin. */
export function pointerTokens(pointer: string): string[] {
  const p = pointer.startsWith('/') ? pointer.slice(1) : pointer;
  return p.split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(arg: string | undefined): (c: ExtractContext) => FieldValue | undefined {
  if (arg === undefined || arg === '') return (c) => jsonText(docOf(c));
  const tokens = pointerTokens(arg);
  return (c) => jsonText(path(docOf(c), tokens));
}

const wholeDocument = (c: ExtractContext): string | undefined => {
  const d = docOf(c);
  return d === undefined ? undefined : JSON.stringify(d, null, 2);
};
const evtTimeNs = (c: ExtractContext): bigint | undefined => jsonEvents.get(c)?.timeNs;
const rawTime = (c: ExtractContext): string | undefined => {
  const t = evtTimeNs(c);
  return t === undefined ? undefined : String(t);
};

/** `json.*` and the `jevt.*` aliases (kept for rules written for Falco's built-in k8s audit support). */
export const JSON_FIELDS: readonly FieldDef[] = (['json', 'jevt'] as const).flatMap((cls) => [
  fieldWithArg(`${cls}.value`, 'string', 'the value at a JSON pointer [/a/b] (RFC 6901); strings as text, other values as JSON', valueAt, { arg: 'key' }),
  field(`${cls}.obj`, 'string', 'the whole JSON event, indented', wholeDocument),
  field(`${cls}.rawtime`, 'string', 'the event time in ns since the epoch, as text', rawTime),
]);

/** The `evt.*` fields that mean the same for every source. */
export const JSON_EVT_FIELDS: readonly FieldDef[] = [
  field('evt.num', 'uint64', 'event sequence number in this source', (c) => c.evtNum),
  field('evt.time', 'abstime', 'event timestamp (text: time of day with ns)', evtTimeNs, { text: timeOfDay }),
  field('evt.time.s', 'string', 'event time of day, seconds precision', (c) => {
    const t = evtTimeNs(c);
    return t === undefined ? undefined : timeOfDay(t).slice(0, 8);
  }),
  field('evt.time.iso8601', 'string', 'event timestamp as ISO 8601 with ns', (c) => {
    const t = evtTimeNs(c);
    return t === undefined ? undefined : isoTime(t);
  }),
  field('evt.datetime', 'string', 'event date and time with ns', (c) => {
    const t = evtTimeNs(c);
    return t === undefined ? undefined : dateTime(t);
  }),
  field('evt.rawtime', 'abstime', 'event timestamp in ns since the epoch', evtTimeNs),
  field('evt.source', 'string', "event source, e.g. 'k8s_audit'", (c) => jsonEvents.get(c)?.source),
  field('evt.pluginname', 'string', 'plugin Falco would attribute the event to', (c) => jsonEvents.get(c)?.pluginName),
  field('evt.hostname', 'string', 'host name of the node', (c) => c.hostname),
];
