/** Raw records and batches for the capture tests, encoded by test/probe/records.ts (not by src/). */
import { CaptureReader } from '../../src/probe/capture';
import { BufferBatch } from '../../src/probe/decoder';
import { concat, encodeRecord } from '../probe/records';

/** An openat record at kernel time `tsNs` whose path says which one it is. */
export function record(tsNs: number, path: string): Uint8Array {
  return encodeRecord({
    tsNs, type: 2, tid: 100, tgid: 100, ptgid: 1, cpu: 0, cgroupId: 1, ret: 3, uid: 0, gid: 0, euid: 0, egid: 0, loginuid: 0xffffffff,
    vpid: 100, pidNs: 1, mntNs: 1, tty: 0, exeFlags: 0, capEff: 0n, capPrm: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], comm: 'cat',
    str0: new TextEncoder().encode(path),
  });
}

/** A batch over a fresh buffer (the addon reuses one; the capture code must copy what it keeps). */
export function batchOf(records: Uint8Array[]): BufferBatch {
  const bytes = concat(records);
  const buffer = new ArrayBuffer(Math.max(8, bytes.length));
  new Uint8Array(buffer).set(bytes);
  const batch = new BufferBatch(buffer);
  batch.reset(bytes.length);
  return batch;
}

/** The kernel times of every record in a capture file, in file order, and its header. */
export function readCapture(file: string): { header: CaptureReader['header']; times: number[] } {
  const reader = CaptureReader.fromFile(file);
  const times: number[] = [];
  try {
    for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) {
      const batch = new BufferBatch(chunk.buffer);
      batch.reset(chunk.bytes);
      batch.forEach((ev) => times.push(ev.tsNs));
    }
  } finally {
    reader.close();
  }
  return { header: reader.header, times };
}
