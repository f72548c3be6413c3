import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert, OutputFieldValue, PriorityNum } from '../../src/outputs/alert';
import { FALCO_DEFAULT_FORMAT, formatJson, formatLine, LineFormatter } from '../../src/outputs/format';
import { isoTimeNs, isoTimeUs, timeOfDayNs } from '../../src/lib/time-format';
import { makeAlert } from './helpers';
import { sidekickRejections } from './sidekick-validator';

// The worked example of the alerts reference (§1): shape and key order exact, taken from the spec text.
const REFERENCE_LINE =
  '{"hostname":"node-1","output":"10:00:00.123456789: Notice Shell spawned in container | evt_type=execve user=root ... container_id=3ad7b26ded6d container_name=web container_image_repository=nginx container_image_tag=1.27 k8s_pod_name=web-0 k8s_ns_name=shop","output_fields":{"container.id":"3ad7b26ded6d","container.image.repository":"nginx","container.image.tag":"1.27","container.name":"web","evt.time":1785492000123456789,"evt.type":"execve","k8s.ns.name":"shop","k8s.pod.name":"web-0","proc.cmdline":"bash","proc.name":"bash","proc.tty":34816,"user.loginuid":-1,"user.name":"root","user.uid":0},"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["T1059","container","maturity_stable","mitre_execution","shell"],"time":"2026-07-31T10:00:00.123456789Z"}';

const referenceAlert: Alert = {
  timeNs: 1785492000123456789n,
  rule: 'Terminal shell in container',
  priority: 5,
  source: 'syscall',
  message:
    'Shell spawned in container | evt_type=execve user=root ... container_id=3ad7b26ded6d container_name=web container_image_repository=nginx container_image_tag=1.27 k8s_pod_name=web-0 k8s_ns_name=shop',
  // Deliberately out of order: the serialiser must sort.
  outputFields: {
    'user.uid': 0,
    'proc.name': 'bash',
    'k8s.pod.name': 'web-0',
    'container.id': '3ad7b26ded6d',
    'user.loginuid': -1,
    'evt.type': 'execve',
    'container.name': 'web',
    'proc.tty': 34816,
    'container.image.tag': '1.27',
    'k8s.ns.name': 'shop',
    'user.name': 'root',
    'container.image.repository': 'nginx',
    'proc.cmdline': 'bash',
  },
  tags: ['shell', 'T1059', 'mitre_execution', 'container', 'maturity_stable'],
  hostname: 'node-1',
};

describe('Falco JSON alert serialiser', () => {
  it('reproduces the reference example byte for byte', () => {
    expect(formatJson(referenceAlert, FALCO_DEFAULT_FORMAT)).toBe(REFERENCE_LINE);
    expect(sidekickRejections(REFERENCE_LINE)).toEqual([]);
  });

  it('writes ns timestamps beyond 2^53 as exact digits', () => {
    const timeNs = 9007199254740993123n; // > 2^53 in every digit that matters
    const line = formatJson(makeAlert({ timeNs, outputFields: { 'container.start_ts': 1728133229850062067n } }), FALCO_DEFAULT_FORMAT);
    expect(line).toContain('"evt.time":9007199254740993123');
    expect(line).toContain('"container.start_ts":1728133229850062067');
    expect(Number(1728133229850062067n).toString()).not.toBe('1728133229850062067'); // a Number would have lost it
  });

  it('types fields: null for missing, booleans, negative ints, strings escaped like JSON.stringify', () => {
    const tricky = 'a"b\\c\n\t\u0001\u2028é😀';
    const line = formatJson(
      makeAlert({ outputFields: { 'k8s.pod.name': null, 'container.privileged': false, 'user.loginuid': -1, 'proc.cmdline': tricky, 'x.nan': Number.NaN } }),
      FALCO_DEFAULT_FORMAT,
    );
    expect(line).toContain('"k8s.pod.name":null');
    expect(line).toContain('"container.privileged":false');
    expect(line).toContain('"user.loginuid":-1');
    expect(line).toContain(`"proc.cmdline":${JSON.stringify(tricky)}`);
    expect(line).toContain('"x.nan":null');
    const parsed = JSON.parse(line) as { output_fields: Record<string, unknown> };
    expect(parsed.output_fields['proc.cmdline']).toBe(tricky);
  });

  it('formats time with exactly 9 fractional digits and Z, and the time-of-day prefix', () => {
    expect(isoTimeNs(5n)).toBe('1970-01-01T00:00:00.000000005Z');
    expect(isoTimeNs(1785492000123456789n)).toBe('2026-07-31T10:00:00.123456789Z');
    expect(timeOfDayNs(1785456000000000000n + 13n * 3600n * 1_000_000_000n + 53n * 60n * 1_000_000_000n + 31_726060287n)).toBe('13:53:31.726060287');
    expect(isoTimeUs(1785492000123456789n)).toBe('2026-07-31T10:00:00.123456Z');
  });

  it('honours the include options and the ISO prefix', () => {
    const a = makeAlert({ id: 7 });
    const line = formatJson(a, { ...FALCO_DEFAULT_FORMAT, includeMessage: true, includeTags: false, timeIso8601: true });
    const keys = Object.keys(JSON.parse(line) as object);
    expect(keys).toEqual(['hostname', 'message', 'output', 'output_fields', 'priority', 'rule', 'source', 'time']);
    const parsed = JSON.parse(line) as { output: string; message: string; output_fields: Record<string, unknown> };
    expect(parsed.message).toBe(a.message);
    expect(parsed.output).toBe(`${isoTimeNs(a.timeNs)}: Notice ${a.message}`);
    expect(line).toContain(`"evt.time.iso8601":${a.timeNs}`);
    expect(parsed.output_fields).not.toHaveProperty('evt.time');

    const bare = JSON.parse(formatJson(a, { ...FALCO_DEFAULT_FORMAT, includeOutput: false, includeOutputFields: false })) as object;
    expect(Object.keys(bare)).toEqual(['hostname', 'priority', 'rule', 'source', 'tags', 'time']);
  });

  it('text mode is the output string alone', () => {
    const a = makeAlert({ priority: 0 });
    expect(formatLine(a, { ...FALCO_DEFAULT_FORMAT, jsonOutput: false })).toBe(`${timeOfDayNs(a.timeNs)}: Emergency ${a.message}`);
  });

  it('sorts and de-duplicates tags even when the producer did not', () => {
    const line = formatJson(makeAlert({ tags: ['b', 'a', 'b'] }), FALCO_DEFAULT_FORMAT);
    expect(line).toContain('"tags":["a","b"]');
  });

  it('memoises one line per alert object', () => {
    const f = new LineFormatter(FALCO_DEFAULT_FORMAT);
    const a = makeAlert();
    expect(f.line(a)).toBe(f.line(a));
    expect(f.line(makeAlert({ id: 1 }))).not.toBe(f.line(makeAlert({ id: 2 })));
  });

  it('property: sorted keys at every level, round-trips, and sidekick accepts', () => {
    const value: fc.Arbitrary<OutputFieldValue> = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), value, { maxKeys: 8 }),
        fc.bigInt({ min: 0n, max: 4102444800000000000n }),
        fc.integer({ min: 0, max: 7 }),
        fc.array(fc.string(), { maxLength: 5 }),
        fc.string({ minLength: 1 }),
        (fields, timeNs, prio, tags, rule) => {
          const alert: Alert = { timeNs, rule, priority: prio as PriorityNum, source: 'syscall', message: 'm', outputFields: fields, tags, hostname: 'h' };
          const line = formatJson(alert, FALCO_DEFAULT_FORMAT);
          const parsed = JSON.parse(line) as Record<string, unknown> & { output_fields: Record<string, unknown>; tags: string[]; time: string };
          expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
          const fieldKeys = Object.keys(parsed.output_fields);
          // Integer-like keys are reordered by JS objects themselves; compare on the raw key set.
          expect(new Set(fieldKeys)).toEqual(new Set([...Object.keys(fields), 'evt.time']));
          for (const [k, v] of Object.entries(fields)) if (k !== 'evt.time') expect(parsed.output_fields[k]).toEqual(v);
          expect(parsed.tags).toEqual([...new Set(tags)].sort());
          expect(parsed.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
          expect(BigInt(Date.parse(parsed.time)) * 1_000_000n + (timeNs % 1_000_000n)).toBe(timeNs);
          expect(sidekickRejections(line)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
