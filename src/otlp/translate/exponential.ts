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
