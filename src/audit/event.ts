/**
 * The k8s_audit event model: an `audit.k8s.io/v1` Event as its parsed JSON document plus its time
 * (`stageTimestamp`, as the k8saudit plugin stamps events), and the decoding shared by both inputs.
 * A log line holds one Event; a webhook body holds an EventList. Anything else is bad input,
 * reported by kind and never fatal.
 */

export const AUDIT_API_VERSION = 'audit.k8s.io/v1';

export interface AuditEvent {
  /** The Event object as parsed (read by the `ka.*` and `jevt.*` fields). */
  readonly doc: Readonly<Record<string, unknown>>;
  /** `stageTimestamp` in ns since the epoch. */
  readonly timeNs: bigint;
}

/** Why input was skipped; each kind is counted and logged on its own. */
export const BAD_INPUT_KINDS = ['malformed_json', 'too_large', 'api_version', 'not_an_audit_event', 'invalid_event', 'torn_line', 'request_too_large', 'bad_request'] as const;
export type BadInputKind = (typeof BAD_INPUT_KINDS)[number];

export interface DecodeSink {
  event(ev: AuditEvent): void;
  bad(kind: BadInputKind, detail: string): void;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 with up to nine fraction digits (Kubernetes' MicroTime) → ns since the epoch. */
export function rfc3339ToNs(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]!.toUpperCase()}`);
  if (!Number.isFinite(ms)) return undefined;
  const frac = m[2] === undefined ? 0n : BigInt(m[2].padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + frac;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Decodes one JSON text (a log line or a webhook body) into events. Accepts an Event, an
 * EventList, or an array of either (what the plugin accepts). Items of an EventList may omit
 * apiVersion/kind (they inherit the list's); when present they must be `audit.k8s.io/v1`/`Event`.
 * `maxEventBytes` bounds one event's serialized size; when the whole text is within it, no item
 * is measured. Returns the number of events delivered.
 */
export function decodeAuditJson(text: string, maxEventBytes: number, sink: DecodeSink): number {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    sink.bad('malformed_json', (err as Error).message);
    return 0;
  }
  const measure = Buffer.byteLength(text) > maxEventBytes;
  let delivered = 0;
  const item = (v: unknown, inList: boolean): void => {
    if (!isObject(v)) return sink.bad('not_an_audit_event', 'an EventList item is not an object');
    const apiVersion = v.apiVersion;
    if ((apiVersion !== undefined || !inList) && apiVersion !== AUDIT_API_VERSION) return sink.bad('api_version', `apiVersion ${JSON.stringify(apiVersion)}`);
    if (v.kind !== undefined && v.kind !== 'Event') return sink.bad('not_an_audit_event', `kind ${JSON.stringify(v.kind)} in an EventList`);
    if (typeof v.auditID !== 'string' || v.auditID === '') return sink.bad('invalid_event', 'no auditID');
    const timeNs = typeof v.stageTimestamp === 'string' ? rfc3339ToNs(v.stageTimestamp) : undefined;
    if (timeNs === undefined) return sink.bad('invalid_event', `auditID ${v.auditID}: no valid stageTimestamp`);
    if (measure) {
      const size = Buffer.byteLength(JSON.stringify(v));
      if (size > maxEventBytes) return sink.bad('too_large', `auditID ${v.auditID}: ${size} bytes > max_event_bytes ${maxEventBytes}`);
    }
    delivered++;
    sink.event({ doc: v, timeNs });
  };
  const top = (v: unknown, depth: number): void => {
    if (Array.isArray(v) && depth === 0) {
      for (const x of v as unknown[]) top(x, 1);
      return;
    }
    if (!isObject(v)) return sink.bad('not_an_audit_event', 'not a JSON object');
    if (v.kind === 'EventList') {
      if (v.apiVersion !== AUDIT_API_VERSION) return sink.bad('api_version', `EventList apiVersion ${JSON.stringify(v.apiVersion)}`);
      if (!Array.isArray(v.items)) return sink.bad('not_an_audit_event', 'EventList without items');
      for (const x of v.items as unknown[]) item(x, true);
      return;
    }
    if (v.kind === 'Event') return item(v, false);
    sink.bad('not_an_audit_event', `kind ${JSON.stringify(v.kind)}`);
  };
  top(value, 0);
  return delivered;
}
