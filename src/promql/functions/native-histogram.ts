import type { FloatHistogram, HistogramBucket } from '../../tsdb/float-histogram.js';
import { KahanSum } from './kahan.js';

/**
 * Estimates from one native histogram, as Prometheus 3 computes them: linear interpolation in
 * custom buckets and the zero bucket, exponential interpolation in exponential buckets.
 */

/**
 * The buckets in value order, the zero bucket's bounds narrowed to the side that has
 * observations: with positive buckets only it holds no negative values, and the reverse.
 */
function bucketsOf(h: FloatHistogram): HistogramBucket[] {
  const all = h.buckets();
  const hasNeg = h.negativeBuckets.some((c) => c !== 0);
  const hasPos = h.positiveBuckets.some((c) => c !== 0);
  for (const b of all) {
    if (b.kind !== 'zero') continue;
    if (hasPos && !hasNeg) b.lower = 0;
    if (hasNeg && !hasPos) b.upper = 0;
  }
  return all;
}

/** The value a fraction `f` of the way through bucket `b` by observations. */
function within(b: HistogramBucket, f: number): number {
  // Both bounds have one sign in an exponential bucket, so their ratio is positive either side of zero.
  if (b.kind === 'positive' || b.kind === 'negative') return b.lower * Math.pow(b.upper / b.lower, f);
  return b.lower + (b.upper - b.lower) * f;
}

/** The share of bucket `b`'s observations at or below `x`, for x inside the bucket. */
export function shareBelow(b: HistogramBucket, x: number): number {
  if (b.kind === 'positive' || b.kind === 'negative') return Math.log(x / b.lower) / Math.log(b.upper / b.lower);
  if (b.lower === -Infinity) return 1;
  if (b.upper === Infinity) return 0;
  return (x - b.lower) / (b.upper - b.lower);
}

/** The custom-bucket edges classic histograms assume: the lowest bucket starts at 0 when it ends above it. */
function customEdges(b: HistogramBucket, first: boolean): HistogramBucket {
  if (b.kind !== 'custom' || !first || b.lower !== -Infinity || b.upper <= 0) return b;
  return { ...b, lower: 0 };
}

/** The histogram counts observations no exponential bucket holds: NaN values. */
export function hasNaNObservations(h: FloatHistogram): boolean {
  if (h.usesCustomBuckets()) return false;
  let total = h.zeroCount;
  for (const c of h.positiveBuckets) total += c;
  for (const c of h.negativeBuckets) total += c;
  return h.count > total;
}

export interface QuantileResult {
  value: number;
  /** The histogram counts observations no bucket holds (NaN values), which skew or void the estimate. */
  nanObservations: 'none' | 'skewed' | 'void';
}

/**
 * The φ-quantile of a native histogram. A rank in the upper half is counted down from the top,
 * as Prometheus counts it, unless NaN observations (a NaN sum) leave the top unknown.
 */
export function nativeQuantile(q: number, h: FloatHistogram): QuantileResult {
  const res: QuantileResult = { value: NaN, nanObservations: 'none' };
  if (Number.isNaN(q)) return res;
  if (q < 0) return { ...res, value: -Infinity };
  if (q > 1) return { ...res, value: Infinity };
  if (!(h.count > 0)) return res;
  const buckets = bucketsOf(h);
  const nans = hasNaNObservations(h);
  const fromTop = q >= 0.5 && !Number.isNaN(h.sum);
  const rank = (fromTop ? 1 - q : q) * h.count;
  let cum = 0;
  for (let j = 0; j < buckets.length; j++) {
    const k = fromTop ? buckets.length - 1 - j : j;
    const b = buckets[k]!;
    if (b.count <= 0) continue;
    if (cum + b.count < rank) {
      cum += b.count;
      continue;
    }
    if (nans) res.nanObservations = 'skewed';
    const edges = customEdges(b, k === 0);
    if (edges.upper === Infinity) return { ...res, value: edges.lower };
    if (edges.lower === -Infinity) return { ...res, value: edges.upper };
    const share = (rank - cum) / b.count;
    return { ...res, value: within(edges, fromTop ? 1 - share : share) };
  }
  if (nans) return { value: NaN, nanObservations: 'void' };
  // Rounding left the rank a hair beyond the buckets' total: the outermost bound on that side.
  for (let j = 0; j < buckets.length; j++) {
    const k = fromTop ? j : buckets.length - 1 - j;
    if (buckets[k]!.count <= 0) continue;
    const edges = customEdges(buckets[k]!, k === 0);
    return { ...res, value: fromTop ? edges.lower : edges.upper };
  }
  return res;
}

/** The estimated fraction of observations in [lower, upper]. */
export function nativeFraction(lower: number, upper: number, h: FloatHistogram): number {
  if (!(h.count > 0) || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  const buckets = bucketsOf(h).map((b, k) => customEdges(b, k === 0));
  const below = (x: number): number => {
    let n = 0;
    for (const b of buckets) {
      if (b.upper <= x) n += b.count;
      else if (b.lower < x) n += b.count * shareBelow(b, x);
    }
    return n;
  };
  return (below(upper) - below(lower)) / h.count;
}

/** The estimated variance of the observations: each bucket's count at its midpoint (geometric for exponential buckets). */
export function nativeStdvar(h: FloatHistogram): number {
  if (!(h.count > 0)) return NaN;
  const mean = h.sum / h.count;
  // Compensated: many small squared deviations next to a few large ones; an infinite one stays infinite.
  const variance = new KahanSum();
  for (const b of h.buckets()) {
    if (b.count === 0) continue;
    let v: number;
    if (b.kind === 'zero') v = 0;
    else if (b.kind === 'custom') v = b.lower === -Infinity ? b.upper : b.upper === Infinity ? b.lower : (b.lower + b.upper) / 2;
    else v = Math.sign(b.upper) * Math.sqrt(b.lower * b.upper);
    const d = v - mean;
    variance.add(b.count * d * d);
  }
  return variance.value() / h.count;
}
