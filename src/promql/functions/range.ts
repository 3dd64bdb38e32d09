import type { Annotations } from '../annotations.js';
import type { Call } from '../ast.js';
import { EvalError } from '../errors.js';
import { anchoredStart, extendedDelta, type WindowMode } from './extended-range.js';
import { KahanMean, KahanSum, quantileOf } from './kahan.js';
import { isStartTimeReset, startTimeOverlaps } from './start-time-resets.js';

/**
 * The samples of one series inside one range window, stale markers removed, in scratch arrays
 * the engine reuses for every window (so a window costs no allocation). `params` holds the
 * call's scalar arguments at this step, in argument order without the range argument.
 */
export interface Window {
  ts: Float64Array;
  vs: Float64Array;
  /** Start times (ms, 0 = unknown) of the samples, for the functions that read them and only from series that have them. */
  st: Float64Array | undefined;
  /** True when every sample of the window has the same start time. */
  stSame: boolean;
  n: number;
  /** The series' metric name, for annotations. */
  metricName: string;
  /** The evaluation step's time. */
  stepTs: number;
  /** Exclusive start and inclusive end of the window, after offset and `@`. */
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
  /** `anchored` / `smoothed` windows also hold samples up to a lookback delta beyond the range. */
  mode: WindowMode;
  params: number[];
  call: Call;
  annos: Annotations;
}

/** Computes one output value for a window, or undefined for "no sample at this step". */
export type RangeFunction = (w: Window) => number | undefined;

/** Whether sample i (i >= 1) begins a new run of a counter: its value dropped, or its start time says it restarted. */
function counterReset(w: Window, i: number): boolean {
  if (w.vs[i]! < w.vs[i - 1]!) return true;
  const st = w.st;
  return st !== undefined && isStartTimeReset(st[i - 1]!, w.ts[i - 1]!, st[i]!, w.ts[i]!);
}

/**
 * `result` plus the value just before each counter reset of the window (what the increase lost
 * there), added in order. With start times it also warns, once a window, when a sample claims to
 * start before the sample it follows.
 */
function addResetLosses(w: Window, result: number): number {
  const { ts, vs, st, n } = w;
  // One start time for the whole window never overlaps, and marks a reset only when it lies
  // strictly between two of the window's samples: usually only the values need looking at.
  if (st === undefined || (w.stSame && (st[0]! <= ts[0]! || st[0]! >= ts[n - 1]!))) {
    for (let i = 1; i < n; i++) if (vs[i]! < vs[i - 1]!) result += vs[i - 1]!;
    return result;
  }
  let warned = false;
  for (let i = 1; i < n; i++) {
    const prevSt = st[i - 1]!;
    const prevT = ts[i - 1]!;
    const curSt = st[i]!;
    if (!warned && startTimeOverlaps(prevSt, prevT, curSt)) {
      w.annos.startTimeOverlap(w.metricName, w.call.args[0]!.pos);
      warned = true;
    }
    if (vs[i]! < vs[i - 1]! || isStartTimeReset(prevSt, prevT, curSt, ts[i]!)) result += vs[i - 1]!;
  }
  return result;
}

/** Prometheus's extrapolated rate: the increase over the window, extended to its edges. */
function extrapolatedDelta(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  if (w.mode !== 'plain') return extendedDelta(w, w.mode === 'smoothed', isCounter, isRate ? w.rangeMs : undefined);
  const { ts, vs, n } = w;
  if (n === 0) return undefined;
  const st = isCounter ? w.st : undefined;
  const firstT = ts[0]!;
  const lastT = ts[n - 1]!;
  let result = vs[n - 1]! - vs[0]!;
  if (isCounter) result = addResetLosses(w, result);
  let durationToStart = (firstT - w.rangeStart) / 1000;
  let durationToEnd = (w.rangeEnd - lastT) / 1000;
  let sampledInterval = (lastT - firstT) / 1000;
  const averageBetweenSamples = n > 1 ? sampledInterval / (n - 1) : 0;
  const threshold = averageBetweenSamples * 1.1;
  const firstSt = st === undefined ? 0 : st[0]!;
  if (firstSt !== 0 && firstSt > w.rangeStart && firstSt < firstT) {
    // The counter started inside the window: count from a zero at its start time instead of
    // extrapolating to the left. A lone sample then has no interval to extrapolate right with.
    durationToStart = 0;
    sampledInterval = (lastT - firstSt) / 1000;
    result += vs[0]!;
  } else if (n < 2) {
    return undefined;
  } else {
    if (durationToStart >= threshold) durationToStart = averageBetweenSamples / 2;
    if (isCounter && result > 0 && vs[0]! >= 0) {
      // A counter cannot go below zero: never extrapolate further back than where it would be zero.
      const durationToZero = sampledInterval * (vs[0]! / result);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
  }
  if (durationToEnd >= threshold) durationToEnd = averageBetweenSamples / 2;
  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

function instantDelta(w: Window, isRate: boolean): number | undefined {
  const { ts, vs, n } = w;
  if (n < 2) return undefined;
  const interval = ts[n - 1]! - ts[n - 2]!;
  if (interval === 0) return undefined;
  const last = vs[n - 1]!;
  const prev = vs[n - 2]!;
  // A counter reset: the last value is the increase since the reset.
  let result = isRate && counterReset(w, n - 1) ? last : last - prev;
  if (isRate) result /= interval / 1000;
  return result;
}

const kahan = new KahanSum();
const mean = new KahanMean();
let scratch = new Float64Array(64);

function copyValues(w: Window): Float64Array {
  if (scratch.length < w.n) scratch = new Float64Array(w.n * 2);
  const out = scratch.subarray(0, w.n);
  out.set(w.vs.subarray(0, w.n));
  return out;
}

function varianceOverTime(w: Window): number {
  const { vs, n } = w;
  const m = new KahanSum();
  const aux = new KahanSum();
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = vs[i]!;
    count++;
    const delta = v - (m.sum + m.c);
    m.add(delta / count);
    aux.add(delta * (v - (m.sum + m.c)));
  }
  return (aux.sum + aux.c) / count;
}

function extremeOverTime(w: Window, better: (cur: number, best: number) => boolean, timestamp: boolean): number | undefined {
  const { ts, vs, n } = w;
  if (n === 0) return undefined;
  let best = vs[0]!;
  let bestT = ts[0]!;
  for (let i = 0; i < n; i++) {
    const v = vs[i]!;
    if (better(v, best) || Number.isNaN(best)) {
      best = v;
      bestT = ts[i]!;
    }
  }
  return timestamp ? bestT / 1000 : best;
}

/** Least-squares slope and intercept of the window, x in seconds relative to interceptTime. */
function linearRegression(w: Window, interceptTime: number): [number, number] {
  const { ts, vs, n } = w;
  const sumX = new KahanSum();
  const sumY = new KahanSum();
  const sumXY = new KahanSum();
  const sumX2 = new KahanSum();
  const initY = vs[0]!;
  let constY = true;
  for (let i = 0; i < n; i++) {
    const y = vs[i]!;
    if (constY && i > 0 && y !== initY) constY = false;
    const x = (ts[i]! - interceptTime) / 1000;
    sumX.add(x);
    sumY.add(y);
    sumXY.add(x * y);
    sumX2.add(x * x);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  const sx = sumX.sum + sumX.c;
  const sy = sumY.sum + sumY.c;
  const sxy = sumXY.sum + sumXY.c;
  const sx2 = sumX2.sum + sumX2.c;
  const covXY = sxy - (sx * sy) / n;
  const varX = sx2 - (sx * sx) / n;
  const slope = covXY / varX;
  return [slope, sy / n - (slope * sx) / n];
}

function formatFactor(x: number): string {
  return Number.isNaN(x) ? 'NaN' : x.toFixed(6);
}

function doubleExponentialSmoothing(w: Window): number | undefined {
  const sf = w.params[0]!;
  const tf = w.params[1]!;
  if (!(sf > 0 && sf < 1)) throw new EvalError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFactor(sf)}`);
  if (!(tf > 0 && tf < 1)) throw new EvalError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatFactor(tf)}`);
  const { vs, n } = w;
  if (n < 2) return undefined;
  let s0 = 0;
  let s1 = vs[0]!;
  let b = vs[1]! - vs[0]!;
  for (let i = 1; i < n; i++) {
    const x = sf * vs[i]!;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

// One export a function of a range vector, named as in PromQL; the function table says what else each one is.
export const rate: RangeFunction = (w) => extrapolatedDelta(w, true, true);

export const increase: RangeFunction = (w) => extrapolatedDelta(w, true, false);

export const delta: RangeFunction = (w) => extrapolatedDelta(w, false, false);

export const irate: RangeFunction = (w) => instantDelta(w, true);

export const idelta: RangeFunction = (w) => instantDelta(w, false);

export const sum_over_time: RangeFunction = (w) => {
  kahan.reset();
  for (let i = 0; i < w.n; i++) kahan.add(w.vs[i]!);
  return kahan.value();
};

export const avg_over_time: RangeFunction = (w) => {
  mean.reset();
  for (let i = 0; i < w.n; i++) mean.add(w.vs[i]!);
  return mean.value();
};

export const count_over_time: RangeFunction = (w) => w.n;

export const min_over_time: RangeFunction = (w) => extremeOverTime(w, (cur, best) => cur < best, false);

export const max_over_time: RangeFunction = (w) => extremeOverTime(w, (cur, best) => cur > best, false);

export const ts_of_min_over_time: RangeFunction = (w) => extremeOverTime(w, (cur, best) => cur <= best, true);

export const ts_of_max_over_time: RangeFunction = (w) => extremeOverTime(w, (cur, best) => cur >= best, true);

export const last_over_time: RangeFunction = (w) => w.vs[w.n - 1];

export const first_over_time: RangeFunction = (w) => w.vs[0];

export const ts_of_last_over_time: RangeFunction = (w) => w.ts[w.n - 1]! / 1000;

export const ts_of_first_over_time: RangeFunction = (w) => w.ts[0]! / 1000;

export const present_over_time: RangeFunction = () => 1;

export const stdvar_over_time: RangeFunction = (w) => varianceOverTime(w);

export const stddev_over_time: RangeFunction = (w) => Math.sqrt(varianceOverTime(w));

export const quantile_over_time: RangeFunction = (w) => {
  const q = w.params[0]!;
  if (Number.isNaN(q) || q < 0 || q > 1) w.annos.invalidQuantile(q, w.call.args[0]!.pos);
  return quantileOf(q, copyValues(w));
};

export const mad_over_time: RangeFunction = (w) => {
  const values = copyValues(w);
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) return NaN;
  const median = quantileOf(0.5, values);
  for (let i = 0; i < values.length; i++) values[i] = Math.abs(values[i]! - median);
  return quantileOf(0.5, values);
};

export const changes: RangeFunction = (w) => {
  const start = w.mode === 'anchored' ? anchoredStart(w) : 0;
  if (start === undefined) return undefined;
  let changes = 0;
  for (let i = start + 1; i < w.n; i++) {
    const prev = w.vs[i - 1]!;
    const cur = w.vs[i]!;
    if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
  }
  return changes;
};

export const resets: RangeFunction = (w) => {
  const start = w.mode === 'anchored' ? anchoredStart(w) : 0;
  if (start === undefined) return undefined;
  let resets = 0;
  for (let i = start + 1; i < w.n; i++) if (counterReset(w, i)) resets++;
  return resets;
};

export const deriv: RangeFunction = (w) => (w.n < 2 ? undefined : linearRegression(w, w.ts[0]!)[0]);

export const predict_linear: RangeFunction = (w) => {
  if (w.n < 2) return undefined;
  const [slope, intercept] = linearRegression(w, w.stepTs);
  return slope * w.params[0]! + intercept;
};

export const double_exponential_smoothing: RangeFunction = doubleExponentialSmoothing;

export const absent_over_time: RangeFunction = () => 1;
