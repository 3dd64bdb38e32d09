import type { FloatHistogram } from './float-histogram.js';

/**
 * Native histogram samples in time order, as queries read them: a lane beside a series' floats,
 * so a series that mixes floats and histograms keeps each kind where it is read. The timestamps
 * are all there; the histograms of a stored series are decoded only where they are read (see
 * histogram-lane.ts), so a reader asks for the indexes it reads with window().
 */
export class HistogramSamples {
  constructor(
    readonly ts: number[] = [],
    protected readonly held: FloatHistogram[] = [],
  ) {}

  get length(): number {
    return this.ts.length;
  }

  /** Index of the first sample with a timestamp above t. */
  upperBound(t: number): number {
    return upperBound(this.ts, t);
  }

  /** Every histogram. */
  get hs(): readonly FloatHistogram[] {
    return this.window(0, this.length);
  }

  /** The histograms, indexed as the timestamps, of which those with indexes [lo, hi) are sure to be there. */
  window(_lo: number, _hi: number): readonly FloatHistogram[] {
    return this.held;
  }
}

/** Index of the first of the ascending timestamps above t. */
export function upperBound(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
