import { FloatHistogram, HintsSeen, MixedSchemasError, type HistogramOpNotes } from '../../tsdb/float-histogram.js';
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
  const n = h.hi - h.lo;
  if (n < 2 || w.mode !== 'plain') return undefined;
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

/** Each sample of the window, floats and histograms, in time order: `f` gets its index in its lane and whether it is a histogram. */
function eachInOrder(w: Window, h: HistogramWindow, f: (i: number, isHistogram: boolean) => void): void {
  let i = 0;
  let j = h.lo;
  while (i < w.n || j < h.hi) {
    if (j >= h.hi || (i < w.n && w.ts[i]! < h.ts[j]!)) f(i++, false);
    else f(j++, true);
  }
}

/** changes and resets: a switch between a float and a histogram counts as both. */
function transitions(
  w: Window,
  h: HistogramWindow,
  differs: (cur: FloatHistogram, prev: FloatHistogram) => boolean,
  floatsDiffer: (cur: number, prev: number) => boolean,
): number {
  let count = 0;
  let prevHist: FloatHistogram | undefined;
  let prevFloat = NaN;
  let first = true;
  eachInOrder(w, h, (i, isHistogram) => {
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
