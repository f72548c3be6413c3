/**
 * The recent past of the event stream, for the window a capture keeps before its match: whole
 * batches of raw records copied into one fixed buffer, oldest overwritten first. Keeping a batch
 * is one copy of its bytes and a few numbers; no record is looked at (except when one batch alone
 * is larger than the buffer: then its oldest records are skipped by their sizes).
 */
import { OFF } from '../probe/layout';

/** A stretch of kept records, valid until the next `push`. */
export interface KeptChunk {
  readonly buffer: ArrayBuffer;
  readonly offset: number;
  readonly bytes: number;
  readonly count: number;
}

const TWO32 = 4294967296;

export class RecentBatches {
  readonly buffer: ArrayBuffer;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  // Chunk descriptors in a circular list, oldest at `first`.
  private readonly starts: Uint32Array;
  private readonly lengths: Uint32Array;
  private readonly counts: Uint32Array;
  /** Kernel time (CLOCK_BOOTTIME ns) of each chunk's first record. */
  private readonly firstTs: Float64Array;
  private first = 0;
  private size = 0;
  /** Where the next chunk goes in `buffer`. */
  private writePos = 0;

  /**
   * `capacity` bytes of records; at most `maxChunks` batches (a batch of the addon is one drain,
   * so this bounds the descriptors, not the bytes).
   */
  constructor(capacity: number, maxChunks = 4096) {
    this.buffer = new ArrayBuffer(capacity & ~7);
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
    this.starts = new Uint32Array(maxChunks);
    this.lengths = new Uint32Array(maxChunks);
    this.counts = new Uint32Array(maxChunks);
    this.firstTs = new Float64Array(maxChunks);
  }

  get capacity(): number {
    return this.buffer.byteLength;
  }

  /** Batches currently kept. */
  get chunks(): number {
    return this.size;
  }

  /** Keeps the first `bytes` bytes (whole records, `count` of them) of a batch buffer. */
  push(src: ArrayBuffer, bytes: number, count: number): void {
    if (bytes === 0) return;
    let from = 0;
    if (bytes > this.capacity) {
      // Only the newest records fit: step over the oldest by their sizes.
      const view = new DataView(src);
      while (bytes - from > this.capacity) {
        from += view.getUint32(from + OFF.size, true);
        count--;
      }
      bytes -= from;
      this.clear();
    }
    if (this.size === this.starts.length) this.dropOldest();
    if (this.writePos + bytes > this.capacity) {
      // The tail of the buffer is too short: whatever lies there is the oldest; start over at 0.
      while (this.size > 0 && this.starts[this.first]! >= this.writePos) this.dropOldest();
      this.writePos = 0;
    }
    const end = this.writePos + bytes;
    while (this.size > 0 && this.starts[this.first]! < end && this.starts[this.first]! + this.lengths[this.first]! > this.writePos) this.dropOldest();
    if (this.size === 0) this.writePos = 0;
    this.u8.set(new Uint8Array(src, from, bytes), this.writePos);
    const i = (this.first + this.size) % this.starts.length;
    this.starts[i] = this.writePos;
    this.lengths[i] = bytes;
    this.counts[i] = count;
    this.firstTs[i] = this.dv.getUint32(this.writePos + OFF.tsNs, true) + this.dv.getUint32(this.writePos + OFF.tsNs + 4, true) * TWO32;
    this.size++;
    this.writePos += bytes;
  }

  /**
   * Calls `fn` for the kept chunks, oldest first, that may hold events at or after `sinceTs`
   * (kernel time): a chunk is skipped only when the next one already starts before `sinceTs`.
   */
  forEachSince(sinceTs: number, fn: (chunk: KeptChunk) => void): void {
    const n = this.starts.length;
    for (let k = 0; k < this.size; k++) {
      const i = (this.first + k) % n;
      if (k + 1 < this.size && this.firstTs[(i + 1) % n]! < sinceTs) continue;
      fn({ buffer: this.buffer, offset: this.starts[i]!, bytes: this.lengths[i]!, count: this.counts[i]! });
    }
  }

  clear(): void {
    this.first = 0;
    this.size = 0;
    this.writePos = 0;
  }

  private dropOldest(): void {
    this.first = (this.first + 1) % this.starts.length;
    this.size--;
  }
}

/** Kernel time of the first record of a batch buffer (CLOCK_BOOTTIME ns). */
export function firstRecordTs(buffer: ArrayBuffer, bytes: number): number {
  if (bytes < OFF.tsNs + 8) return 0;
  const dv = new DataView(buffer);
  return dv.getUint32(OFF.tsNs, true) + dv.getUint32(OFF.tsNs + 4, true) * TWO32;
}
