import type { Expr, VectorSelector } from '../ast.js';
import type { FloatHistogram } from '../../tsdb/float-histogram.js';
import type { HistogramSamples } from '../../tsdb/histogram-samples.js';
import { walk } from '../parser/walk.js';

/**
 * Selectors read only for their histograms' count and sum: Prometheus reads these through an
 * iterator that works out each histogram's counter reset hint as it goes (reset or not_reset
 * against the histogram it read before), where the store would say unknown. The hints decide
 * no number, but sum and avg warn when a reset meets a not_reset, so the same hints give the
 * same warnings.
 */

const COUNT_AND_SUM = new Set(['histogram_count', 'histogram_sum', 'histogram_avg']);
const NEED_BUCKETS = new Set(['histogram_quantile', 'histogram_quantiles', 'histogram_fraction']);

interface Path {
  countOnly: boolean;
  /** A subquery (whose points are no consecutive samples) or a function or operator reading buckets. */
  blocked: boolean;
}

/** The selectors under histogram_count/sum/avg with no subquery, bucket-reading function or trim operator above them. */
export function countAndSumSelectors(root: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  walk<Path>(
    root,
    { countOnly: false, blocked: false },
    (e, p) => {
      if (e.kind === 'VectorSelector' && p.countOnly && !p.blocked) out.add(e);
    },
    (parent, p) => {
      if (parent.kind === 'SubqueryExpr') return { ...p, blocked: true };
      if (parent.kind === 'BinaryExpr' && (parent.op === '</' || parent.op === '>/')) return { ...p, blocked: true };
      if (parent.kind === 'Call' && NEED_BUCKETS.has(parent.func)) return { ...p, blocked: true };
      if (parent.kind === 'Call' && COUNT_AND_SUM.has(parent.func)) return { ...p, countOnly: true };
      return p;
    },
  );
  return out;
}

/** Index of the first of the ascending timestamps at or above t, in [0, n). */
function lowerBound(n: number, at: (i: number) => number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The float samples beside the histograms, which move the iterator too. */
export interface FloatTimes {
  readonly length: number;
  timestampAt(i: number): number;
}

/**
 * One series' histograms as that iterator gives them across the steps of a query. It starts
 * afresh (no histogram read before) where a step's window begins beyond the sample the previous
 * step stopped at, and a histogram read first after such a start keeps the store's hint.
 */
export class CountAndSumHints {
  /** The histograms read so far, by index; those whose unknown hint was worked out are copies with it. */
  private readonly hs: FloatHistogram[] = [];
  private started = false;
  /** The first histogram of the current run of reads. */
  private runStart = 0;
  /** Where the previous step left the iterator: its first sample at or after the step's end; undefined past the last sample. */
  private stoppedAt: number | undefined;
  /** Histograms before this one have their hints settled. */
  private settled = 0;

  constructor(
    private readonly lane: HistogramSamples,
    private readonly floats: FloatTimes,
  ) {}

  /** A step that reads samples from `from` (inclusive) to `to`, histograms up to index `upTo` (exclusive). */
  step(from: number, to: number, upTo: number): void {
    const { lane, floats } = this;
    if (!this.started || (this.stoppedAt !== undefined && from > this.stoppedAt)) {
      this.started = true;
      this.runStart = lowerBound(lane.length, (i) => lane.ts[i]!, from);
      this.settled = Math.max(this.settled, this.runStart);
    }
    if (this.settled < upTo) {
      const stored = lane.window(Math.max(0, this.settled - 1), upTo);
      for (; this.settled < upTo; this.settled++) {
        const i = this.settled;
        const h = stored[i]!;
        if (i === this.runStart || h.counterResetHint !== 'unknown') continue;
        const hinted = h.copy();
        hinted.counterResetHint = h.detectReset(stored[i - 1]!) ? 'reset' : 'not_reset';
        this.hs[i] = hinted;
      }
    }
    const nextHist = lowerBound(lane.length, (i) => lane.ts[i]!, to);
    const nextFloat = lowerBound(floats.length, (i) => floats.timestampAt(i), to);
    const t = Math.min(nextHist < lane.length ? lane.ts[nextHist]! : Infinity, nextFloat < floats.length ? floats.timestampAt(nextFloat) : Infinity);
    this.stoppedAt = t === Infinity ? undefined : t;
  }

  /** The histograms as read, indexed as the lane's timestamps, of which those with indexes [lo, hi) are sure to be there. */
  window(lo: number, hi: number): readonly FloatHistogram[] {
    let stored: readonly FloatHistogram[] | undefined;
    for (let i = lo; i < hi; i++) {
      if (this.hs[i] !== undefined) continue;
      stored ??= this.lane.window(lo, hi);
      this.hs[i] = stored[i]!;
    }
    return this.hs;
  }
}
