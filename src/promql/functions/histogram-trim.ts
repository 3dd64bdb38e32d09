import type { FloatHistogram, HistogramBucket } from '../../tsdb/float-histogram.js';
import { shareBelow } from './native-histogram.js';

/**
 * The trim operators, as Prometheus estimates them: `h </ x` keeps the observations of `h` below
 * `x`, `h >/ x` those above it. A bucket the cut falls inside keeps the share of its count that
 * interpolation gives (exponential in exponential buckets, linear in custom buckets and the zero
 * bucket). Once anything is cut, the count is what the buckets keep and the sum is estimated again
 * from where each bucket's kept observations are taken to lie, since the observations cut away
 * took their values with them; a histogram the cut leaves whole keeps its count and sum.
 */

/** What one bucket keeps: a count, and the value its observations are taken to lie at. */
interface Kept {
  count: number;
  at: number;
}

const NOTHING: Kept = { count: 0, at: 0 };

/** The trimmed histogram: `h` itself when the cut removes nothing. */
export function trimHistogram(h: FloatHistogram, cut: number, keepBelow: boolean): FloatHistogram {
  const all = h.buckets();
  // buckets() lists negative buckets from the lowest value up, the reverse of their index order.
  const sides = [all.filter((b) => b.kind === 'positive' || b.kind === 'custom'), all.filter((b) => b.kind === 'negative').reverse()];
  const kept = sides.map((side) => side.map((b) => (b.count === 0 ? undefined : bucketKeeps(b, cut, keepBelow))));
  let count = 0;
  let sum = 0;
  let cutSomething = false;
  for (let s = 0; s < 2; s++) {
    kept[s]!.forEach((k, i) => {
      if (k === undefined) return;
      count += k.count;
      sum += k.at * k.count;
      if (!Object.is(k.count, sides[s]![i]!.count)) cutSomething = true;
    });
  }
  let zero: Kept | undefined;
  if (h.zeroCount > 0) {
    const hasPositive = kept[0]!.some((k) => k !== undefined);
    const hasNegative = kept[1]!.some((k) => k !== undefined);
    // With observations on one side only, the zero bucket holds none of the other side's values.
    const lower = hasPositive && !hasNegative ? 0 : -h.zeroThreshold;
    const upper = hasNegative && !hasPositive ? 0 : h.zeroThreshold;
    zero = zeroBucketKeeps(lower, upper, h.zeroCount, cut, keepBelow);
    count += zero.count;
    sum += zero.at * zero.count;
    if (zero.count !== h.zeroCount) cutSomething = true;
  }
  if (!cutSomething) return h;
  const out = h.copy();
  kept[0]!.forEach((k, i) => (out.positiveBuckets[i] = k?.count ?? 0));
  kept[1]!.forEach((k, i) => (out.negativeBuckets[i] = k?.count ?? 0));
  if (zero !== undefined) out.zeroCount = zero.count;
  out.count = count;
  out.sum = sum;
  return out.compact();
}

function bucketKeeps(b: HistogramBucket, cut: number, keepBelow: boolean): Kept {
  if (keepBelow ? b.upper <= cut : b.lower >= cut) return { count: b.count, at: middle(b.lower, b.upper, b) };
  if (!(keepBelow ? b.lower < cut : b.upper > cut)) return NOTHING;
  if (b.lower === -Infinity || b.upper === Infinity) return openBucketKeeps(b, cut, keepBelow);
  const below = b.count * shareBelow(b, cut);
  return keepBelow ? { count: below, at: middle(b.lower, cut, b) } : { count: b.count - below, at: middle(cut, b.upper, b) };
}

/**
 * A custom bucket with an infinite bound that the cut falls inside. Where its observations lie
 * towards the infinite side is unknown, so the cut takes it whole, with two exceptions: the first
 * bucket, when it ends above zero, is taken to start at zero and interpolated as any other, and a
 * bucket whose every observation is on the kept side of the cut (the first one ending at or below
 * zero for `</`, the last one for `>/`) is kept whole, taken to lie at the cut.
 */
function openBucketKeeps(b: HistogramBucket, cut: number, keepBelow: boolean): Kept {
  if (b.lower === -Infinity) {
    const finiteAboveZero = b.upper > 0 && b.upper !== Infinity;
    if (keepBelow) {
      if (cut > 0 && finiteAboveZero) return { count: (b.count * cut) / b.upper, at: cut / 2 };
      return b.upper <= 0 ? { count: b.count, at: cut } : NOTHING;
    }
    return cut >= 0 && finiteAboveZero ? { count: b.count * (1 - cut / b.upper), at: (cut + b.upper) / 2 } : NOTHING;
  }
  return keepBelow ? NOTHING : { count: b.count, at: cut };
}

/** The zero bucket between `lower` and `upper`, interpolated linearly. */
function zeroBucketKeeps(lower: number, upper: number, count: number, cut: number, keepBelow: boolean): Kept {
  const whole = { count, at: (lower + upper) / 2 };
  if (cut <= lower) return keepBelow ? NOTHING : whole;
  if (cut >= upper) return keepBelow ? whole : NOTHING;
  const width = upper - lower;
  return keepBelow ? { count: count * ((cut - lower) / width), at: (lower + cut) / 2 } : { count: count * ((upper - cut) / width), at: (cut + upper) / 2 };
}

/**
 * Where observations between `lo` and `hi` in bucket `b` are taken to lie: the middle, geometric
 * in exponential buckets; with an infinite bound, the finite one (half of it when it is a positive
 * upper bound), or zero when both are infinite.
 */
function middle(lo: number, hi: number, b: HistogramBucket): number {
  if (lo === -Infinity) return hi === Infinity ? 0 : hi > 0 ? hi / 2 : hi;
  if (hi === Infinity) return lo;
  if (b.kind === 'positive') return Math.sqrt(lo * hi);
  if (b.kind === 'negative') return -Math.sqrt(lo * hi);
  return (lo + hi) / 2;
}
