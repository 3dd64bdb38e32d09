import { FloatHistogram, MAX_EXPONENTIAL_SCHEMA, type BucketSpan } from '../../tsdb/float-histogram.js';
import type { ExponentialHistogramPoint } from '../decode/model.js';

/** The range of scales the protocol allows. */
export const MIN_SCALE = -10;
export const MAX_SCALE = 20;

/**
 * Converts an exponential histogram point to classic cumulative buckets, as parallel arrays of
 * upper bounds (ascending) and counts of values at or below each bound.
 *
 * With base = 2^(2^-scale), positive bucket index i holds values in (base^i, base^(i+1)], so its
 * upper bound is base^(i+1); negative bucket i holds values in [-base^(i+1), -base^i), upper
 * bound -base^i; the zero bucket holds [-zero_threshold, zero_threshold], upper bound
 * zero_threshold. Every bucket of the dense ranges becomes a bound, empty ones too, so that
 * interpolation inside a bucket (histogram_quantile) spans exactly that bucket. The `+Inf` bucket
 * is not included: it is the point's count.
 */
export function exponentialToClassic(p: ExponentialHistogramPoint): { bounds: number[]; cumulative: number[] } {
  const factor = Math.pow(2, -p.scale);
  const bound = (exponent: number) => Math.pow(2, exponent * factor);
  const bounds: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  const neg = p.negative;
  for (let k = neg.bucketCounts.length - 1; k >= 0; k--) {
    total += neg.bucketCounts[k]!;
    bounds.push(-bound(neg.offset + k));
    cumulative.push(total);
  }
  total += p.zeroCount;
  bounds.push(p.zeroThreshold);
  cumulative.push(total);
  const pos = p.positive;
  for (let k = 0; k < pos.bucketCounts.length; k++) {
    total += pos.bucketCounts[k]!;
    const upper = bound(pos.offset + k + 1);
    // A bound at or below the zero threshold would break ascending order; its values are
    // counted at the next bound instead.
    if (upper <= p.zeroThreshold) {
      cumulative[cumulative.length - 1] = total;
      continue;
    }
    bounds.push(upper);
    cumulative.push(total);
  }
  return { bounds, cumulative };
}

/** Prometheus's zero bucket width for exponential histograms from OTLP. */
const MIN_ZERO_THRESHOLD = 1e-128;

/**
 * Converts an exponential histogram point (scale at least MIN_EXPONENTIAL_SCHEMA) to a native
 * histogram, as Prometheus's OTLP receiver does: the scale becomes the schema, capped at
 * MAX_EXPONENTIAL_SCHEMA by merging each 2^k neighbouring buckets into one. OTLP's bucket i holds
 * (base^i, base^(i+1)] where Prometheus's bucket i holds (base^(i-1), base^i], so indexes shift
 * by one after the merge. A point without a sum has a sum of zero, as in Prometheus. The zero
 * bucket keeps the point's threshold where it is wider than Prometheus's own.
 */
export function exponentialToNative(p: ExponentialHistogramPoint): FloatHistogram {
  const down = Math.max(0, p.scale - MAX_EXPONENTIAL_SCHEMA);
  const [positiveSpans, positiveBuckets] = nativeBuckets(p.positive.offset, p.positive.bucketCounts, down);
  const [negativeSpans, negativeBuckets] = nativeBuckets(p.negative.offset, p.negative.bucketCounts, down);
  return new FloatHistogram({
    schema: p.scale - down,
    // A threshold that is not a number above Prometheus's own (NaN, negative, 0) is Prometheus's own.
    zeroThreshold: p.zeroThreshold > MIN_ZERO_THRESHOLD ? p.zeroThreshold : MIN_ZERO_THRESHOLD,
    zeroCount: p.zeroCount,
    count: p.count,
    sum: p.sum ?? 0,
    positiveSpans,
    positiveBuckets,
    negativeSpans,
    negativeBuckets,
  });
}

/** Dense OTLP bucket counts from `offset` as spans and absolute counts, merged 2^down to one; empty buckets are left out of the spans. */
function nativeBuckets(offset: number, counts: readonly number[], down: number): [BucketSpan[], number[]] {
  const spans: BucketSpan[] = [];
  const buckets: number[] = [];
  const width = 2 ** down;
  let next = 0;
  for (let k = 0; k < counts.length;) {
    const idx = Math.floor((offset + k) / width);
    let count = 0;
    for (; k < counts.length && Math.floor((offset + k) / width) === idx; k++) count += counts[k]!;
    if (count === 0) continue;
    const at = idx + 1;
    const last = spans[spans.length - 1];
    if (last !== undefined && at === next) last.length++;
    else spans.push({ offset: last === undefined ? at : at - next, length: 1 });
    buckets.push(count);
    next = at + 1;
  }
  return [spans, buckets];
}
