import { describe, expect, it } from 'vitest';
import { RecentBatches } from '../../src/capture/ring';
import { BufferBatch } from '../../src/probe/decoder';
import { batchOf, record } from './support';

/** Kernel times of the records `forEachSince` hands out, oldest first. */
function keptTimes(ring: RecentBatches, since = 0): number[] {
  const out: number[] = [];
  ring.forEachSince(since, (c) => {
    // A chunk is a view into the ring: copy it into a batch of its own to decode it.
    const own = new ArrayBuffer(c.bytes);
    new Uint8Array(own).set(new Uint8Array(c.buffer, c.offset, c.bytes));
    const b = new BufferBatch(own);
    expect(b.reset(c.bytes)).toBe(c.count);
    b.forEach((ev) => out.push(ev.tsNs));
  });
  return out;
}

const push = (ring: RecentBatches, ...times: number[]): void => {
  const b = batchOf(times.map((t) => record(t, `/f${t}`)));
  ring.push(b.buffer, b.byteLength, b.recordCount);
};

describe('RecentBatches', () => {
  const size = record(1, '/f1').length;

  it('keeps whole batches in order and a copy of their bytes, not a reference', () => {
    const ring = new RecentBatches(size * 10);
    const b = batchOf([record(1, '/f1'), record(2, '/f2')]);
    ring.push(b.buffer, b.byteLength, b.recordCount);
    // The addon reuses its buffer for the next drain: overwrite it.
    new Uint8Array(b.buffer).fill(0);
    push(ring, 3);
    expect(keptTimes(ring)).toEqual([1, 2, 3]);
  });

  it('drops the oldest batches when the bytes run out, wrapping around the buffer', () => {
    const ring = new RecentBatches(size * 5);
    for (let t = 1; t <= 40; t += 2) push(ring, t, t + 1);
    const kept = keptTimes(ring);
    // Two records per batch, room for five records: the newest two batches, whole.
    expect(kept).toEqual([37, 38, 39, 40]);
    expect(ring.chunks).toBe(2);
  });

  it('keeps only the newest records of a batch larger than the whole buffer', () => {
    const ring = new RecentBatches(size * 3);
    push(ring, 1);
    push(ring, 10, 11, 12, 13, 14, 15);
    expect(keptTimes(ring)).toEqual([13, 14, 15]);
  });

  it('hands out only batches that may hold events at or after the window start', () => {
    const ring = new RecentBatches(size * 100);
    push(ring, 100, 150);
    push(ring, 200, 250);
    push(ring, 300, 350);
    // 260 falls inside the second batch (it starts at 200, the next at 300): from the second on.
    expect(keptTimes(ring, 260)).toEqual([200, 250, 300, 350]);
    expect(keptTimes(ring, 301)).toEqual([300, 350]);
    // The newest batch is always handed out: its end is unknown.
    expect(keptTimes(ring, 10_000)).toEqual([300, 350]);
  });

  it('bounds the number of batches as well as the bytes', () => {
    const ring = new RecentBatches(size * 100, 4);
    for (let t = 1; t <= 10; t++) push(ring, t);
    expect(keptTimes(ring)).toEqual([7, 8, 9, 10]);
  });
});
