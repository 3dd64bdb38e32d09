import { FloatHistogram, HintsSeen, MixedSchemasError, sumHint, type HistogramOpNotes } from '../../tsdb/float-histogram.js';
import { searchFrom } from './extended-range.js';
import { KahanSum } from './kahan.js';
import type { RangeFunction, Window } from './range.js';

/**
 * Range functions over windows that hold native histograms, as Prometheus 3 computes them. The
 * float samples of the window are in `Window`; the histograms are a slice of the series'
 * histogram lane, read in place.
 */
export interface HistogramWindow {
  ts: readonly number[];
  hs: readonly FloatHistogram[];
  /** The window's histograms are [lo, hi) of the lane. */
  lo: number;
  hi: number;
}

export type WindowValue = number | FloatHistogram | undefined;

/** Computes a window's value when it holds at least one histogram; `floats` is the function on the window's floats alone. */
export type HistogramRangeFunction = (w: Window, h: HistogramWindow, floats: RangeFunction) => WindowValue;

function quoted(w: Window): string {
  return JSON.stringify(w.metricName);
}

function warnMix(w: Window): undefined {
  w.annos.warn(`encountered a mix of histograms and floats for metric name ${quoted(w)}`, w.call.args[0]!.pos);
  return undefined;
}

function warnSchemas(w: Window): undefined {
  w.annos.warn(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${quoted(w)}`, w.call.args[0]!.pos);
  return undefined;
}

function noteReconciled(w: Window, notes: HistogramOpNotes, op: string): void {
  if (notes.reconciled) w.annos.info(`mismatched custom buckets were reconciled during ${op}`, w.call.args[0]!.pos);
}

/** The functions that read floats only: histograms are dropped, with an info when floats were there too. */
const floatsOnly: HistogramRangeFunction = (w, _h, floats) => {
  if (w.n === 0) return undefined;
  w.annos.info(`ignored histograms in a range containing both floats and histograms for metric name ${quoted(w)}`, w.call.args[0]!.pos);
  return floats(w);
};

/** Prometheus's extrapolated rate, increase and delta of histograms: only windows of histograms alone have one. */
function extrapolatedHistogram(w: Window, h: HistogramWindow, isCounter: boolean, isRate: boolean): WindowValue {
  if (w.n > 0) return warnMix(w);
  if (w.mode !== 'plain') return extendedHistogram(w, h, isCounter, isRate);
  const n = h.hi - h.lo;
  if (n < 2) return undefined;
  const first = h.hs[h.lo]!;
  const last = h.hs[h.hi - 1]!;
  // A counter that restarts at the second sample makes the first one's buckets irrelevant: only
  // its count (for extrapolating to zero) is read, so a first sample of the other bucket kind is fine.
  const second = h.hs[h.lo + 1]!;
  const base = isCounter && second.detectReset(first) ? new FloatHistogram({ schema: second.schema, customValues: second.customValues }) : first;
  let result: FloatHistogram;
  const notes = { reconciled: false };
  try {
    result = last.sub(base, notes);
    if (isCounter) {
      for (let i = h.lo + 1; i < h.hi; i++) if (h.hs[i]!.usesCustomBuckets() !== base.usesCustomBuckets()) return warnSchemas(w);
      for (let i = h.lo + 1; i < h.hi; i++) {
        const prev = i === h.lo + 1 ? base : h.hs[i - 1]!;
        if (h.hs[i]!.detectReset(prev)) result = result.add(prev, notes);
      }
    }
  } catch (e) {
    if (e instanceof MixedSchemasError) return warnSchemas(w);
    throw e;
  }
  noteReconciled(w, notes, 'subtraction');
  hintWarnings(w, h, h.lo, h.hi, isCounter);
  const firstT = h.ts[h.lo]!;
  const lastT = h.ts[h.hi - 1]!;
  let durationToStart = (firstT - w.rangeStart) / 1000;
  let durationToEnd = (w.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageBetweenSamples = sampledInterval / (n - 1);
  const threshold = averageBetweenSamples * 1.1;
  if (durationToStart >= threshold) durationToStart = averageBetweenSamples / 2;
  if (isCounter && result.count > 0 && first.count >= 0) {
    const durationToZero = sampledInterval * (first.count / result.count);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = averageBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  result.mul(factor);
  result.counterResetHint = 'gauge';
  return result.compact();
}

/**
 * The histogram on the line between two samples at time t. For a counter that restarted between
 * them, the line starts from zero at the first: the second scaled down. Throws MixedSchemasError
 * when one has exponential and the other custom buckets.
 */
export function interpolateHistogram(t1: number, h1: FloatHistogram, t2: number, h2: FloatHistogram, t: number, isCounter: boolean): FloatHistogram {
  if (t === t1) return h1.copy();
  if (t === t2) return h2.copy();
  const fraction = (t - t1) / (t2 - t1);
  if (isCounter && h2.detectReset(h1)) return h2.copy().mul(fraction);
  const out = h2.sub(h1).mul(fraction).add(h1);
  // The point on the line continues the same counter as its ends: their hint, not a gauge's.
  out.counterResetHint = sumHint(h2.counterResetHint, h1.counterResetHint);
  return out;
}

/**
 * rate, increase and delta over an anchored or smoothed window of histograms: the difference
 * between the histograms at the range's edges (the samples there, or for a smoothed window the
 * line through the samples around each edge), with a counter's losses at resets added back.
 */
function extendedHistogram(w: Window, h: HistogramWindow, isCounter: boolean, isRate: boolean): WindowValue {
  const { ts, hs } = h;
  const smoothed = w.mode === 'smoothed';
  let last = h.hi - 1;
  const first = Math.max(h.lo, searchFrom(ts, h.lo, last, (t) => t > w.rangeStart) - 1);
  if (smoothed) last = searchFrom(ts, h.lo, last, (t) => t >= w.rangeEnd);
  if (ts[last]! <= w.rangeStart || (smoothed && ts[first]! > w.rangeEnd)) return undefined;
  const custom = hs[first]!.usesCustomBuckets();
  for (let i = first; i <= last; i++) if (hs[i]!.usesCustomBuckets() !== custom) return warnSchemas(w);
  if (isCounter) hintWarnings(w, h, first, last + 1, true);
  try {
    const left =
      smoothed && ts[first]! < w.rangeStart
        ? interpolateHistogram(ts[first]!, hs[first]!, ts[first + 1]!, hs[first + 1]!, w.rangeStart, isCounter)
        : hs[first]!;
    const right =
      smoothed && last > h.lo && ts[last]! > w.rangeEnd
        ? interpolateHistogram(ts[last - 1]!, hs[last - 1]!, ts[last]!, hs[last]!, w.rangeEnd, isCounter)
        : hs[last]!;
    if (!isCounter && (left.counterResetHint !== 'gauge' || right.counterResetHint !== 'gauge')) {
      w.annos.warn(`this native histogram metric is not a gauge: ${quoted(w)}`, w.call.args[0]!.pos);
    }
    const notes = { reconciled: false };
    let result = right.sub(left, notes);
    noteReconciled(w, notes, 'subtraction');
    if (isCounter) {
      const losses = resetLosses(w, h, first, last, left, right);
      if (losses !== undefined) {
        const added = { reconciled: false };
        result = result.add(losses, added);
        noteReconciled(w, added, 'addition');
      }
    }
    if (isRate) result.div(w.rangeMs / 1000);
    result.counterResetHint = 'gauge';
    return result.compact();
  } catch (e) {
    if (e instanceof MixedSchemasError) return warnSchemas(w);
    throw e;
  }
}

/**
 * What a counter lost at its resets between an extended window's edges: the histogram before
 * each reset, summed. The edge samples are left and right themselves; a smoothed left edge
 * interpolated across a reset already counts that reset, so the sample after it only anchors
 * the next comparison.
 */
function resetLosses(w: Window, h: HistogramWindow, first: number, last: number, left: FloatHistogram, right: FloatHistogram): FloatHistogram | undefined {
  const { ts, hs } = h;
  let from = first + 1;
  let prev = left;
  if (w.mode === 'smoothed' && ts[first]! < w.rangeStart && hs[first + 1]!.detectReset(hs[first]!)) {
    prev = hs[first + 1]!;
    from++;
  }
  // right stands for the last sample (or inherits its hint), so the last sample is not compared itself.
  if (from > last) return undefined;
  let losses: FloatHistogram | undefined;
  const notes = { reconciled: false };
  const lose = (x: FloatHistogram): void => {
    losses = losses === undefined ? x.copy() : losses.add(x, notes);
  };
  for (let i = from; i < last; i++) {
    if (hs[i]!.detectReset(prev)) lose(prev);
    prev = hs[i]!;
  }
  if (right.detectReset(prev)) lose(prev);
  noteReconciled(w, notes, 'addition');
  return losses;
}

/** A counter's histograms should not be gauges, and a gauge's should all be. */
function hintWarnings(w: Window, h: HistogramWindow, lo: number, hi: number, isCounter: boolean): void {
  let gauges = 0;
  for (let i = lo; i < hi; i++) if (h.hs[i]!.counterResetHint === 'gauge') gauges++;
  if (isCounter && gauges > 0) w.annos.warn(`this native histogram metric is not a counter: ${quoted(w)}`, w.call.args[0]!.pos);
  if (!isCounter && gauges < hi - lo) w.annos.warn(`this native histogram metric is not a gauge: ${quoted(w)}`, w.call.args[0]!.pos);
}

/** irate and idelta: from the last two samples, which must both be histograms. */
function instantHistogram(w: Window, h: HistogramWindow, floats: RangeFunction, isRate: boolean): WindowValue {
  const lastFloat = w.n > 0 ? w.ts[w.n - 1]! : -Infinity;
  const lastHist = h.ts[h.hi - 1]!;
  if (lastFloat > lastHist) {
    // The newest sample is a float: the one before decides.
    if (w.n >= 2 && w.ts[w.n - 2]! > lastHist) return floats(w);
    return w.n + (h.hi - h.lo) >= 2 ? warnMix(w) : undefined;
  }
  if (h.hi - h.lo < 2) return w.n > 0 ? warnMix(w) : undefined;
  if (lastFloat > h.ts[h.hi - 2]!) return warnMix(w);
  const cur = h.hs[h.hi - 1]!;
  const prev = h.hs[h.hi - 2]!;
  const notes = { reconciled: false };
  let result: FloatHistogram;
  try {
    result = isRate && cur.detectReset(prev) ? cur.copy() : cur.sub(prev, notes);
  } catch (e) {
    if (e instanceof MixedSchemasError) return warnSchemas(w);
    throw e;
  }
  noteReconciled(w, notes, 'subtraction');
  hintWarnings(w, h, h.hi - 2, h.hi, isRate);
  if (isRate) result.mul(1000 / (lastHist - h.ts[h.hi - 2]!));
  result.counterResetHint = 'gauge';
  return result.compact();
}

/** Each sample of the window from float i and histogram j on, in time order: `f` gets its index in its lane and whether it is a histogram. */
function eachInOrder(w: Window, h: HistogramWindow, i: number, j: number, f: (i: number, isHistogram: boolean) => void): void {
  while (i < w.n || j < h.hi) {
    if (j >= h.hi || (i < w.n && w.ts[i]! < h.ts[j]!)) f(i++, false);
    else f(j++, true);
  }
}

/**
 * Where changes() and resets() start in an anchored window: at its last sample at or before the
 * range start, float or histogram (the samples of the other kind before it are skipped);
 * undefined when no sample follows the start.
 */
function anchor(w: Window, h: HistogramWindow): { float: number; histogram: number } | undefined {
  const floatAt = searchFrom(w.ts, 0, w.n, (t) => t > w.rangeStart) - 1;
  const histAt = searchFrom(h.ts, h.lo, h.hi, (t) => t > w.rangeStart) - 1;
  if (floatAt + 1 >= w.n && histAt + 1 >= h.hi) return undefined;
  const floatAnchor = floatAt >= 0;
  const histAnchor = histAt >= h.lo;
  if (!floatAnchor && !histAnchor) return { float: 0, histogram: h.lo };
  if (!histAnchor || (floatAnchor && w.ts[floatAt]! >= h.ts[histAt]!)) return { float: floatAt, histogram: histAt + 1 };
  return { float: floatAt + 1, histogram: histAt };
}

/** changes and resets: a switch between a float and a histogram counts as both. */
function transitions(
  w: Window,
  h: HistogramWindow,
  differs: (cur: FloatHistogram, prev: FloatHistogram) => boolean,
  floatsDiffer: (cur: number, prev: number) => boolean,
): number | undefined {
  let count = 0;
  let prevHist: FloatHistogram | undefined;
  let prevFloat = NaN;
  let first = true;
  const start = w.mode === 'anchored' ? anchor(w, h) : { float: 0, histogram: h.lo };
  if (start === undefined) return undefined;
  eachInOrder(w, h, start.float, start.histogram, (i, isHistogram) => {
    if (isHistogram) {
      const cur = h.hs[i]!;
      if (!first && (prevHist === undefined || differs(cur, prevHist))) count++;
      prevHist = cur;
    } else {
      const cur = w.vs[i]!;
      if (!first && (prevHist !== undefined || floatsDiffer(cur, prevFloat))) count++;
      prevHist = undefined;
      prevFloat = cur;
    }
    first = false;
  });
  return count;
}

const exactly = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * The samples of a window of histograms alone, summed or (with `mean`) averaged; undefined (with
 * a warning) when floats are there too or the schemas mix.
 */
function histogramSum(w: Window, h: HistogramWindow, mean: boolean): FloatHistogram | undefined {
  if (w.n > 0) return warnMix(w);
  let sum = h.hs[h.lo]!.copy();
  const notes = { reconciled: false };
  const hints = new HintsSeen();
  hints.note(sum);
  // The sums of observations compensated: a 1e100 and a -1e100 must not swallow the rest.
  const sums = new KahanSum();
  sums.add(sum.sum);
  try {
    for (let i = h.lo + 1; i < h.hi; i++) {
      sum = mean ? addToMean(sum, h.hs[i]!, i - h.lo + 1, notes) : sum.add(h.hs[i]!, notes);
      sums.add(h.hs[i]!.sum);
      hints.note(h.hs[i]!);
    }
  } catch (e) {
    if (e instanceof MixedSchemasError) return warnSchemas(w);
    throw e;
  }
  noteReconciled(w, notes, 'aggregation');
  if (hints.conflict()) w.annos.warn('conflicting counter resets during histogram aggregation', w.call.args[0]!.pos);
  const total = sums.value();
  if (!mean) sum.sum = total;
  else if (Number.isFinite(total)) sum.sum = total / (h.hi - h.lo);
  return sum;
}

/**
 * The mean of k histograms from the mean of the first k-1 and the k-th, each scaled down first:
 * counts near the largest float average without overflowing, as Prometheus's do.
 */
export function addToMean(mean: FloatHistogram, h: FloatHistogram, k: number, notes: HistogramOpNotes): FloatHistogram {
  return mean.mul((k - 1) / k).add(h.copy().mul(1 / k), notes);
}

function newest(w: Window, h: HistogramWindow): WindowValue {
  return w.n > 0 && w.ts[w.n - 1]! > h.ts[h.hi - 1]! ? w.vs[w.n - 1] : h.hs[h.hi - 1];
}

function oldest(w: Window, h: HistogramWindow): WindowValue {
  return w.n > 0 && w.ts[0]! < h.ts[h.lo]! ? w.vs[0] : h.hs[h.lo];
}

/** The histogram behaviour of each range function that has one of its own; the others read floats only. */
const HISTOGRAM_WINDOWS: Record<string, HistogramRangeFunction> = {
  rate: (w, h) => extrapolatedHistogram(w, h, true, true),
  increase: (w, h) => extrapolatedHistogram(w, h, true, false),
  delta: (w, h) => extrapolatedHistogram(w, h, false, false),
  irate: (w, h, floats) => instantHistogram(w, h, floats, true),
  idelta: (w, h, floats) => instantHistogram(w, h, floats, false),
  changes: (w, h) =>
    transitions(
      w,
      h,
      (cur, prev) => !cur.equals(prev, exactly),
      (cur, prev) => !exactly(cur, prev),
    ),
  resets: (w, h) =>
    transitions(
      w,
      h,
      (cur, prev) => cur.detectReset(prev),
      (cur, prev) => cur < prev,
    ),
  count_over_time: (w, h) => w.n + h.hi - h.lo,
  present_over_time: () => 1,
  absent_over_time: () => 1,
  last_over_time: newest,
  first_over_time: oldest,
  ts_of_last_over_time: (w, h) => Math.max(w.n > 0 ? w.ts[w.n - 1]! : -Infinity, h.ts[h.hi - 1]!) / 1000,
  ts_of_first_over_time: (w, h) => Math.min(w.n > 0 ? w.ts[0]! : Infinity, h.ts[h.lo]!) / 1000,
  sum_over_time: (w, h) => histogramSum(w, h, false)?.compact(),
  avg_over_time: (w, h) => histogramSum(w, h, true)?.compact(),
};

/** What a range function does with a window that holds histograms. */
export function histogramWindowFunction(name: string): HistogramRangeFunction {
  return HISTOGRAM_WINDOWS[name] ?? floatsOnly;
}
