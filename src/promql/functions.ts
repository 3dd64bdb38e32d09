import { EMPTY_LABELS, LabelsBuilder, labelsCompare, labelsGet, labelsKey, labelsWithout, METRIC_NAME, type Labels } from '../tsdb/labels.js';
import type { Annotations } from './annotations.js';
import type { Call } from './ast.js';
import { formatFloatG } from '../common/go-format.js';
import { bucketFraction, bucketQuantile, type Bucket } from './histogram.js';
import { labelJoin, labelReplace } from './label-functions.js';
import { naturalLess } from './natsort.js';
import { RANGE_FUNCTIONS, type RangeFunction } from './range-functions.js';
import type { StepSample, StepSeries } from './value.js';

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

/**
 * How the engine calls a function: over range windows, step by step on instant vectors and
 * scalars, or once on whole series (label rewriting). Types are in signatures.ts.
 */
export type FunctionDef =
  | { kind: 'range'; fn: RangeFunction; keepsName: boolean }
  | { kind: 'step'; fn: StepFunction }
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
function elementwise(f: (v: number) => number): FunctionDef {
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
function dateFunction(part: (d: Date) => number): FunctionDef {
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

function sortFunction(compare: (a: StepSample, b: StepSample, args: StepArg[]) => number): FunctionDef {
  return {
    kind: 'step',
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

function histogramQuantile(q: number, v: StepSample[], ctx: StepContext, argIndex: number, emit: (labels: Labels, value: number) => void): void {
  for (const g of bucketGroups(v, ctx, argIndex)) {
    const r = bucketQuantile(q, g.buckets);
    if (r.forcedMonotonic) {
      ctx.annos.monotonicityFixed(labelsGet(g.labels, METRIC_NAME), ctx.call.args[argIndex]!.pos, ctx.ts, r.minBucket, r.maxBucket, r.maxDiff);
    }
    emit(g.labels, r.value);
  }
}

/** A quantile as an OpenMetrics label value: Go's shortest %g, with ".0" on integers. */
function formatQuantileLabel(q: number): string {
  const s = formatFloatG(q);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** A scalar fixed by the query's parameters, the same at every step and inside subqueries. */
function queryConstant(f: (q: StepContext['query']) => number): FunctionDef {
  return { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], f(ctx.query), false)) };
}

/** Functions of data this engine does not store (native histograms): never any output. */
const noOutput: FunctionDef = { kind: 'step', fn: () => undefined };

/** Times the engine put in the samples' values, under the series' labels without the name. */
const passTimes: FunctionDef = {
  kind: 'step',
  fn: (args, ctx) => {
    for (const s of vec(args[0])) ctx.out.push(out(s.labels, s.v, true));
  },
};

function range(name: string, keepsName = false): FunctionDef {
  return { kind: 'range', fn: RANGE_FUNCTIONS[name]!, keepsName };
}

/** Every PromQL function this engine evaluates, keyed by name. */
export const FUNCTIONS: Record<string, FunctionDef> = {
  abs: elementwise(Math.abs),
  ceil: elementwise(Math.ceil),
  floor: elementwise(Math.floor),
  exp: elementwise(Math.exp),
  sqrt: elementwise(Math.sqrt),
  ln: elementwise(Math.log),
  log2: elementwise(Math.log2),
  log10: elementwise(Math.log10),
  sin: elementwise(Math.sin),
  cos: elementwise(Math.cos),
  tan: elementwise(Math.tan),
  asin: elementwise(Math.asin),
  acos: elementwise(Math.acos),
  atan: elementwise(Math.atan),
  sinh: elementwise(Math.sinh),
  cosh: elementwise(Math.cosh),
  tanh: elementwise(Math.tanh),
  asinh: elementwise(Math.asinh),
  acosh: elementwise(Math.acosh),
  atanh: elementwise(Math.atanh),
  rad: elementwise((v) => (v * Math.PI) / 180),
  deg: elementwise((v) => (v * 180) / Math.PI),
  sgn: elementwise((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  round: {
    kind: 'step',
    fn: (args, ctx) => {
      const toNearest = args.length >= 2 ? num(args[1]) : 1;
      const inverse = 1 / toNearest;
      for (const s of vec(args[0])) ctx.out.push(out(s.labels, Math.floor(s.v * inverse + 0.5) / inverse, true));
    },
  },
  clamp: { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), num(args[1]), num(args[2]), ctx) },
  clamp_max: { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), -Infinity, num(args[1]), ctx) },
  clamp_min: { kind: 'step', fn: (args, ctx) => clamp(vec(args[0]), num(args[1]), Infinity, ctx) },
  scalar: {
    kind: 'step',
    fn: (args, ctx) => {
      const v = vec(args[0]);
      ctx.out.push(out([], v.length === 1 ? v[0]!.v : NaN, false));
    },
  },
  vector: { kind: 'step', fn: (args, ctx) => void ctx.out.push(out(EMPTY_LABELS, num(args[0]), false)) },
  time: { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], ctx.ts / 1000, false)) },
  pi: { kind: 'step', fn: (_args, ctx) => void ctx.out.push(out([], Math.PI, false)) },
  start: queryConstant((q) => q.startMs / 1000),
  end: queryConstant((q) => q.endMs / 1000),
  range: queryConstant((q) => (q.endMs - q.startMs) / 1000),
  step: queryConstant((q) => q.stepMs / 1000),
  max_of: { kind: 'step', fn: (args, ctx) => void ctx.out.push(out([], goMax(num(args[0]), num(args[1])), false)) },
  min_of: { kind: 'step', fn: (args, ctx) => void ctx.out.push(out([], goMin(num(args[0]), num(args[1])), false)) },
  // The engine hands timestamp() sample times (selectors) or step times (anything else) as values,
  // and start_timestamp() the samples' start times (selectors only).
  timestamp: passTimes,
  start_timestamp: passTimes,
  days_in_month: dateFunction(daysInMonth),
  day_of_month: dateFunction((d) => d.getUTCDate()),
  day_of_week: dateFunction((d) => d.getUTCDay()),
  day_of_year: dateFunction(dayOfYear),
  hour: dateFunction((d) => d.getUTCHours()),
  minute: dateFunction((d) => d.getUTCMinutes()),
  month: dateFunction((d) => d.getUTCMonth() + 1),
  year: dateFunction((d) => d.getUTCFullYear()),
  sort: sortFunction(byValue(false)),
  sort_desc: sortFunction(byValue(true)),
  sort_by_label: sortFunction(byLabels(false)),
  sort_by_label_desc: sortFunction(byLabels(true)),
  histogram_quantile: {
    kind: 'step',
    fn: (args, ctx) => {
      const q = num(args[0]);
      if (Number.isNaN(q) || q < 0 || q > 1) ctx.annos.invalidQuantile(q, ctx.call.args[0]!.pos);
      histogramQuantile(q, vec(args[1]), ctx, 1, (labels, value) => ctx.out.push(out(labels, value, true)));
    },
  },
  histogram_quantiles: {
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
  },
  histogram_fraction: {
    kind: 'step',
    fn: (args, ctx) => {
      const lower = num(args[0]);
      const upper = num(args[1]);
      for (const g of bucketGroups(vec(args[2]), ctx, 2)) ctx.out.push(out(g.labels, bucketFraction(lower, upper, g.buckets), true));
    },
  },
  histogram_count: noOutput,
  histogram_sum: noOutput,
  histogram_avg: noOutput,
  histogram_stddev: noOutput,
  histogram_stdvar: noOutput,
  absent: { kind: 'special' },
  info: { kind: 'special' },
  label_replace: {
    kind: 'relabel',
    fn: (series, args) => labelReplace(series, args[0]!, args[1]!, args[2]!, args[3]!),
  },
  label_join: {
    kind: 'relabel',
    fn: (series, args) => labelJoin(series, args[0]!, args[1]!, args.slice(2)),
  },
  rate: range('rate'),
  increase: range('increase'),
  delta: range('delta'),
  irate: range('irate'),
  idelta: range('idelta'),
  sum_over_time: range('sum_over_time'),
  avg_over_time: range('avg_over_time'),
  count_over_time: range('count_over_time'),
  min_over_time: range('min_over_time'),
  max_over_time: range('max_over_time'),
  ts_of_min_over_time: range('ts_of_min_over_time'),
  ts_of_max_over_time: range('ts_of_max_over_time'),
  last_over_time: range('last_over_time', true),
  first_over_time: range('first_over_time', true),
  ts_of_last_over_time: range('ts_of_last_over_time'),
  ts_of_first_over_time: range('ts_of_first_over_time'),
  present_over_time: range('present_over_time'),
  stdvar_over_time: range('stdvar_over_time'),
  stddev_over_time: range('stddev_over_time'),
  quantile_over_time: range('quantile_over_time'),
  mad_over_time: range('mad_over_time'),
  changes: range('changes'),
  resets: range('resets'),
  deriv: range('deriv'),
  predict_linear: range('predict_linear'),
  double_exponential_smoothing: range('double_exponential_smoothing'),
  absent_over_time: range('absent_over_time'),
};
