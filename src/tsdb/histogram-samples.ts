import type { FloatHistogram } from './float-histogram.js';

/**
 * A series' native histogram samples in time order: a lane beside its float chunks, so a series
 * that mixes floats and histograms keeps each kind where it is read, and float-only series pay
 * nothing for it. Histograms are few next to floats (one sample stands for a whole bucket
 * layout), so they are kept as objects rather than encoded.
 */
export class HistogramSamples {
  constructor(
    readonly ts: number[] = [],
    readonly hs: FloatHistogram[] = [],
  ) {}

  get length(): number {
    return this.ts.length;
  }

  /** Index of the first sample with a timestamp above t. */
  upperBound(t: number): number {
    return upperBound(this.ts, t);
  }

  /** Adds a sample in time order; one at a timestamp already held replaces it. Returns true on replacement. */
  put(t: number, h: FloatHistogram): boolean {
    const n = this.ts.length;
    if (n === 0 || this.ts[n - 1]! < t) {
      this.ts.push(t);
      this.hs.push(h);
      return false;
    }
    const i = this.upperBound(t);
    if (i > 0 && this.ts[i - 1] === t) {
      this.hs[i - 1] = h;
      return true;
    }
    this.ts.splice(i, 0, t);
    this.hs.splice(i, 0, h);
    return false;
  }

  /** Drops samples older than minT; returns how many remain. */
  trimBefore(minT: number): number {
    let k = 0;
    while (k < this.ts.length && this.ts[k]! < minT) k++;
    this.ts.splice(0, k);
    this.hs.splice(0, k);
    return this.ts.length;
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
