import { EMPTY_LABELS, LabelsBuilder, labelsCompare, labelsGet, labelsKey, labelsWithout, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import type { Annotations } from '../annotations.js';
import type { Call, ValueType } from '../ast.js';
import { formatFloatG } from '../../common/go-format.js';
import type { FloatHistogram } from '../../tsdb/float-histogram.js';
import { bucketFraction, bucketQuantile, type Bucket } from './histogram.js';
import { hasNaNObservations, nativeFraction, nativeQuantile, nativeStdvar } from './native-histogram.js';
import { labelJoin, labelReplace } from './labels.js';
import { naturalLess } from './natsort.js';
import * as windows from './range.js';
import type { RangeFunction } from './range.js';
import type { StepSample, StepSeries } from '../value.js';

/** A per-step argument: an instant vector, a scalar's value at the step, or a string literal. */
export type StepArg = StepSample[] | number | string;

export interface StepContext {
  ts: number;
  call: Call;
  annos: Annotations;
  /** True when the query has more than one step (sort then warns it is ineffective). */
  isRange: boolean;
  /** The query's own start, end and step (0 for an instant query), for start()/end()/range()/step(). */
  query: { startMs: number; endMs: number; stepMs: number };
  out: StepSample[];
}

/** Computes a function at one step, pushing its output samples to ctx.out. */
export type StepFunction = (args: StepArg[], ctx: StepContext) => void;

/** What a function of range vectors does with its windows, beyond computing a value from each. */
export interface WindowUse {
  /** Its output keeps the series' metric name. */
  keepsName: boolean;
  /** It may be given an `anchored` range selector. */
  anchored: boolean;
  /** It may be given a `smoothed` range selector. */
  smoothed: boolean;
  /** It reads the samples' start times where series have them, as in Prometheus: for counter resets and a counter's start inside the window. */
  startTimes: boolean;
}

/**
 * How the engine calls a function: over range windows, step by step on instant vectors and
 * scalars, or once on whole series (label rewriting).
 */
export type Implementation =
  | ({ kind: 'range'; fn: RangeFunction } & WindowUse)
  /** `histograms`: its vector arguments hold native histogram samples too (the others see floats only). */
  | { kind: 'step'; fn: StepFunction; histograms?: boolean }
  | { kind: 'relabel'; fn: (series: StepSeries[], args: string[]) => StepSeries[] }
  /** Evaluated by the engine itself: their output depends on selectors, not only on values. */
  | { kind: 'special' };

function out(labels: Labels, v: number, dropName: boolean): StepSample {
  return { labels, v, dropName, src: -1 };
}

function vec(a: StepArg | undefined): StepSample[] {
  return a as StepSample[];
}

function num(a: StepArg | undefined): number {
  return a as number;
}

/** A function applied to every sample's value; it changes the value, so the name goes. */
function elementwise(f: (v: number) => number): Implementation {
  return {
    kind: 'step',
    fn: (args, ctx) => {
      for (const s of vec(args[0])) ctx.out.push(out(s.labels, f(s.v), true));
    },
  };
}

/** Go's math.Max: an infinity wins over NaN, unlike Math.max. */
function goMax(a: number, b: number): number {
  if (a === Infinity || b === Infinity) return Infinity;
  return Math.max(a, b);
}

/** Go's math.Min: a negative infinity wins over NaN, unlike Math.min. */
function goMin(a: number, b: number): number {
  if (a === -Infinity || b === -Infinity) return -Infinity;
  return Math.min(a, b);
}

function clamp(v: StepSample[], min: number, max: number, ctx: StepContext): void {
  if (max < min) return;
  for (const s of v) ctx.out.push(out(s.labels, goMax(min, goMin(max, s.v)), true));
}

/** Date parts of a sample's value read as Unix seconds (default: the evaluation time). */
function dateFunction(part: (d: Date) => number): Implementation {
  return {
    kind: 'step',
    fn: (args, ctx) => {
      if (args.length === 0) {
        ctx.out.push(out([], part(new Date(Math.trunc(ctx.ts / 1000) * 1000)), false));
        return;
      }
      for (const s of vec(args[0])) {
        ctx.out.push(out(s.labels, part(new Date(Math.trunc(s.v) * 1000)), true));
      }
    },
  };
}

function daysInMonth(d: Date): number {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

function dayOfYear(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

/** Ascending with NaN last (Prometheus's sort); desc flips the order of numbers only. */
function byValue(desc: boolean): (a: StepSample, b: StepSample) => number {
  return (a, b) => {
    const an = Number.isNaN(a.v);
    const bn = Number.isNaN(b.v);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return desc ? b.v - a.v : a.v - b.v;
  };
}

/** `histograms`: the order is by labels, so histogram samples are sorted with the floats rather than dropped. */
function sortFunction(compare: (a: StepSample, b: StepSample, args: StepArg[]) => number, histograms = false): Implementation {
  return {
    kind: 'step',
    histograms,
    fn: (args, ctx) => {
      if (ctx.isRange) {
        ctx.annos.warn('sort is ineffective for range queries since results are always ordered by labels', ctx.call.pos);
      }
      const sorted = [...vec(args[0])].sort((a, b) => compare(a, b, args));
      for (const s of sorted) ctx.out.push(s);
    },
  };
}

function byLabels(desc: boolean): (a: StepSample, b: StepSample, args: StepArg[]) => number {
  return (a, b, args) => {
    for (let i = 1; i < args.length; i++) {
      const name = args[i] as string;
      const x = labelsGet(a.labels, name);
      const y = labelsGet(b.labels, name);
      if (x === y) continue;
      const less = naturalLess(x, y);
      return less !== desc ? -1 : 1;
    }
    const c = labelsCompare(a.labels, b.labels);
    return desc ? -c : c;
  };
}

/**
 * Groups classic histogram buckets by their labels without `le`; samples with a malformed `le`
 * are reported and skipped.
 */
function bucketGroups(v: StepSample[], ctx: StepContext, argIndex: number): { labels: Labels; buckets: Bucket[] }[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of v) {
    const le = labelsGet(s.labels, 'le');
    const upperBound = parseGoFloat(le);
    if (upperBound === undefined) {
      const name = labelsGet(s.labels, METRIC_NAME);
      let msg = `bucket label "le" is missing or has a malformed value of ${JSON.stringify(le)}`;
      if (name !== '') msg += ` for metric name ${JSON.stringify(name)}`;
      ctx.annos.warn(msg, ctx.call.args[argIndex]!.pos);
      continue;
    }
    const labels = labelsWithout(s.labels, ['le']);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ upperBound, count: s.v });
  }
  return [...groups.values()];
}

/** strconv.ParseFloat's accepted spellings, enough for `le` values. */
function parseGoFloat(s: string): number | undefined {
  const t = s.trim();
  if (t === '' || t !== s) return undefined;
  const lower = t.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  if (/^[+-]?(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t.replace(/_/g, ''));
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(t)) return Number.parseInt(t, 16);
  return undefined;
}

/**
 * The classic bucket groups and the native histograms of a vector, each estimated by `classic`
 * or `native`; a native histogram whose labels are a classic group's is a collision both lose,
 * with a warning.
 */
function histogramEstimates(
  v: StepSample[],
  ctx: StepContext,
  argIndex: number,
  classic: (buckets: Bucket[], labels: Labels) => number,
  native: (h: FloatHistogram, name: string) => number,
  emit: (labels: Labels, value: number) => void,
): void {
  const floats = v.filter((s) => s.h === undefined);
  const nativeKeys = new Map<string, StepSample>();
  for (const s of v) if (s.h !== undefined) nativeKeys.set(labelsKey(s.labels), s);
  for (const g of bucketGroups(floats, ctx, argIndex)) {
    const key = labelsKey(g.labels);
    if (nativeKeys.has(key)) {
      nativeKeys.delete(key);
      ctx.annos.warn(
        `vector contains a mix of classic and native histograms for metric name ${JSON.stringify(labelsGet(g.labels, METRIC_NAME))}`,
        ctx.call.args[argIndex]!.pos,
      );
      continue;
    }
    emit(g.labels, classic(g.buckets, g.labels));
  }
  for (const s of nativeKeys.values()) emit(s.labels, native(s.h!, labelsGet(s.labels, METRIC_NAME)));
}

function histogramQuantile(q: number, v: StepSample[], ctx: StepContext, argIndex: number, emit: (labels: Labels, value: number) => void): void {
  const native = (h: FloatHistogram, name: string): number => {
    const r = nativeQuantile(q, h);
    if (r.nanObservations !== 'none') ctx.annos.info(`${NAN_OBSERVATIONS[r.nanObservations]}${forMetric(name)}`, ctx.call.args[argIndex]!.pos);
    return r.value;
  };
  histogramEstimates(v, ctx, argIndex, (buckets, labels) => classicQuantile(q, buckets, labels, ctx, argIndex), native, emit);
}

function forMetric(name: string): string {
  return name === '' ? '' : ` for metric name ${JSON.stringify(name)}`;
}

const NAN_OBSERVATIONS = {
  skewed: 'input to histogram_quantile has NaN observations, result is skewed higher',
  void: 'input to histogram_quantile has NaN observations, result is NaN',
};

function classicQuantile(q: number, buckets: Bucket[], labels: Labels, ctx: StepContext, argIndex: number): number {
  const r = bucketQuantile(q, buckets);
  if (r.forcedMonotonic) {
    ctx.annos.monotonicityFixed(labelsGet(labels, METRIC_NAME), ctx.call.args[argIndex]!.pos, ctx.ts, r.minBucket, r.maxBucket, r.maxDiff);
  }
  return r.value;
}

/** A float of each native histogram sample, under its labels without the name; floats are ignored. */
function ofHistograms(f: (h: FloatHistogram) => number): Implementation {
  return {
    kind: 'step',
    histograms: true,
    fn: (args, ctx) => {
      for (const s of vec(args[0])) if (s.h !== undefined) ctx.out.push(out(s.labels, f(s.h), true));
    },
  };
}

/** A quantile as an OpenMetrics label value: Go's shortest %g, with ".0" on integers. */
function formatQuantileLabel(q: number): string {
  const s = formatFloatG(q);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** Parts of a date, for the date functions. */
const dayOfMonth = (d: Date): number => d.getUTCDate();
const dayOfWeek = (d: Date): number => d.getUTCDay();
const hourOf = (d: Date): number => d.getUTCHours();
const minuteOf = (d: Date): number => d.getUTCMinutes();
const monthOf = (d: Date): number => d.getUTCMonth() + 1;
const yearOf = (d: Date): number => d.getUTCFullYear();

const toDegrees = (v: number): number => (v * 180) / Math.PI;
const toRadians = (v: number): number => (v * Math.PI) / 180;
/** -1, 1, or the value itself for zeros and NaN. */
const signOf = (v: number): number => (v < 0 ? -1 : v > 0 ? 1 : v);

/** A scalar of two scalars. */
function ofTwoScalars(f: (a: number, b: number) => number): Implementation {
  return { kind: 'step', fn: (args, ctx) => void ctx.out.push(out([], f(num(args[0]), num(args[1])), false)) };
}

/** The query's own times in ms, for start(), end(), step() and range(). */
const queryStart = (q: StepContext['query']): number => q.startMs;
const queryEnd = (q: StepContext['query']): number => q.endMs;
const queryStep = (q: StepContext['query']): number => q.stepMs;
const queryRange = (q: StepContext['query']): number => q.endMs - q.startMs;

/** A scalar fixed by the query's parameters, the same at every step and inside subqueries. */
function queryConstant(ms: (q: StepContext['query']) => number): Implementation {
  return { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], ms(ctx.query) / 1000, false)) };
}

/** Times the engine put in the samples' values, under the series' labels without the name. */
const passTimes: Implementation = {
  kind: 'step',
  fn: (args, ctx) => {
    for (const s of vec(args[0])) ctx.out.push(out(s.labels, s.v, true));
  },
};

function overWindows(fn: RangeFunction, use: Partial<WindowUse> = {}): Implementation {
  return { kind: 'range', fn, keepsName: false, anchored: false, smoothed: false, startTimes: false, ...use };
}

/**
 * The type signature of a function, with Prometheus's meaning of `variadic`: 0 means exactly
 * `argTypes.length` arguments; otherwise the last listed argument is optional, and up to
 * `variadic` more of its type may follow (-1: any number). So `round` ([vector, scalar], 1) takes
 * 1 or 2 arguments and `label_join` ([vector, string, string, string], -1) takes 3 or more.
 */
export interface FunctionSignature {
  argTypes: readonly ValueType[];
  variadic: number;
  returnType: ValueType;
}

/** What is known of a function besides its signature and implementation. */
export interface FunctionFlags {
  /** Behind a feature flag in Prometheus; accepted here, as the conformance files use them. */
  experimental?: boolean;
  /** Its value depends on the evaluation time even when its arguments' do not: never step-invariant. */
  timeDependent?: boolean;
  /** The order of its output is part of its result (sorting, label rewriting): its input's order is kept. */
  keepsOrder?: boolean;
  /** Also written inside a duration (`[5m * step()]`, `offset max_of(...)`), in any letter case. */
  inDurations?: boolean;
}

/** A PromQL function: its signature, how it is computed, and its flags. */
export type PromQLFunction = FunctionSignature & FunctionFlags & { impl: Implementation };

const V: ValueType = 'vector';
const S: ValueType = 'scalar';
const M: ValueType = 'matrix';
const STR: ValueType = 'string';

function fn(argTypes: ValueType[], variadic: number, returnType: ValueType, impl: Implementation, flags: FunctionFlags = {}): PromQLFunction {
  return { argTypes, variadic, returnType, impl, ...flags };
}

/** Every PromQL function of Prometheus 3.x, by name: its type signature, its implementation and what else is known of it. */
export const FUNCTIONS: Readonly<Record<string, PromQLFunction>> = {
  abs: fn([V], 0, V, elementwise(Math.abs)),
  absent: fn([V], 0, V, { kind: 'special' }),
  absent_over_time: fn([M], 0, V, overWindows(windows.absent_over_time)),
  acos: fn([V], 0, V, elementwise(Math.acos)),
  acosh: fn([V], 0, V, elementwise(Math.acosh)),
  asin: fn([V], 0, V, elementwise(Math.asin)),
  asinh: fn([V], 0, V, elementwise(Math.asinh)),
  atan: fn([V], 0, V, elementwise(Math.atan)),
  atanh: fn([V], 0, V, elementwise(Math.atanh)),
  avg_over_time: fn([M], 0, V, overWindows(windows.avg_over_time)),
  ceil: fn([V], 0, V, elementwise(Math.ceil)),
  changes: fn([M], 0, V, overWindows(windows.changes, { anchored: true })),
  clamp: fn([V, S, S], 0, V, { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), num(args[1]), num(args[2]), ctx) }),
  clamp_max: fn([V, S], 0, V, { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), -Infinity, num(args[1]), ctx) }),
  clamp_min: fn([V, S], 0, V, { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), num(args[1]), Infinity, ctx) }),
  cos: fn([V], 0, V, elementwise(Math.cos)),
  cosh: fn([V], 0, V, elementwise(Math.cosh)),
  count_over_time: fn([M], 0, V, overWindows(windows.count_over_time)),
  day_of_month: fn([V], 1, V, dateFunction(dayOfMonth), { timeDependent: true }),
  day_of_week: fn([V], 1, V, dateFunction(dayOfWeek), { timeDependent: true }),
  day_of_year: fn([V], 1, V, dateFunction(dayOfYear), { timeDependent: true }),
  days_in_month: fn([V], 1, V, dateFunction(daysInMonth), { timeDependent: true }),
  deg: fn([V], 0, V, elementwise(toDegrees)),
  delta: fn([M], 0, V, overWindows(windows.delta, { anchored: true, smoothed: true })),
  deriv: fn([M], 0, V, overWindows(windows.deriv)),
  double_exponential_smoothing: fn([M, S, S], 0, V, overWindows(windows.double_exponential_smoothing), { experimental: true }),
  end: fn([], 0, S, queryConstant(queryEnd), { experimental: true, timeDependent: true }),
  exp: fn([V], 0, V, elementwise(Math.exp)),
  first_over_time: fn([M], 0, V, overWindows(windows.first_over_time, { keepsName: true })),
  floor: fn([V], 0, V, elementwise(Math.floor)),
  histogram_avg: fn(
    [V],
    0,
    V,
    ofHistograms((h) => h.sum / h.count),
  ),
  histogram_count: fn(
    [V],
    0,
    V,
    ofHistograms((h) => h.count),
  ),
  histogram_fraction: fn([S, S, V], 0, V, {
    kind: 'step',
    fn: (args, ctx) => {
      const lower = num(args[0]);
      const upper = num(args[1]);
      const emit = (labels: Labels, value: number): number => ctx.out.push(out(labels, value, true));
      const native = (h: FloatHistogram, name: string): number => {
        if (hasNaNObservations(h)) {
          ctx.annos.info(`input to histogram_fraction has NaN observations, which are excluded from all fractions${forMetric(name)}`, ctx.call.args[2]!.pos);
        }
        return nativeFraction(lower, upper, h);
      };
      histogramEstimates(vec(args[2]), ctx, 2, (buckets) => bucketFraction(lower, upper, buckets), native, emit);
    },
    histograms: true,
  }),
  histogram_quantile: fn([S, V], 0, V, {
    kind: 'step',
    fn: (args, ctx) => {
      const q = num(args[0]);
      if (Number.isNaN(q) || q < 0 || q > 1) ctx.annos.invalidQuantile(q, ctx.call.args[0]!.pos);
      histogramQuantile(q, vec(args[1]), ctx, 1, (labels, value) => ctx.out.push(out(labels, value, true)));
    },
    histograms: true,
  }),
  histogram_quantiles: fn(
    [V, STR, S, S],
    9,
    V,
    {
      kind: 'step',
      fn: (args, ctx) => {
        const label = args[1] as string;
        for (let i = 2; i < args.length; i++) {
          const q = num(args[i]);
          if (Number.isNaN(q) || q < 0 || q > 1) ctx.annos.invalidQuantile(q, ctx.call.args[i]!.pos);
        }
        for (let i = 2; i < args.length; i++) {
          const q = num(args[i]);
          histogramQuantile(q, vec(args[0]), ctx, 0, (labels, value) => {
            ctx.out.push(out(new LabelsBuilder(labels).set(label, formatQuantileLabel(q)).labels(), value, true));
          });
        }
      },
      histograms: true,
    },
    { experimental: true },
  ),
  histogram_stddev: fn(
    [V],
    0,
    V,
    ofHistograms((h) => Math.sqrt(nativeStdvar(h))),
  ),
  histogram_stdvar: fn([V], 0, V, ofHistograms(nativeStdvar)),
  histogram_sum: fn(
    [V],
    0,
    V,
    ofHistograms((h) => h.sum),
  ),
  hour: fn([V], 1, V, dateFunction(hourOf), { timeDependent: true }),
  idelta: fn([M], 0, V, overWindows(windows.idelta)),
  increase: fn([M], 0, V, overWindows(windows.increase, { anchored: true, smoothed: true, startTimes: true })),
  info: fn([V, V], 1, V, { kind: 'special' }, { experimental: true }),
  irate: fn([M], 0, V, overWindows(windows.irate, { startTimes: true })),
  label_join: fn(
    [V, STR, STR, STR],
    -1,
    V,
    {
      kind: 'relabel',
      fn: (series, args) => labelJoin(series, args[0]!, args[1]!, args.slice(2)),
    },
    { keepsOrder: true },
  ),
  label_replace: fn(
    [V, STR, STR, STR, STR],
    0,
    V,
    {
      kind: 'relabel',
      fn: (series, args) => labelReplace(series, args[0]!, args[1]!, args[2]!, args[3]!),
    },
    { keepsOrder: true },
  ),
  last_over_time: fn([M], 0, V, overWindows(windows.last_over_time, { keepsName: true })),
  ln: fn([V], 0, V, elementwise(Math.log)),
  log10: fn([V], 0, V, elementwise(Math.log10)),
  log2: fn([V], 0, V, elementwise(Math.log2)),
  mad_over_time: fn([M], 0, V, overWindows(windows.mad_over_time), { experimental: true }),
  max_of: fn([S, S], 0, S, ofTwoScalars(goMax), { experimental: true, inDurations: true }),
  max_over_time: fn([M], 0, V, overWindows(windows.max_over_time)),
  min_of: fn([S, S], 0, S, ofTwoScalars(goMin), { experimental: true, inDurations: true }),
  min_over_time: fn([M], 0, V, overWindows(windows.min_over_time)),
  minute: fn([V], 1, V, dateFunction(minuteOf), { timeDependent: true }),
  month: fn([V], 1, V, dateFunction(monthOf), { timeDependent: true }),
  pi: fn([], 0, S, { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], Math.PI, false)) }),
  predict_linear: fn([M, S], 0, V, overWindows(windows.predict_linear), { timeDependent: true }),
  present_over_time: fn([M], 0, V, overWindows(windows.present_over_time)),
  quantile_over_time: fn([S, M], 0, V, overWindows(windows.quantile_over_time)),
  rad: fn([V], 0, V, elementwise(toRadians)),
  range: fn([], 0, S, queryConstant(queryRange), { experimental: true, timeDependent: true, inDurations: true }),
  rate: fn([M], 0, V, overWindows(windows.rate, { anchored: true, smoothed: true, startTimes: true })),
  resets: fn([M], 0, V, overWindows(windows.resets, { anchored: true, startTimes: true })),
  round: fn([V, S], 1, V, {
    kind: 'step',
    fn: (args, ctx) => {
      const toNearest = args.length >= 2 ? num(args[1]) : 1;
      const inverse = 1 / toNearest;
      for (const s of vec(args[0])) ctx.out.push(out(s.labels, Math.floor(s.v * inverse + 0.5) / inverse, true));
    },
  }),
  scalar: fn([V], 0, S, {
    kind: 'step',
    fn: (args, ctx) => {
      const v = vec(args[0]);
      ctx.out.push(out([], v.length === 1 ? v[0]!.v : NaN, false));
    },
  }),
  sgn: fn([V], 0, V, elementwise(signOf)),
  sin: fn([V], 0, V, elementwise(Math.sin)),
  sinh: fn([V], 0, V, elementwise(Math.sinh)),
  sort: fn([V], 0, V, sortFunction(byValue(false)), { keepsOrder: true }),
  sort_by_label: fn([V, STR], -1, V, sortFunction(byLabels(false), true), { experimental: true, keepsOrder: true }),
  sort_by_label_desc: fn([V, STR], -1, V, sortFunction(byLabels(true), true), { experimental: true, keepsOrder: true }),
  sort_desc: fn([V], 0, V, sortFunction(byValue(true)), { keepsOrder: true }),
  sqrt: fn([V], 0, V, elementwise(Math.sqrt)),
  start: fn([], 0, S, queryConstant(queryStart), { experimental: true, timeDependent: true }),
  // The engine hands start_timestamp() the samples' start times (selectors only).
  start_timestamp: fn([V], 0, V, passTimes, { experimental: true }),
  stddev_over_time: fn([M], 0, V, overWindows(windows.stddev_over_time)),
  stdvar_over_time: fn([M], 0, V, overWindows(windows.stdvar_over_time)),
  step: fn([], 0, S, queryConstant(queryStep), { experimental: true, timeDependent: true, inDurations: true }),
  sum_over_time: fn([M], 0, V, overWindows(windows.sum_over_time)),
  tan: fn([V], 0, V, elementwise(Math.tan)),
  tanh: fn([V], 0, V, elementwise(Math.tanh)),
  time: fn([], 0, S, { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], ctx.ts / 1000, false)) }, { timeDependent: true }),
  // The engine hands timestamp() sample times (selectors) or step times (anything else) as values.
  timestamp: fn([V], 0, V, passTimes, { timeDependent: true }),
  ts_of_first_over_time: fn([M], 0, V, overWindows(windows.ts_of_first_over_time), { experimental: true }),
  ts_of_last_over_time: fn([M], 0, V, overWindows(windows.ts_of_last_over_time), { experimental: true }),
  ts_of_max_over_time: fn([M], 0, V, overWindows(windows.ts_of_max_over_time), { experimental: true }),
  ts_of_min_over_time: fn([M], 0, V, overWindows(windows.ts_of_min_over_time), { experimental: true }),
  vector: fn([S], 0, V, { kind: 'step', fn: (args, ctx) => void ctx.out.push(out(EMPTY_LABELS, num(args[0]), false)) }),
  year: fn([V], 1, V, dateFunction(yearOf), { timeDependent: true }),
};

/** A function by name; undefined for an unknown name. */
export function functionNamed(name: string): PromQLFunction | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}
