/** Quantiles and fractions over classic histogram buckets (`le` series), as Prometheus computes them. */

export interface Bucket {
  upperBound: number;
  count: number;
}

export interface BucketQuantileResult {
  value: number;
  forcedMonotonic: boolean;
  minBucket: number;
  maxBucket: number;
  maxDiff: number;
}

/**
 * Relative differences below this between neighbouring cumulative buckets are float noise
 * (e.g. from sharded sums), not real non-monotonicity.
 */
const SMALL_DELTA_TOLERANCE = 1e-12;
const MIN_NORMAL = 2.2250738585072014e-308;

export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

function sortAndCoalesce(buckets: Bucket[]): Bucket[] {
  buckets.sort((a, b) => a.upperBound - b.upperBound);
  const out: Bucket[] = [];
  for (const b of buckets) {
    const last = out[out.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else out.push({ upperBound: b.upperBound, count: b.count });
  }
  return out;
}

export function bucketQuantile(q: number, input: Bucket[]): BucketQuantileResult {
  const res: BucketQuantileResult = { value: NaN, forcedMonotonic: false, minBucket: Infinity, maxBucket: -Infinity, maxDiff: 0 };
  if (Number.isNaN(q)) return res;
  if (q < 0) return { ...res, value: -Infinity };
  if (q > 1) return { ...res, value: Infinity };
  const buckets = sortAndCoalesce(input);
  if (buckets[buckets.length - 1]!.upperBound !== Infinity) return res;
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const cur = buckets[i]!.count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, SMALL_DELTA_TOLERANCE)) {
      buckets[i]!.count = prev;
      continue;
    }
    if (cur < prev) {
      buckets[i]!.count = prev;
      res.forcedMonotonic = true;
      res.minBucket = Math.min(res.minBucket, buckets[i]!.upperBound);
      res.maxBucket = Math.max(res.maxBucket, buckets[i]!.upperBound);
      res.maxDiff = Math.max(res.maxDiff, prev - cur);
      continue;
    }
    prev = cur;
  }
  if (buckets.length < 2) return res;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return res;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) {
    res.value = buckets[buckets.length - 2]!.upperBound;
  } else if (b === 0 && buckets[0]!.upperBound <= 0) {
    res.value = buckets[0]!.upperBound;
  } else {
    let bucketStart = 0;
    const bucketEnd = buckets[b]!.upperBound;
    let count = buckets[b]!.count;
    if (b > 0) {
      bucketStart = buckets[b - 1]!.upperBound;
      count -= buckets[b - 1]!.count;
      rank -= buckets[b - 1]!.count;
    }
    res.value = bucketStart + (bucketEnd - bucketStart) * (rank / count);
  }
  return res;
}

/** The estimated fraction of observations between lower and upper. */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  const buckets = sortAndCoalesce(input);
  if (buckets[buckets.length - 1]!.upperBound !== Infinity) return NaN;
  const count = buckets[buckets.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let lowerBound = buckets[0]!.upperBound <= 0 ? -Infinity : 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (i > 0) lowerBound = buckets[i - 1]!.upperBound;
    const upperBound = b.upperBound;
    const interpolate = (v: number): number => (lowerBound === -Infinity ? b.count : rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound));
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}
