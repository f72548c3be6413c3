import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferBatch, RecordError, RecordView, normalizePath, scanRecords } from '../../src/probe/decoder';
import { CaptureError, CaptureReader, encodeCaptureHeader, openCaptureBytes } from '../../src/probe/capture';
import { EVENT_TYPE_COUNT, eventTypeByName } from '../../src/probe/event-types';
import type { EventView } from '../../src/probe/event';
import { concat, encodeChunk, encodeRecord, type RecordInit } from './records';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (max: number) => fc.string({ maxLength: max }).map((s) => s.replace(/\0/g, ''));
const utf8 = (s: string) => new TextEncoder().encode(s);
/**
 * Runs of the fuzzing properties below: bounded in npm test, longer with `npm run fuzz`
 * (LANNER_FUZZ_RUNS scales every property's default).
 */
const FUZZ_SCALE = Math.max(1, Number(process.env.LANNER_FUZZ_RUNS ?? '1'));
const runs = (n: number): number => n * FUZZ_SCALE;

const recordArb: fc.Arbitrary<RecordInit> = fc.record({
  tsNs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  type: fc.integer({ min: 0, max: EVENT_TYPE_COUNT - 1 }),
  flags: fc.integer({ min: 0, max: 7 }),
  tid: u32,
  tgid: u32,
  ptgid: u32,
  cpu: fc.integer({ min: 0, max: 1023 }),
  cgroupId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  ret: fc.integer({ min: -4095, max: 2 ** 40 }),
  uid: u32,
  gid: u32,
  euid: u32,
  egid: u32,
  loginuid: u32,
  vpid: u32,
  pidNs: u32,
  mntNs: u32,
  tty: u32,
  exeFlags: fc.integer({ min: 0, max: 7 }),
  capEff: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  capPrm: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  args: fc.array(fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }), { minLength: 6, maxLength: 6 }),
  comm: fc.stringMatching(/^[a-z0-9._-]{0,15}$/),
  str0: fc.option(text(200).map(utf8), { nil: undefined }),
  str1: fc.option(text(200).map(utf8), { nil: undefined }),
  argv: fc.option(fc.array(text(20), { minLength: 1, maxLength: 5 }).map((a) => utf8(a.join('\0') + '\0')), { nil: undefined }),
  cwd: fc.option(text(100).map((s) => utf8('/' + s)), { nil: undefined }),
});

function viewOf(bytes: Uint8Array): RecordView {
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return new RecordView(buf).at(0);
}

/** Touches every accessor; must never throw whatever the bytes are. */
function touch(ev: EventView): void {
  void [ev.typeId, ev.tsNs, ev.cpu, ev.tid, ev.tgid, ev.ptgid, ev.uid, ev.gid, ev.euid, ev.egid, ev.loginuid, ev.ret];
  void [ev.cgroupId, ev.pidNs, ev.mntNs, ev.vpid, ev.tty, ev.truncated];
  ev.comm();
  for (let i = 0; i < 6; i++) ev.rawArg(i);
  ev.str(0);
  ev.str(1);
  ev.strRaw(0);
  ev.strRaw(1);
  ev.env();
  ev.sockaddr();
  ev.capEffective();
  ev.capPermitted();
  ev.argv();
  ev.exePath();
  ev.cwd();
  ev.exeFlags();
  ev.copy();
}

describe('record decoder', () => {
  it('decodes every header field and variable part an independent encoder wrote', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const ev = viewOf(encodeRecord(r));
        expect(ev.typeId).toBe(r.type);
        expect(ev.tsNs).toBe(r.tsNs);
        expect([ev.tid, ev.tgid, ev.ptgid, ev.cpu]).toEqual([r.tid, r.tgid, r.ptgid, r.cpu]);
        expect(ev.cgroupId).toBe(r.cgroupId);
        expect(ev.ret).toBe(r.ret);
        expect([ev.uid, ev.gid, ev.euid, ev.egid]).toEqual([r.uid, r.gid, r.euid, r.egid]);
        expect(ev.loginuid).toBe(r.loginuid === 0xffffffff ? -1 : r.loginuid);
        expect([ev.vpid, ev.pidNs, ev.mntNs, ev.tty, ev.exeFlags()]).toEqual([r.vpid, r.pidNs, r.mntNs, r.tty, r.exeFlags]);
        expect(ev.truncated).toBe(((r.flags ?? 0) & 1) === 1);
        expect(ev.capEffective()).toBe(r.capEff);
        expect(ev.capPermitted()).toBe(r.capPrm);
        expect(ev.comm()).toBe(r.comm);
        expect(ev.cwd()).toBe(r.cwd ? new TextDecoder().decode(r.cwd) : undefined);
        if (r.argv) expect(ev.argv()).toEqual(new TextDecoder().decode(r.argv).split('\0').slice(0, -1));
        else expect(ev.argv()).toBeUndefined();
        const copy = ev.copy();
        expect(copy.tsNs).toBe(r.tsNs);
        expect(copy.comm()).toBe(r.comm);
      }),
      { numRuns: runs(300) },
    );
  });

  it('names every process exactly when far more names than the comm cache holds alternate', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `p${i.toString(36)}-${'x'.repeat(i % 11)}`.slice(0, 15));
    const records = names.map((comm) => viewOf(encodeRecord({
      type: 1, tsNs: 1, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
      loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm,
    })));
    // Forward, backward, forward: hits, collisions and refills, each must give the record's own name.
    for (const order of [records, [...records].reverse(), records]) {
      for (const ev of order) expect(ev.comm()).toBe(names[records.indexOf(ev)]);
    }
  });

  it('applies C int / u32 semantics to fd, int and uid args and keeps 64-bit ones', () => {
    const base = (type: string, args: bigint[]): RecordView =>
      viewOf(
        encodeRecord({
          tsNs: 1, type: eventTypeByName(type)!.id, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
          loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args, comm: 'x',
        }),
      );
    // dirfd AT_FDCWD passed as a zero-extended int register
    expect(base('openat', [0xffffff9cn, 0n, 0n, 0n, 0n, 0n]).rawArg(0)).toBe(-100);
    expect(base('setuid', [0xfffffffen, 0n, 0n, 0n, 0n, 0n]).rawArg(0)).toBe(4294967294);
    expect(base('truncate', [0n, 2n ** 40n, 0n, 0n, 0n, 0n]).rawArg(1)).toBe(0); // 'int' length: low 32 bits
    expect(base('clone', [2n ** 40n + 17n, 0n, 0n, 0n, 0n, 0n]).rawArg(0)).toBe(2 ** 40 + 17);
  });

  it('parses IPv4, IPv6 and unix socket addresses', () => {
    const mk = (sa: number[]): RecordView =>
      viewOf(
        encodeRecord({
          tsNs: 1, type: eventTypeByName('connect')!.id, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
          loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'x',
          sockaddr: new Uint8Array(sa),
        }),
      );
    expect(mk([2, 0, 0x1f, 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]).sockaddr()).toEqual({ family: 'ipv4', address: '10.1.2.3', port: 8080 });
    const v6 = [10, 0, 0, 80, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(mk(v6).sockaddr()).toEqual({ family: 'ipv6', address: '2001:db8::1', port: 80 });
    expect(mk([1, 0, ...utf8('/run/x.sock'), 0]).sockaddr()).toEqual({ family: 'unix', address: '/run/x.sock', port: 0 });
    expect(mk([1, 0, 0, ...utf8('abstract')]).sockaddr()).toEqual({ family: 'unix', address: '', port: 0 });
  });

  it('normalises . and .. in absolute paths only', () => {
    expect(normalizePath('/tmp/./a/../b//c')).toBe('/tmp/b/c');
    expect(normalizePath('/..')).toBe('/');
    expect(normalizePath('rel/../x')).toBe('rel/../x');
    // Only a '/' followed by '/' or '.' sends a path to the component walk; anything else is kept
    // as given. Node's posix normalize is the independent reading (it keeps a trailing slash).
    const walk = (p: string): string => {
      const n = posix.normalize(p);
      return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
    };
    fc.assert(
      fc.property(fc.stringMatching(/^[/.a]{0,12}$/), (p) => {
        const expected = p.startsWith('/') && (p.includes('/.') || p.includes('//')) ? walk(p) : p;
        expect(normalizePath(p)).toBe(expected);
      }),
      { numRuns: runs(500) },
    );
  });

  it("reads each record's own strings when the view moves between records", () => {
    const at = (path: string, target: string) =>
      encodeRecord({
        type: eventTypeByName('renameat2')!.id, tsNs: 1, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
        loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'mv',
        str0: utf8(path), str1: utf8(target),
      });
    const records = [at('/a/./b', '/c//d'), at('/e', '/f'), at('/g/../h', '/i')];
    const view = viewOf(records.reduce((all, r) => new Uint8Array([...all, ...r]), new Uint8Array()));
    const offsets = [0, records[0]!.length, records[0]!.length + records[1]!.length];
    const expected = [['/a/b', '/c/d'], ['/e', '/f'], ['/h', '/i']];
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 1, 0]]) {
      for (const i of order) {
        view.at(offsets[i]!);
        expect([view.str(0), view.str(1), view.str(0)]).toEqual(expected[i]!.concat(expected[i]![0]!));
      }
    }
  });

  it('never throws on random bytes except RecordError from the framing check', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), fc.boolean(), (raw, strict) => {
        const len = raw.length & ~7;
        const buf = new ArrayBuffer(Math.max(len, 8));
        new Uint8Array(buf).set(raw.subarray(0, len));
        try {
          scanRecords(new Uint8Array(buf), 0, len, strict);
        } catch (err) {
          expect(err).toBeInstanceOf(RecordError);
        }
        if (len >= 192) touch(new RecordView(buf).at(0));
        const batch = new BufferBatch(buf);
        batch.reset(len);
        batch.forEach(touch);
      }),
      { numRuns: runs(300) },
    );
  });

  it('rejects a record whose descriptor points outside it', () => {
    const rec = encodeRecord({
      tsNs: 1, type: 9, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
      loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'x', str0: utf8('/etc'),
    });
    new DataView(rec.buffer).setUint16(170, 4000, true);
    expect(() => scanRecords(rec, 0, rec.length, true)).toThrow(/descriptor 0/);
    expect(viewOf(rec).str(0)).toBeUndefined();
  });
});

describe('capture reader', () => {
  const header = encodeCaptureHeader(1_700_000_000_000_000_000n, 1_700_000_001_000_000_000n);
  const capture = (chunks: RecordInit[][]): Uint8Array => concat([header, ...chunks.map((c) => encodeChunk(c.map(encodeRecord)))]);

  it('replays records chunk by chunk with the header intact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(recordArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), async (chunks) => {
        const src = openCaptureBytes(capture(chunks));
        expect(src.header.bootOffsetNs).toBe(1_700_000_000_000_000_000n);
        const got: number[] = [];
        await src.start((b) => b.forEach((ev) => got.push(ev.tsNs)));
        await src.done;
        expect(got).toEqual(chunks.flat().map((r) => r.tsNs));
        expect(src.running).toBe(false);
      }),
      { numRuns: runs(50) },
    );
  });

  it('filters replayed types with setInterestingTypes', async () => {
    const rec = (type: string): RecordInit => ({
      tsNs: 5, type: eventTypeByName(type)!.id, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
      loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'x',
    });
    const src = openCaptureBytes(capture([[rec('openat'), rec('execve'), rec('openat')]]));
    src.setInterestingTypes(new Set(['execve']));
    const got: number[] = [];
    await src.start((b) => b.forEach((ev) => got.push(ev.typeId)));
    await src.done;
    expect(got).toEqual([eventTypeByName('execve')!.id]);
  });

  it('truncated or corrupted captures give CaptureError with an offset, never another error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(recordArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
        (chunks, cutSeed, flip) => {
          const full = capture(chunks);
          const cut = cutSeed % (full.length + 1);
          const bytes = full.slice(0, cut);
          if (flip && bytes.length > 0) bytes[flip[0] % bytes.length]! ^= flip[1];
          let reader: CaptureReader;
          try {
            reader = CaptureReader.fromBytes(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(CaptureError);
            expect((err as CaptureError).offset).toBeGreaterThanOrEqual(0);
            return;
          }
          try {
            for (let i = 0; i < 100 && reader.next(); i++);
          } catch (err) {
            expect(err).toBeInstanceOf(CaptureError);
            expect((err as CaptureError).offset).toBeLessThanOrEqual(bytes.length);
          }
        },
      ),
      { numRuns: runs(400) },
    );
  });

  it('a cut inside a chunk is reported, a cut at a chunk boundary is a clean end', () => {
    const full = capture([[], []].map(() => [
      {
        tsNs: 1, type: 9, tid: 1, tgid: 1, ptgid: 0, cpu: 0, cgroupId: 0, ret: 0, uid: 0, gid: 0, euid: 0, egid: 0,
        loginuid: 0, vpid: 1, pidNs: 0, mntNs: 0, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'x',
      },
    ]));
    const chunkLen = (full.length - 64) / 2;
    const atBoundary = CaptureReader.fromBytes(full.slice(0, 64 + chunkLen));
    expect(atBoundary.next()?.count).toBe(1);
    expect(atBoundary.next()).toBeUndefined();
    const inside = CaptureReader.fromBytes(full.slice(0, 64 + chunkLen + 20));
    inside.next();
    expect(() => inside.next()).toThrow(CaptureError);
    expect(() => CaptureReader.fromBytes(full.slice(0, 10))).toThrow(/too short/);
    const wrongAbi = full.slice();
    new DataView(wrongAbi.buffer).setUint32(12, 99, true);
    expect(() => CaptureReader.fromBytes(wrongAbi)).toThrow(/ABI 99/);
  });

  it('rejects a corrupt replay through done, without crashing', async () => {
    const bytes = capture([[]]).slice();
    bytes[64] ^= 0xff; // chunk magic
    const src = openCaptureBytes(bytes);
    await src.start(() => undefined);
    await expect(src.done).rejects.toBeInstanceOf(CaptureError);
  });
});
