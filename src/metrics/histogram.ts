/**
 * A histogram the hot path can feed without allocating: `observe()` bumps one slot of a
 * preallocated array. prom-client's own Histogram hashes a label object per observation, which is
 * too costly per event; this one is exported through a small adapter at scrape time instead.
 */

/** Upper bounds from `start`, multiplied by `factor` while below `end`, then `end` itself. */
export function geometricBuckets(start: number, factor: number, end: number): number[] {
  if (!(start > 0) || !(factor > 1) || !(end >= start)) throw new RangeError('geometricBuckets: need 0 < start <= end and factor > 1');
  const bounds: number[] = [];
  for (let b = start; b < end * (1 - 1e-9); b *= factor) bounds.push(Number(b.toPrecision(6)));
  bounds.push(end);
  return bounds;
}

/** Event latency: 10 µs … 1 s in ×2.5 steps (14 buckets + Inf). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze(geometricBuckets(10e-6, 2.5, 1));

export class BucketHistogram {
  readonly bounds: readonly number[];
  /** The same bounds in a typed array: the scan in `observe` stays on unboxed doubles. */
  private readonly upper: Float64Array;
  /** Non-cumulative counts; the last slot is the +Inf overflow. */
  private readonly slots: Float64Array;
  private total = 0;
  private observations = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError('BucketHistogram: bounds must be strictly increasing');
    }
    this.bounds = Object.freeze([...bounds]);
    this.upper = Float64Array.from(bounds);
    this.slots = new Float64Array(bounds.length + 1);
  }

  /** Records one value (seconds). NaN is ignored so a bad clock cannot poison `_sum`. */
  observe(value: number): void {
    if (value !== value) return;
    const upper = this.upper;
    const n = upper.length;
    // Linear scan: 14 bounds, and most observations land in the first few.
    let i = 0;
    while (i < n && value > upper[i]!) i++;
    this.slots[i]!++;
    this.total += value;
    this.observations++;
  }

  get count(): number {
    return this.observations;
  }

  get sum(): number {
    return this.total;
  }

  /** Cumulative counts per bound (`le`), last entry = +Inf = count. Allocates; scrape time only. */
  cumulative(): number[] {
    const out = new Array<number>(this.slots.length);
    let acc = 0;
    for (let i = 0; i < this.slots.length; i++) {
      acc += this.slots[i]!;
      out[i] = acc;
    }
    return out;
  }
}

/** The three histograms the pipeline feeds; hand them to the engine and to `MetricsSources`. */
export function createPipelineHistograms(): { eventLatency: BucketHistogram; batchDecode: BucketHistogram; batchEvaluate: BucketHistogram } {
  return {
    eventLatency: new BucketHistogram(LATENCY_BUCKETS_SECONDS),
    // A batch carries up to thousands of events, so its range starts 10x higher.
    batchDecode: new BucketHistogram(geometricBuckets(100e-6, 2.5, 2.5)),
    batchEvaluate: new BucketHistogram(geometricBuckets(100e-6, 2.5, 2.5)),
  };
}
