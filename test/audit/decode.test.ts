/** Decoding audit input, and bad input: counted per kind, logged once per kind with a rate limit, never fatal. */
import { describe, expect, it } from 'vitest';
import { BadInputCounter } from '../../src/audit/bad-input';
import { decodeAuditJson, rfc3339ToNs, type AuditEvent, type BadInputKind } from '../../src/audit/event';
import { eventList, execIntoPod, healthCheck, secretReadBy } from './events';
import { auditConfig, captureLogger, stockSource, tempDir } from './helpers';

function decode(text: string, max = 262144): { events: AuditEvent[]; bad: BadInputKind[] } {
  const events: AuditEvent[] = [];
  const bad: BadInputKind[] = [];
  decodeAuditJson(text, max, { event: (e) => void events.push(e), bad: (k) => void bad.push(k) });
  return { events, bad };
}

describe('decoding', () => {
  it('an Event line, an EventList (items inherit kind and apiVersion), an array of Events', () => {
    expect(decode(JSON.stringify(execIntoPod())).events).toHaveLength(1);
    expect(decode(JSON.stringify(eventList([execIntoPod(), healthCheck(), secretReadBy('x')]))).events).toHaveLength(3);
    expect(decode(JSON.stringify([execIntoPod(), healthCheck()])).events).toHaveLength(2);
  });

  it('stageTimestamp to ns, with offsets and up to nine fraction digits', () => {
    expect(rfc3339ToNs('2026-12-02T07:00:01Z')).toBe(1796194801000000000n);
    expect(rfc3339ToNs('2026-12-02T07:00:01.000001Z')).toBe(1796194801000001000n);
    expect(rfc3339ToNs('2026-12-02T09:00:01.123456789+02:00')).toBe(1796194801123456789n);
    expect(rfc3339ToNs('yesterday')).toBeUndefined();
  });

  it('bad input of every kind is reported and the rest of the input still goes through', () => {
    const v1beta1 = { ...execIntoPod(), apiVersion: 'audit.k8s.io/v1beta1' };
    const noTime = { ...execIntoPod(), stageTimestamp: 'soon' };
    const big = { ...healthCheck(), requestObject: { blob: 'x'.repeat(5000) } };
    expect(decode('{"kind":"Event",').bad).toEqual(['malformed_json']);
    expect(decode(JSON.stringify(v1beta1)).bad).toEqual(['api_version']);
    expect(decode(JSON.stringify({ kind: 'Pod', apiVersion: 'v1' })).bad).toEqual(['not_an_audit_event']);
    expect(decode(JSON.stringify(noTime)).bad).toEqual(['invalid_event']);
    const list = eventList([execIntoPod(), big, healthCheck()]);
    (list.items as unknown[]).splice(2, 0, v1beta1); // an item that names another version
    const mixed = decode(JSON.stringify(list), 4096);
    expect(mixed.bad).toEqual(['too_large', 'api_version']);
    expect(mixed.events).toHaveLength(2);
    expect(decode(JSON.stringify({ ...eventList([execIntoPod()]), apiVersion: 'audit.k8s.io/v1beta1' })).bad).toEqual(['api_version']);
  });
});

describe('bad input accounting', () => {
  it('logs the first of each kind, then at most once per interval with the count left unlogged', () => {
    const { log, lines } = captureLogger();
    let now = 1_000_000;
    const c = new BadInputCounter(log, 60_000, () => now);
    for (let i = 0; i < 100; i++) c.note('malformed_json', 'file', 'Unexpected token');
    c.note('api_version', 'webhook', 'audit.k8s.io/v1beta1');
    expect(lines.map((l) => l.kind)).toEqual(['malformed_json', 'api_version']);
    now += 60_000;
    c.note('malformed_json', 'file', 'again');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ kind: 'malformed_json', total: 101, unloggedSinceLast: 99 });
    expect(c.byKind()).toMatchObject({ malformed_json: 101, api_version: 1, too_large: 0 });
    expect(c.total()).toBe(102);
  });

  it('a source goes on after garbage and counts it', () => {
    const t = stockSource(auditConfig(tempDir()));
    for (const junk of ['not json', '{}', '[1,2]', JSON.stringify({ ...secretReadBy('eve'), apiVersion: 'audit.k8s.io/v1alpha1' })]) t.source.ingest(junk, 'file');
    t.source.ingest(JSON.stringify(secretReadBy('mallory')), 'file');
    expect(t.fired()).toEqual(['Disallowed K8s User', 'K8s Secret Get Successfully']);
    expect(t.source.stats().badInput).toMatchObject({ malformed_json: 1, not_an_audit_event: 3, api_version: 1 });
    expect(t.lines.filter((l) => l.msg === 'k8s audit: bad input skipped').map((l) => l.kind)).toEqual(['malformed_json', 'not_an_audit_event', 'api_version']);
  });
});
