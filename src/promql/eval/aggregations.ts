import { LabelsBuilder, labelsGet, labelsKey, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import { formatFloatF, formatFloatG, goQuote } from '../../common/go-format.js';
import type { Annotations } from '../annotations.js';
import type { AggregateExpr } from '../ast.js';
import { EvalError } from '../errors.js';
import { isValidLabelName } from '../functions/labels.js';
import { KahanMean, KahanSum, quantileOf } from '../functions/kahan.js';
import type { Paced, Pacer } from './pacer.js';
import { StepOutput, StepReader, stepCount, type StepGrid } from './steps.js';
import type { StepSample, StepSeries } from '../value.js';
import { HintsSeen, MixedSchemasError, type FloatHistogram, type HistogramOpNotes } from '../../tsdb/float-histogram.js';
import { addToMean } from '../functions/histogram-windows.js';
import { xxhash64 } from './xxhash.js';

/** The labels an aggregation's output keeps from an input series. */
function groupingLabels(l: Labels, names: ReadonlySet<string>, without: boolean): Labels {
  const out: string[] = [];
  for (let i = 0; i < l.length; i += 2) {
    if (names.has(l[i]!) !== without) out.push(l[i]!, l[i + 1]!);
  }
  return out;
}

function groupingNames(e: AggregateExpr, extra: string[] = []): Set<string> {
  return new Set(e.without ? [...e.grouping, ...extra, METRIC_NAME] : [...e.grouping, ...extra]);
}

/**
 * The group key of a `by` aggregation, read straight from the labels so that no group label set
 * is built for series whose group exists already. One name's value is its own key (interned by
 * the TSDB, so its hash is computed once); several are length-prefixed. An absent label reads
 * as '', which no present label has.
 */
function byGroupKey(l: Labels, names: readonly string[]): string {
  if (names.length === 1) return labelsGet(l, names[0]!);
  let key = '';
  for (const name of names) {
    const v = labelsGet(l, name);
    key += `${v.length}:${v}`;
  }
  return key;
}

/** Assigns every input series to its group once, so steps only index arrays. */
function assignGroups(input: StepSeries[], e: AggregateExpr): { groupOf: Int32Array; labels: Labels[] } {
  const groupOf = new Int32Array(input.length);
  if (!e.without && e.grouping.length === 0) return { groupOf, labels: input.length > 0 ? [[]] : [] };
  const names = groupingNames(e);
  const byNames = e.without ? undefined : [...names];
  const index = new Map<string, number>();
  const labels: Labels[] = [];
  for (let i = 0; i < input.length; i++) {
    const l = input[i]!.labels;
    let key: string;
    let grouped: Labels | undefined;
    if (byNames !== undefined) key = byGroupKey(l, byNames);
    else {
      grouped = groupingLabels(l, names, true);
      key = labelsKey(grouped);
    }
    let g = index.get(key);
    if (g === undefined) {
      g = labels.length;
      index.set(key, g);
      labels.push(grouped ?? groupingLabels(l, names, false));
    }
    groupOf[i] = g;
  }
  return { groupOf, labels };
}

function foldMinMax(params: number[]): { min: number; max: number; nan: boolean } {
  let min = Number.MAX_VALUE;
  let max = -Number.MAX_VALUE;
  let nan = false;
  for (const p of params) {
    min = Math.min(min, p);
    max = Math.max(max, p);
    if (Number.isNaN(p)) nan = true;
  }
  return { min, max, nan };
}

interface GroupState {
  seen: boolean;
  /** The group's histograms of this step summed (sum, avg), and how many. */
  hist: FloatHistogram | undefined;
  /** The histograms' sums, compensated: a sum of 1e100 and one of -1e100 must not swallow the rest. */
  hsum: KahanSum;
  hcount: number;
  /** The histograms could not be summed: exponential and custom buckets mixed. */
  hmixed: boolean;
  /** The counter reset hints among the histograms summed: a reset beside a not_reset is a conflict. */
  hints: HintsSeen;
  value: number;
  count: number;
  dropName: boolean;
  mean: number;
  sum: KahanSum;
  avg: KahanMean;
  values: number[];
}

function newState(): GroupState {
  return {
    seen: false,
    hist: undefined,
    hsum: new KahanSum(),
    hcount: 0,
    hmixed: false,
    hints: new HintsSeen(),
    value: 0,
    count: 0,
    dropName: false,
    mean: 0,
    sum: new KahanSum(),
    avg: new KahanMean(),
    values: [],
  };
}

/** sum, avg, min, max, count, group, stddev, stdvar, quantile. */
function* aggregateValues(e: AggregateExpr, input: StepSeries[], grid: StepGrid, params: number[], annos: Annotations, pacer: Pacer): Paced<StepSeries[]> {
  const { groupOf, labels } = assignGroups(input, e);
  const states = labels.map(newState);
  const outTs: number[][] = labels.map(() => []);
  const outVs: number[][] = labels.map(() => []);
  const outHts: number[][] = labels.map(() => []);
  const outHs: FloatHistogram[][] = labels.map(() => []);
  const dropName = new Uint8Array(labels.length);
  const reader = new StepReader(input, true);
  const vec: StepSample[] = [];
  const op = e.op;
  const sumsHistograms = op === 'sum' || op === 'avg';
  const notes = { reconciled: false };
  const countsHistograms = op === 'count' || op === 'group';
  if (op === 'quantile') {
    const { min, max, nan } = foldMinMax(params);
    if (nan) annos.invalidQuantile(NaN, e.param?.pos);
    if (max > 1) annos.invalidQuantile(max, e.param?.pos);
    if (min < 0) annos.invalidQuantile(min, e.param?.pos);
  }
  const n = stepCount(grid);
  for (let step = 0; step < n; step++) {
    const ts = grid.start + step * grid.interval;
    for (const st of states) {
      st.seen = false;
      st.hcount = 0;
    }
    for (const s of reader.vectorAt(ts, vec)) {
      const st = states[groupOf[s.src]!]!;
      if (s.h !== undefined && !countsHistograms) {
        if (sumsHistograms) addHistogram(st, s, op === 'avg', notes);
        else annos.info(`ignored histogram in ${op} aggregation`, e.pos);
        continue;
      }
      const f = s.v;
      if (!st.seen) {
        st.seen = true;
        st.value = f;
        st.mean = f;
        st.count = 1;
        st.dropName = s.dropName;
        switch (op) {
          case 'sum':
            st.sum.reset();
            st.sum.add(f);
            break;
          case 'avg':
            st.avg.reset();
            st.avg.add(f);
            break;
          case 'stddev':
          case 'stdvar':
            st.value = Number.isNaN(f) || f === Infinity || f === -Infinity ? NaN : 0;
            break;
          case 'quantile':
            st.values.length = 0;
            st.values.push(f);
            break;
          case 'group':
            st.value = 1;
            break;
          default:
            // max, min and count start from the value and count set above.
            break;
        }
        continue;
      }
      if (s.dropName) st.dropName = true;
      switch (op) {
        case 'sum':
          st.sum.add(f);
          break;
        case 'avg':
          st.count++;
          st.avg.add(f);
          break;
        case 'max':
          if (st.value < f || Number.isNaN(st.value)) st.value = f;
          break;
        case 'min':
          if (st.value > f || Number.isNaN(st.value)) st.value = f;
          break;
        case 'count':
          st.count++;
          break;
        case 'stddev':
        case 'stdvar': {
          st.count++;
          const delta = f - st.mean;
          st.mean += delta / st.count;
          st.value += delta * (f - st.mean);
          break;
        }
        case 'quantile':
          st.values.push(f);
          break;
        default:
          break;
      }
    }
    for (let g = 0; g < states.length; g++) {
      const st = states[g]!;
      if (st.hcount > 0) {
        if (st.seen) annos.warn('encountered a mix of histograms and floats for aggregation', e.pos);
        else if (st.hmixed) annos.warn(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ""`, e.pos);
        else {
          outHts[g]!.push(ts);
          const total = st.hsum.value();
          if (op === 'sum') st.hist!.sum = total;
          else if (Number.isFinite(total)) st.hist!.sum = total / st.hcount;
          outHs[g]!.push(st.hist!.compact());
          dropName[g] = st.dropName ? 1 : 0;
          if (st.hints.conflict()) annos.warn('conflicting counter resets during histogram aggregation', e.expr.pos);
        }
        continue;
      }
      if (!st.seen) continue;
      let v: number;
      switch (op) {
        case 'sum':
          v = st.sum.value();
          break;
        case 'avg':
          v = st.avg.value();
          break;
        case 'count':
          v = st.count;
          break;
        case 'stdvar':
          v = st.value / st.count;
          break;
        case 'stddev':
          v = Math.sqrt(st.value / st.count);
          break;
        case 'quantile':
          v = quantileOf(params[step]!, st.values);
          break;
        default:
          v = st.value;
      }
      outTs[g]!.push(ts);
      outVs[g]!.push(v);
      dropName[g] = st.dropName ? 1 : 0;
    }
    if (pacer.spend(vec.length + 1)) yield;
  }
  if (notes.reconciled) annos.info('mismatched custom buckets were reconciled during aggregation', e.pos);
  const out: StepSeries[] = [];
  for (let g = 0; g < labels.length; g++) {
    const hts = outHts[g]!;
    if (hts.length > 0) out.push({ labels: labels[g]!, dropName: dropName[g] === 1, ts: outTs[g]!, vs: outVs[g]!, hts, hs: outHs[g]! });
    else if (outTs[g]!.length > 0) out.push({ labels: labels[g]!, dropName: dropName[g] === 1, ts: outTs[g]!, vs: outVs[g]! });
  }
  return out;
}

/** Adds a histogram sample to its group's sum (or, for avg, its running mean) for this step. */
function addHistogram(st: GroupState, s: StepSample, mean: boolean, notes: HistogramOpNotes): void {
  if (st.hcount === 0) {
    st.hist = s.h!.copy();
    st.hmixed = false;
    st.dropName = s.dropName;
    st.hsum.reset();
    st.hints.clear();
  } else if (!st.hmixed) {
    try {
      st.hist = mean ? addToMean(st.hist!, s.h!, st.hcount + 1, notes) : st.hist!.add(s.h!, notes);
    } catch (err) {
      if (!(err instanceof MixedSchemasError)) throw err;
      st.hmixed = true;
    }
    if (s.dropName) st.dropName = true;
  }
  st.hsum.add(s.h!.sum);
  st.hints.note(s.h!);
  st.hcount++;
}

const encoder = new TextEncoder();

/** Where a series falls in [0, 1] for limit_ratio: its label hash over the largest hash. */
function sampleOffset(l: Labels): number {
  const parts: string[] = [];
  for (let i = 0; i < l.length; i++) parts.push(l[i]!, '\xff');
  // The separator is the byte 0xff, not the UTF-8 encoding of U+00FF.
  const encoded = parts.map((p) => (p === '\xff' ? Uint8Array.of(0xff) : encoder.encode(p)));
  const bytes = new Uint8Array(encoded.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of encoded) {
    bytes.set(p, at);
    at += p.length;
  }
  return Number(xxhash64(bytes)) / 2 ** 64;
}

function ratioSelects(ratio: number, offset: number): boolean {
  return (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1 + ratio);
}

/** topk wants larger values first; NaN always loses. */
function rankCompare(desc: boolean): (a: StepSample, b: StepSample) => number {
  return (a, b) => {
    const an = Number.isNaN(a.v);
    const bn = Number.isNaN(b.v);
    if (an || bn) return an === bn ? a.src - b.src : an ? 1 : -1;
    if (a.v === b.v) return a.src - b.src;
    return desc ? b.v - a.v : a.v - b.v;
  };
}

/** topk, bottomk, limitk, limit_ratio: output series are input series, k of them per group. */
function* aggregateSelect(e: AggregateExpr, input: StepSeries[], grid: StepGrid, params: number[], annos: Annotations, pacer: Pacer): Paced<StepSeries[]> {
  const { min, max, nan } = foldMinMax(params);
  if (e.op === 'limit_ratio') {
    if (max === 0 && min === 0) return [];
    if (nan) throw new EvalError('Ratio value is NaN');
    if (max > 1) annos.warn(`ratio value should be between -1 and 1, got ${formatFloatG(max)}, capping to 1`, e.param?.pos);
    if (min < -1) annos.warn(`ratio value should be between -1 and 1, got ${formatFloatG(min)}, capping to -1`, e.param?.pos);
  } else {
    if (max < 1) return [];
    if (nan) throw new EvalError('Parameter value is NaN');
    if (min <= -(2 ** 63)) throw new EvalError(`Scalar value ${formatFloatG(min, 21)} underflows int64`);
    if (max >= 2 ** 63) throw new EvalError(`Scalar value ${formatFloatG(max, 21)} overflows int64`);
  }
  const { groupOf, labels } = assignGroups(input, e);
  const members: StepSample[][] = labels.map(() => []);
  const out: (StepSeries | undefined)[] = input.map(() => undefined);
  const order: number[] = [];
  const reader = new StepReader(input, true);
  const vec: StepSample[] = [];
  const offsets = e.op === 'limit_ratio' ? input.map((s) => sampleOffset(s.labels)) : [];
  const n = stepCount(grid);
  const ranks = e.op === 'topk' || e.op === 'bottomk';
  const emit = (s: StepSample, ts: number): void => {
    let o = out[s.src];
    if (o === undefined) {
      order.push(s.src);
      o = out[s.src] = { labels: input[s.src]!.labels, dropName: input[s.src]!.dropName, ts: [], vs: [] };
    }
    if (s.h === undefined) {
      o.ts.push(ts);
      o.vs.push(s.v);
    } else {
      (o.hts ??= []).push(ts);
      (o.hs ??= []).push(s.h);
    }
  };
  for (let step = 0; step < n; step++) {
    const ts = grid.start + step * grid.interval;
    const p = params[step]!;
    reader.vectorAt(ts, vec);
    if (pacer.spend(vec.length + 1)) yield;
    if (ranks && vec.some((s) => s.h !== undefined)) {
      // topk and bottomk rank floats: histograms are dropped, with an info.
      annos.info(`ignored histogram in ${e.op} aggregation`, e.pos);
      removeHistograms(vec);
    }
    if (e.op === 'limit_ratio') {
      if (p === 0) continue;
      const ratio = Math.max(-1, Math.min(1, p));
      for (const s of vec) if (ratioSelects(ratio, offsets[s.src]!)) emit(s, ts);
      continue;
    }
    const k = Math.min(Math.trunc(p), input.length);
    if (k < 1) continue;
    for (const m of members) m.length = 0;
    for (const s of vec) members[groupOf[s.src]!]!.push(s);
    for (const m of members) {
      if (m.length === 0) continue;
      if (e.op !== 'limitk') m.sort(rankCompare(e.op === 'topk'));
      for (let i = 0; i < Math.min(k, m.length); i++) emit(m[i]!, ts);
    }
  }
  return order.map((i) => out[i]!);
}

function removeHistograms(vec: StepSample[]): void {
  let k = 0;
  for (const s of vec) if (s.h === undefined) vec[k++] = s;
  vec.length = k;
}

function* aggregateCountValues(e: AggregateExpr, input: StepSeries[], grid: StepGrid, label: string, pacer: Pacer): Paced<StepSeries[]> {
  const names = groupingNames(e, e.without ? [] : [label]);
  const output = new StepOutput();
  const reader = new StepReader(input, true);
  const vec: StepSample[] = [];
  const n = stepCount(grid);
  for (let step = 0; step < n; step++) {
    const ts = grid.start + step * grid.interval;
    const counts = new Map<string, { labels: Labels; count: number }>();
    for (const s of reader.vectorAt(ts, vec)) {
      const withValue = new LabelsBuilder(s.labels).set(label, s.h === undefined ? formatFloatF(s.v) : s.h.text()).labels();
      const l = groupingLabels(withValue, names, e.without);
      const key = labelsKey(l);
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { labels: l, count: 1 });
      else c.count++;
    }
    for (const c of counts.values()) output.add(c.labels, false, ts, c.count);
    if (pacer.spend(vec.length + 1)) yield;
  }
  return output.series();
}

/**
 * Evaluates an aggregation over a matrix of steps. `param` is the per-step value of the numeric
 * parameter, or count_values' label name.
 */
export function* aggregate(
  e: AggregateExpr,
  input: StepSeries[],
  grid: StepGrid,
  param: number[] | string,
  annos: Annotations,
  pacer: Pacer,
): Paced<StepSeries[]> {
  switch (e.op) {
    case 'count_values':
      if (!isValidLabelName(param as string)) throw new EvalError(`invalid label name ${goQuote(param as string)}`);
      return yield* aggregateCountValues(e, input, grid, param as string, pacer);
    case 'topk':
    case 'bottomk':
    case 'limitk':
    case 'limit_ratio':
      return yield* aggregateSelect(e, input, grid, param as number[], annos, pacer);
    default:
      return yield* aggregateValues(e, input, grid, (param as number[] | undefined) ?? [], annos, pacer);
  }
}
