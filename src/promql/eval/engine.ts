import { defaultConfig } from '../../config.js';
import { performance } from 'node:perf_hooks';
import { EMPTY_LABELS, labelsCompare, labelsGet, labelsKey, labelsWithout, LabelsBuilder, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import { aggregate } from './aggregations.js';
import { Annotations } from '../annotations.js';
import type { AtModifier, BinaryExpr, Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from '../ast.js';
import { leftSpine } from '../parser/walk.js';
import { isTrim, vectorScalar, VectorMatcher, type Inform } from './binary.js';
import { arithmetic } from '../functions/operators.js';
import { EvalError, PromQLError, TooManySamplesError } from '../errors.js';
import { Lane } from './lane.js';
import { Pacer, runAsync, runSync, type Paced } from './pacer.js';
import { FUNCTIONS, functionNamed, type Implementation, type StepArg } from '../functions/table.js';
import { combineInfo, planInfo } from './info-function.js';
import { CountAndSumHints, countAndSumSelectors } from './histogram-stats.js';
import { infoTimeSource, orderFreeSelectors } from '../parser/selectors.js';
import { mergeSameLabels } from '../functions/labels.js';
import type { Query } from '../parser/parse.js';
import { resolveDurations } from '../parser/durations.js';
import { extendPoints, smoothedAt, type WindowMode } from '../functions/extended-range.js';
import { preprocessExpr } from '../parser/preprocess.js';
import type { Querier } from './querier.js';
import type { FloatHistogram } from '../../tsdb/float-histogram.js';
import { HistogramSamples, upperBound } from '../../tsdb/histogram-samples.js';
import { histogramWindowFunction, interpolateHistogram, type HistogramRangeFunction, type HistogramWindow } from '../functions/histogram-windows.js';
import type { Window } from '../functions/range.js';
import { documentedType, typeOf } from '../parser/typecheck.js';
import { cachedKey, StepOutput, StepReader, stepCount, type StepGrid } from './steps.js';
import { METADATA_LABELS, type QueryResult, type QueryValue, type RangeSeries, type Sample, type StepSample, type StepSeries } from '../value.js';

export interface EngineOptions {
  lookbackDeltaMs: number;
  timeoutMs: number;
  /** Most samples one query holds in memory at once; also each lane's budget for its queries in flight together. */
  maxSamples: number;
  /** Queries of one lane evaluating at once; more wait their turn. */
  maxConcurrency: number;
}

/** What an engine made without options uses: the settings table's defaults, so no second set of defaults can disagree with it. */
const DEFAULT_OPTIONS: EngineOptions = (() => {
  const config = defaultConfig();
  return {
    lookbackDeltaMs: config.lookbackDeltaMs,
    timeoutMs: config.queryTimeoutMs,
    maxSamples: config.queryMaxSamples,
    maxConcurrency: config.queryMaxConcurrency,
  };
})();

/**
 * Longest an async evaluation holds the event loop before letting I/O and other queries run:
 * short next to KEDA's patience and to the 100 ms any other call may wait, long enough that the
 * round trips to the event loop cost little.
 */
const SLICE_MS = 10;

/** Resolution of a subquery written without one (`x[5m:]`): Prometheus's default evaluation interval. */
const DEFAULT_SUBQUERY_STEP_MS = 60_000;

/** What a selector reads of the sample it finds at each step. */
type SampleField = 'value' | 'timestamp' | 'start';

/** What range windows read: a TSDB series, or the points a subquery produced. */
interface Points {
  readonly length: number;
  timestampAt(i: number): number;
  valueAt(i: number): number;
  isStaleAt(i: number): boolean;
  upperBound(t: number): number;
  /** Only TSDB series carry start times; a subquery's points have none, which cuts them off. */
  readonly hasStartTimes?: boolean;
  startTimeAt?(i: number): number;
  startTimesFor?(ts: Float64Array, n: number, out: Float64Array): boolean;
  /** The non-stale samples of (from, to] into ts and vs (at least `length` long); returns the count. */
  copyWindow(from: number, to: number, ts: Float64Array, vs: Float64Array): number;
  /** Native histogram samples, a lane beside the floats, when the series has any. */
  readonly histograms?: HistogramSamples | undefined;
}

/** A subquery's output series as window input. */
class ArrayPoints implements Points {
  readonly labels: Labels;
  readonly dropName: boolean;
  readonly histograms: HistogramSamples | undefined;
  constructor(private readonly s: StepSeries) {
    this.labels = s.labels;
    this.dropName = s.dropName;
    // A subquery's points are not consecutive samples: their counter reset hints no longer hold.
    this.histograms = s.hts === undefined ? undefined : new HistogramSamples(s.hts, s.hs!.map(withoutResetHint));
  }
  get length(): number {
    return this.s.ts.length;
  }
  timestampAt(i: number): number {
    return this.s.ts[i]!;
  }
  valueAt(i: number): number {
    return this.s.vs[i]!;
  }
  isStaleAt(): boolean {
    return false;
  }
  copyWindow(from: number, to: number, ts: Float64Array, vs: Float64Array): number {
    let n = 0;
    for (let i = this.upperBound(from), hi = this.upperBound(to); i < hi; i++, n++) {
      ts[n] = this.s.ts[i]!;
      vs[n] = this.s.vs[i]!;
    }
    return n;
  }
  upperBound(t: number): number {
    return upperBound(this.s.ts, t);
  }
}

function withoutResetHint(h: FloatHistogram): FloatHistogram {
  if (h.counterResetHint !== 'reset' && h.counterResetHint !== 'not_reset') return h;
  const out = h.copy();
  out.counterResetHint = 'unknown';
  return out;
}

/** A TSDB series (never name-dropped) or a subquery's series. */
type RangeSource = Points & { readonly labels: Labels; readonly dropName?: boolean };

function unwrap(e: Expr): Expr {
  while (e.kind === 'ParenExpr' || e.kind === 'StepInvariantExpr') e = e.expr;
  return e;
}

/** Labels absent() reports: the argument's equality matchers, except the metric name. */
function absentLabels(e: Expr): Labels {
  const inner = unwrap(e);
  const vs = inner.kind === 'VectorSelector' ? inner : inner.kind === 'MatrixSelector' ? inner.vector : undefined;
  if (vs === undefined) return [];
  const b = new LabelsBuilder();
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      b.set(m.name, m.value);
      has.add(m.name);
    } else {
      b.del(m.name);
    }
  }
  return b.labels();
}

const sortKeys = new WeakMap<Labels, string>();

/**
 * A string that sorts like labelsCompare: NUL separators sort before every label character, so
 * a shorter name or value comes first, as in Prometheus's ordering.
 */
function sortKey(l: Labels): string {
  let k = sortKeys.get(l);
  if (k === undefined) {
    k = l.join('\x00');
    sortKeys.set(l, k);
  }
  return k;
}

/** The functions that may take an `anchored` (or `smoothed`) range selector, for the error naming them. */
function windowUsers(use: 'anchored' | 'smoothed'): string {
  return Object.keys(FUNCTIONS)
    .filter((name) => {
      const impl = FUNCTIONS[name]!.impl;
      return impl.kind === 'range' && impl[use];
    })
    .sort()
    .join(', ');
}

function windowMode(arg: MatrixSelector | SubqueryExpr): WindowMode {
  if (arg.kind !== 'MatrixSelector') return 'plain';
  if (arg.vector.anchored === true) return 'anchored';
  return arg.vector.smoothed === true ? 'smoothed' : 'plain';
}

function isCounterName(name: string): boolean {
  return name.endsWith('_total') || name.endsWith('_sum') || name.endsWith('_count') || name.endsWith('_bucket');
}

/** Elements pushed between two checks of the pacer when a node fills arrays a step each. */
const FILL_CHUNK = 4096;

/** Samples a range function's step loop reads between two checks of the pacer. */
const WORK_BATCH = 1024;

/** A range function's work over one series, resumable between batches of steps. */
interface WindowJob {
  src: RangeSource;
  w: Window;
  fn: (w: Window) => number | undefined;
  params: number[][];
  matrixIndex: number;
  grid: StepGrid;
  n: number;
  at: number | undefined;
  offsetMs: number;
  rangeMs: number;
  before: number;
  after: number;
  /** Whether windows carry start times (the function reads them and the series has them). */
  starts: boolean;
  /** Samples the query may still hold, when the series began. */
  room: number;
  /** The first step not yet evaluated. */
  next: number;
  ts: number[] | undefined;
  vs: number[] | undefined;
  hts: number[] | undefined;
  hs: FloatHistogram[] | undefined;
  /** What the function does with windows holding histograms. */
  hfn: HistogramRangeFunction;
  hw: HistogramWindow;
  /** Whether the selector is read for histograms' count and sum only. */
  countAndSum: boolean;
  /** The series' histograms with the hints that reading gives them. */
  hints: CountAndSumHints | undefined;
}

function startSeries(job: WindowJob, src: RangeSource, starts: boolean, room: number): void {
  job.src = src;
  job.starts = starts;
  job.room = room;
  job.next = 0;
  job.ts = undefined;
  job.vs = undefined;
  job.hts = undefined;
  job.hs = undefined;
  job.hints = job.countAndSum && src.histograms !== undefined ? new CountAndSumHints(src.histograms, src) : undefined;
}

function pushFloat(job: WindowJob, t: number, v: number): void {
  if (job.ts === undefined || job.vs === undefined) {
    job.ts = [t];
    job.vs = [v];
  } else {
    job.ts.push(t);
    job.vs.push(v);
  }
}

/** A value already at hand, where an evaluation is expected. */
function* already<T>(v: T): Paced<T> {
  return v;
}

function pointsOf(series: readonly StepSeries[]): number {
  let n = 0;
  for (const s of series) n += s.ts.length + (s.hts?.length ?? 0);
  return n;
}

/**
 * One query's evaluation: its limits, its annotations, and the series each selector selected.
 * Every method that evaluates is a generator that yields when the pacer says its slice of the
 * event loop is spent, at step and series boundaries, so a long query never holds up other work.
 */
class Evaluator {
  /** Samples this query holds now: the outputs of the nodes being evaluated and not yet consumed. */
  private samples = 0;
  private readonly selected = new Map<VectorSelector, readonly RangeSource[]>();
  private orderFree = new Set<VectorSelector>();
  private countAndSum = new Set<VectorSelector>();
  private winTs = new Float64Array(256);
  private winVs = new Float64Array(256);
  private winSt = new Float64Array(256);
  /** Whether every sample of the last window filled with start times has the same one. */
  private winStSame = true;

  constructor(
    private readonly querier: Querier,
    private readonly opts: EngineOptions,
    readonly annos: Annotations,
    private readonly queryStart: number,
    private readonly queryEnd: number,
    private readonly queryStep: number,
    readonly pacer: Pacer,
    private readonly lane: Lane,
  ) {}

  /** Notes which selectors of the query may be read in any order. */
  prepare(e: Expr): void {
    this.orderFree = orderFreeSelectors(e);
    this.countAndSum = countAndSumSelectors(e);
  }

  /** Counts n more samples held, before they are allocated where the count is known in advance. */
  private addSamples(n: number): void {
    this.samples += n;
    this.lane.held += n;
    if (this.samples > this.opts.maxSamples) throw new TooManySamplesError(this.opts.maxSamples);
    if (this.lane.held > this.lane.maxSamples) throw new TooManySamplesError(this.lane.maxSamples, this.lane.held - this.samples);
  }

  /** How many more samples this query may hold now. */
  private room(): number {
    return Math.min(this.opts.maxSamples - this.samples, this.lane.maxSamples - this.lane.held);
  }

  private tooMany(n: number): TooManySamplesError {
    if (this.samples + n > this.opts.maxSamples) return new TooManySamplesError(this.opts.maxSamples);
    return new TooManySamplesError(this.lane.maxSamples, this.lane.held - this.samples);
  }

  /** Gives back what the query held when its evaluation ends, however it ends. */
  releaseAll(): void {
    this.lane.held -= this.samples;
    this.samples = 0;
  }

  resolveAt(at: AtModifier | undefined): number | undefined {
    if (at === undefined) return undefined;
    if (at.kind === 'start') return this.queryStart;
    if (at.kind === 'end') return this.queryEnd;
    return at.ms;
  }

  private select(vs: VectorSelector): readonly RangeSource[] {
    let s = this.selected.get(vs);
    if (s === undefined) {
      const found = this.querier.select(vs.matchers);
      if (this.orderFree.has(vs)) {
        s = found;
      } else {
        const keyed = found.map((series) => ({ series, key: sortKey(series.labels) }));
        keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        s = keyed.map((k) => k.series);
      }
      this.selected.set(vs, s);
    }
    return s;
  }

  private release(n: number): void {
    this.samples -= n;
    this.lane.held -= n;
  }

  /**
   * Evaluates an instant-vector or scalar expression at every step of the grid. When a node is
   * done its inputs are garbage: the query holds its output, counted here if the node did not.
   */
  *eval(e: Expr, grid: StepGrid): Paced<StepSeries[]> {
    if (this.pacer.spend(1)) yield;
    if (grid.end < grid.start) return [];
    const before = this.samples;
    let out: StepSeries[];
    switch (e.kind) {
      case 'NumberLiteral':
        out = [yield* this.constant(e.value, grid)];
        break;
      case 'ParenExpr':
        return yield* this.eval(e.expr, grid);
      case 'StepInvariantExpr':
        out = yield* this.evalStepInvariant(e.expr, grid);
        break;
      case 'UnaryExpr': {
        const inner = yield* this.eval(e.expr, grid);
        if (e.op === '+') return inner;
        const scalar = typeOf(e.expr) === 'scalar';
        out = inner.map((s) => {
          const negated: StepSeries = { labels: s.labels, dropName: scalar ? s.dropName : true, ts: s.ts, vs: s.vs.map((v) => -v) };
          if (s.hs !== undefined) {
            negated.hts = s.hts;
            negated.hs = s.hs.map((h) => h.copy().mul(-1));
          }
          return negated;
        });
        break;
      }
      case 'BinaryExpr':
        out = yield* this.evalChain(e, grid);
        break;
      case 'AggregateExpr':
        out = yield* this.evalAggregate(e, grid);
        break;
      case 'Call':
        out = yield* this.evalCall(e, grid);
        break;
      case 'VectorSelector':
        out = yield* this.evalVectorSelector(e, grid, 'value');
        break;
      case 'StringLiteral':
      case 'MatrixSelector':
      case 'SubqueryExpr':
        throw new EvalError(`unexpected ${documentedType(typeOf(e))} where an instant vector or scalar was expected`);
    }
    this.settle(before, out);
    return out;
  }

  /** Counted before it is allocated: a fine resolution over a long range must fail on the limit, not on memory. */
  private *constant(v: number, grid: StepGrid): Paced<StepSeries> {
    const n = stepCount(grid);
    this.addSamples(n);
    return { labels: EMPTY_LABELS, dropName: false, ts: yield* this.stepTimes(grid, n), vs: yield* this.filled(n, v) };
  }

  /**
   * n copies of v. Built by pushing, pacer checked a chunk at a time: `new Array(n)` past
   * 100,000 elements makes a sparse dictionary array, slow to fill and to read.
   */
  private *filled(n: number, v: number): Paced<number[]> {
    const a: number[] = [];
    for (let i = 0; i < n; i++) {
      a.push(v);
      if (i % FILL_CHUNK === 0 && this.pacer.spend(FILL_CHUNK)) yield;
    }
    return a;
  }

  private *stepTimes(grid: StepGrid, n: number): Paced<number[]> {
    const a: number[] = [];
    for (let i = 0; i < n; i++) {
      a.push(grid.start + i * grid.interval);
      if (i % FILL_CHUNK === 0 && this.pacer.spend(FILL_CHUNK)) yield;
    }
    return a;
  }

  /** A scalar expression's value at every step. */
  private *scalarValues(e: Expr, grid: StepGrid): Paced<number[]> {
    return yield* this.scalarValuesOf(yield* this.eval(e, grid), grid);
  }

  /** The value at every step of a scalar expression's evaluated series (counted as eval() leaves it). */
  private *scalarValuesOf(series: StepSeries[], grid: StepGrid): Paced<number[]> {
    const s = series[0];
    const n = stepCount(grid);
    this.addSamples(n);
    const out = yield* this.filled(n, NaN);
    if (s !== undefined) {
      for (let i = 0; i < s.ts.length; i++) {
        out[Math.round((s.ts[i]! - grid.start) / grid.interval)] = s.vs[i]!;
        if (i % FILL_CHUNK === 0 && this.pacer.spend(FILL_CHUNK)) yield;
      }
    }
    // The expression's series is garbage now: the values are all that is held.
    this.release(pointsOf(series));
    return out;
  }

  /** Evaluated once at the first step and repeated: the subtree cannot change between steps. */
  private *evalStepInvariant(inner: Expr, grid: StepGrid): Paced<StepSeries[]> {
    const once = yield* this.eval(inner, { start: grid.start, end: grid.start, interval: grid.interval });
    const n = stepCount(grid);
    if (n === 1) return once;
    const out: StepSeries[] = [];
    for (const s of once) {
      this.addSamples(n);
      const steps = yield* this.stepTimes(grid, n);
      const h = s.hs?.[0];
      if (h === undefined) out.push({ labels: s.labels, dropName: s.dropName, ts: steps, vs: yield* this.filled(n, s.vs[0]!) });
      else out.push({ labels: s.labels, dropName: s.dropName, ts: [], vs: [], hts: steps, hs: steps.map(() => h) });
    }
    return out;
  }

  /**
   * The newest sample in the lookback window (ref - lookback, ref] at each step; a stale marker
   * there means no sample. `field` picks what is read of it: the value, or its timestamp or start
   * time in seconds (0 when it has no start time).
   */
  private *evalVectorSelector(vs: VectorSelector, grid: StepGrid, field: SampleField): Paced<StepSeries[]> {
    if (vs.smoothed === true && field === 'value') return yield* this.evalSmoothedSelector(vs, grid);
    const series = this.select(vs);
    const at = this.resolveAt(vs.at);
    const n = stepCount(grid);
    const out: StepSeries[] = [];
    for (const s of series) {
      if (s.histograms !== undefined) {
        const mixed = this.mixedSelector(s, s.histograms, vs, grid, field, at, n);
        if (mixed !== undefined) out.push(mixed);
        if (this.pacer.spend(n)) yield;
        continue;
      }
      if (s.length === 0) continue;
      const ts: number[] = [];
      const values: number[] = [];
      const room = this.room();
      const { from, to } = at === undefined && n > 1 ? this.stepsNear(s, grid, vs.offsetMs, n) : { from: 0, to: n };
      for (let i = from; i < to;) {
        const end = Math.min(to, i + WORK_BATCH);
        this.selectorSteps(s, vs, grid, field, at, i, end, ts, values, room);
        if (this.pacer.spend(end - i)) yield;
        i = end;
      }
      if (ts.length > 0) {
        this.addSamples(ts.length);
        out.push({ labels: s.labels, dropName: false, ts, vs: values });
      }
    }
    return out;
  }

  /**
   * The samples a selector finds at steps [from, to) of one series, pushed to ts and values. Not
   * a generator: the caller yields between batches, and this loop stays as fast as code that
   * never yields.
   */
  private selectorSteps(
    s: RangeSource,
    vs: VectorSelector,
    grid: StepGrid,
    field: SampleField,
    at: number | undefined,
    from: number,
    to: number,
    ts: number[],
    values: number[],
    room: number,
  ): void {
    const lookback = this.opts.lookbackDeltaMs;
    for (let i = from; i < to; i++) {
      if (ts.length >= room) throw this.tooMany(ts.length + 1);
      const t = grid.start + i * grid.interval;
      const ref = (at ?? t) - vs.offsetMs;
      const idx = s.upperBound(ref) - 1;
      if (idx < 0) continue;
      const sampleT = s.timestampAt(idx);
      if (sampleT <= ref - lookback || s.isStaleAt(idx)) continue;
      ts.push(t);
      values.push(field === 'value' ? s.valueAt(idx) : field === 'timestamp' ? sampleT / 1000 : (s.startTimeAt?.(idx) ?? 0) / 1000);
    }
  }

  /**
   * A selector over a series holding native histograms: at each step the newer of its newest
   * float and its newest histogram in the lookback window. A loop of its own, so the float-only
   * one stays as fast as it was.
   */
  private mixedSelector(
    s: RangeSource,
    hist: HistogramSamples,
    vs: VectorSelector,
    grid: StepGrid,
    field: SampleField,
    at: number | undefined,
    n: number,
  ): StepSeries | undefined {
    const lookback = this.opts.lookbackDeltaMs;
    const out: StepSeries = { labels: s.labels, dropName: false, ts: [], vs: [] };
    const hts: number[] = [];
    const hs: FloatHistogram[] = [];
    const room = this.room();
    const stats = this.countAndSum.has(vs) ? new CountAndSumHints(hist, s) : undefined;
    for (let i = 0; i < n; i++) {
      if (out.ts.length + hts.length >= room) throw this.tooMany(room + 1);
      const t = grid.start + i * grid.interval;
      const ref = (at ?? t) - vs.offsetMs;
      const fi = s.upperBound(ref) - 1;
      const hi = hist.upperBound(ref) - 1;
      // Prometheus's iterator reads from just after the lookback window's start.
      stats?.step(ref - lookback + 1, ref, hi + 1);
      const floatT = fi < 0 ? -Infinity : s.timestampAt(fi);
      const histT = hi < 0 ? -Infinity : hist.ts[hi]!;
      const sampleT = Math.max(floatT, histT);
      if (sampleT <= ref - lookback) continue;
      if (floatT >= histT) {
        if (s.isStaleAt(fi)) continue;
        out.ts.push(t);
        out.vs.push(field === 'value' ? s.valueAt(fi) : field === 'timestamp' ? sampleT / 1000 : (s.startTimeAt?.(fi) ?? 0) / 1000);
      } else if (field === 'value') {
        hts.push(t);
        hs.push((stats ?? hist).window(hi, hi + 1)[hi]!);
      } else {
        out.ts.push(t);
        out.vs.push(field === 'timestamp' ? sampleT / 1000 : 0);
      }
    }
    if (hts.length > 0) {
      out.hts = hts;
      out.hs = hs;
    }
    if (out.ts.length + hts.length === 0) return undefined;
    this.addSamples(out.ts.length + hts.length);
    return out;
  }

  /**
   * The steps whose lookback window can hold a sample of the series, give or take one: a sparse
   * series under a fine subquery resolution is read where it has data, not at every step.
   */
  private stepsNear(s: RangeSource, grid: StepGrid, offsetMs: number, n: number): { from: number; to: number } {
    const first = s.timestampAt(0) + offsetMs - grid.start;
    const last = s.timestampAt(s.length - 1) + offsetMs + this.opts.lookbackDeltaMs - grid.start;
    return { from: Math.max(0, Math.floor(first / grid.interval)), to: Math.min(n, Math.floor(last / grid.interval) + 1) };
  }

  /** A `smoothed` instant selector: at each step, the value interpolated at the step's time from the samples within a lookback delta either side. */
  private *evalSmoothedSelector(vs: VectorSelector, grid: StepGrid): Paced<StepSeries[]> {
    const at = this.resolveAt(vs.at);
    const n = stepCount(grid);
    const lookback = this.opts.lookbackDeltaMs;
    const out: StepSeries[] = [];
    for (const s of this.select(vs)) {
      const ts: number[] = [];
      const values: number[] = [];
      const hts: number[] = [];
      const hs: FloatHistogram[] = [];
      const room = this.room();
      const hist = s.histograms;
      for (let i = 0; i < n; i++) {
        if (ts.length + hts.length >= room) throw this.tooMany(ts.length + hts.length + 1);
        const t = grid.start + i * grid.interval;
        const ref = (at ?? t) - vs.offsetMs;
        const count = this.fillWindow(s, ref - lookback, ref + lookback);
        const lo = hist === undefined ? 0 : hist.upperBound(ref - lookback);
        const hi = hist === undefined ? 0 : hist.upperBound(ref + lookback);
        if (this.pacer.spend(count + hi - lo + 1)) yield;
        if (hi > lo) {
          if (count > 0) {
            this.annos.warn(`encountered a mix of histograms and floats for metric name ${JSON.stringify(labelsGet(s.labels, METRIC_NAME))}`, vs.pos);
            continue;
          }
          const h = this.smoothedHistogram(hist!, lo, hi, ref, vs, s.labels);
          if (h === undefined) continue;
          hts.push(t);
          hs.push(h);
          continue;
        }
        const v = smoothedAt(this.winTs, this.winVs, count, ref);
        if (v === undefined) continue;
        ts.push(t);
        values.push(v);
      }
      if (ts.length + hts.length === 0) continue;
      this.addSamples(ts.length + hts.length);
      if (hts.length === 0) out.push({ labels: s.labels, dropName: false, ts, vs: values });
      else out.push({ labels: s.labels, dropName: false, ts, vs: values, hts, hs });
    }
    return out;
  }

  /**
   * A smoothed selector's histogram at time t from the lane's histograms [lo, hi): the one at t,
   * else the line between its neighbours (a counter's unless both are gauges), else the last one
   * before t, whose hint no longer says how it follows the sample before.
   */
  private smoothedHistogram(hist: HistogramSamples, lo: number, hi: number, t: number, vs: VectorSelector, labels: Labels): FloatHistogram | undefined {
    const hs = hist.window(lo, hi);
    let i = lo;
    while (i < hi && hist.ts[i]! < t) i++;
    if (i < hi && hist.ts[i] === t) return hs[i]!.copy();
    if (i === lo) return undefined;
    const prev = hs[i - 1]!;
    if (i === hi) {
      const h = prev.copy();
      h.counterResetHint = 'unknown';
      return h;
    }
    const next = hs[i]!;
    if (prev.usesCustomBuckets() !== next.usesCustomBuckets()) {
      const name = JSON.stringify(labelsGet(labels, METRIC_NAME));
      this.annos.warn(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${name}`, vs.pos);
      return undefined;
    }
    const isCounter = prev.counterResetHint !== 'gauge' || next.counterResetHint !== 'gauge';
    return interpolateHistogram(hist.ts[i - 1]!, prev, hist.ts[i]!, next, t, isCounter);
  }

  /**
   * A chain of binary operators from its innermost operator out, in a loop: a chain of thousands
   * of operators nests no deeper than one. Each operator's result is counted as eval() counts a
   * node's, and its operand released.
   */
  private *evalChain(top: BinaryExpr, grid: StepGrid): Paced<StepSeries[]> {
    const spine = leftSpine(top);
    const before = this.samples;
    let lhs = yield* this.evalBinary(spine[spine.length - 1]!, grid, undefined);
    for (let i = spine.length - 2; i >= 0; i--) {
      if (this.pacer.spend(1)) yield;
      this.settle(before, lhs);
      lhs = yield* this.evalBinary(spine[i]!, grid, lhs);
    }
    return lhs;
  }

  /** Counts a node's output as what it holds since `before`, releasing its inputs. */
  private settle(before: number, out: readonly StepSeries[]): void {
    const change = pointsOf(out) - (this.samples - before);
    if (change > 0) this.addSamples(change);
    else this.release(-change);
  }

  /** One binary operator; `evaluated` is its lhs when a chain evaluated it already. */
  private *evalBinary(e: BinaryExpr, grid: StepGrid, evaluated: StepSeries[] | undefined): Paced<StepSeries[]> {
    const lt = typeOf(e.lhs);
    const rt = typeOf(e.rhs);
    const left = (): Paced<StepSeries[]> => (evaluated === undefined ? this.eval(e.lhs, grid) : already(evaluated));
    if (lt === 'scalar' && rt === 'scalar') {
      if (isTrim(e.op)) throw new EvalError(`operator ${JSON.stringify(e.op)} not allowed for Scalar operations`);
      const l = yield* this.scalarValuesOf(yield* left(), grid);
      const r = yield* this.scalarValues(e.rhs, grid);
      const s = yield* this.constant(0, grid);
      for (let i = 0; i < s.vs.length; i++) {
        s.vs[i] = arithmetic(e.op, l[i]!, r[i]!);
        if (i % FILL_CHUNK === 0 && this.pacer.spend(FILL_CHUNK)) yield;
      }
      return [s];
    }
    const n = stepCount(grid);
    const output = new StepOutput();
    const stepOut: StepSample[] = [];
    if (lt === 'vector' && rt === 'vector') {
      const lhs = yield* left();
      const rhs = yield* this.eval(e.rhs, grid);
      const matching = e.matching ?? { card: 'one-to-one' as const, on: false, labels: [], include: [] };
      const matcher = new VectorMatcher(e.op, matching, e.returnBool, lhs, rhs, this.inform(e));
      const lr = new StepReader(lhs, true);
      const rr = new StepReader(rhs, true);
      const lv: StepSample[] = [];
      const rv: StepSample[] = [];
      for (let i = 0; i < n; i++) {
        const t = grid.start + i * grid.interval;
        stepOut.length = 0;
        matcher.apply(lr.vectorAt(t, lv), rr.vectorAt(t, rv), stepOut);
        this.addSamples(stepOut.length);
        for (const s of stepOut) output.addSample(s, t);
        if (this.pacer.spend(lv.length + rv.length + 1)) yield;
      }
      return output.series();
    }
    const scalarLeft = lt === 'scalar';
    const vec = yield* scalarLeft ? this.eval(e.rhs, grid) : left();
    const scalar = yield* scalarLeft ? this.scalarValuesOf(yield* left(), grid) : this.scalarValues(e.rhs, grid);
    const reader = new StepReader(vec, true);
    const v: StepSample[] = [];
    const inform = this.inform(e);
    for (let i = 0; i < n; i++) {
      const t = grid.start + i * grid.interval;
      stepOut.length = 0;
      vectorScalar(e.op, reader.vectorAt(t, v), scalar[i]!, scalarLeft, e.returnBool, stepOut, inform);
      this.addSamples(stepOut.length);
      for (const s of stepOut) output.addSample(s, t);
      if (this.pacer.spend(v.length + 1)) yield;
    }
    return output.series();
  }

  /** How an operator reports an annotation: an info, or a warning when counter resets conflict. */
  private inform(e: BinaryExpr): Inform {
    return (message, warn) => (warn === true ? this.annos.warn(message, e.pos) : this.annos.info(message, e.pos));
  }

  private *evalAggregate(e: Extract<Expr, { kind: 'AggregateExpr' }>, grid: StepGrid): Paced<StepSeries[]> {
    let param: number[] | string = [];
    if (e.op === 'count_values') {
      const p = e.param === undefined ? undefined : unwrap(e.param);
      param = p?.kind === 'StringLiteral' ? p.value : '';
    } else if (e.param !== undefined) {
      param = yield* this.scalarValues(e.param, grid);
    }
    const input = yield* this.eval(e.expr, grid);
    return yield* aggregate(e, input, grid, param, this.annos, this.pacer);
  }

  private *evalCall(e: Call, grid: StepGrid): Paced<StepSeries[]> {
    const def = functionNamed(e.func)?.impl;
    if (def === undefined) throw new EvalError(`unknown function with name ${JSON.stringify(e.func)}`);
    if (def.kind === 'range') return yield* this.evalRangeCall(e, def, grid);
    if (def.kind === 'relabel') {
      const series = yield* this.eval(e.args[0]!, grid);
      const strings = e.args.slice(1).map((a) => {
        const u = unwrap(a);
        return u.kind === 'StringLiteral' ? u.value : '';
      });
      return mergeSameLabels(def.fn(series, strings), (s) => cachedKey(s.labels));
    }
    if (def.kind === 'special') return e.func === 'info' ? yield* this.evalInfo(e, grid) : yield* this.evalAbsent(e, grid);
    const n = stepCount(grid);
    const readers: (StepReader | number[] | string)[] = [];
    for (let i = 0; i < e.args.length; i++) readers.push(yield* this.callArg(e, i, grid));
    const output = new StepOutput();
    const buffers: StepSample[][] = e.args.map(() => []);
    const args: StepArg[] = new Array<StepArg>(e.args.length);
    const ctx = {
      ts: 0,
      call: e,
      annos: this.annos,
      isRange: this.queryEnd > this.queryStart,
      query: { startMs: this.queryStart, endMs: this.queryEnd, stepMs: this.queryStep },
      out: [] as StepSample[],
    };
    for (let i = 0; i < n; i++) {
      const t = grid.start + i * grid.interval;
      for (let j = 0; j < readers.length; j++) {
        const r = readers[j]!;
        args[j] = r instanceof StepReader ? r.vectorAt(t, buffers[j]!) : typeof r === 'string' ? r : r[i]!;
      }
      ctx.ts = t;
      ctx.out.length = 0;
      def.fn(args, ctx);
      this.addSamples(ctx.out.length);
      for (const s of ctx.out) output.addSample(s, t);
      if (this.pacer.spend(ctx.out.length + 1)) yield;
    }
    return output.series();
  }

  /** An argument of a function called step by step: a string, a scalar's values, or a vector to read step by step. */
  private *callArg(e: Call, i: number, grid: StepGrid): Paced<StepReader | number[] | string> {
    const a = e.args[i]!;
    const t = typeOf(a);
    if (t === 'string') {
      const u = unwrap(a);
      return u.kind === 'StringLiteral' ? u.value : '';
    }
    if (t === 'scalar') return yield* this.scalarValues(a, grid);
    if (e.func === 'timestamp' && i === 0) return new StepReader(yield* this.timestampInput(a, grid));
    if (e.func === 'start_timestamp' && i === 0) return new StepReader(yield* this.startTimestampInput(a, grid));
    const impl = functionNamed(e.func)?.impl;
    return new StepReader(yield* this.eval(a, grid), impl?.kind === 'step' && impl.histograms === true);
  }

  /** timestamp() reads sample times from a selector, and the step time from anything else. */
  private *timestampInput(arg: Expr, grid: StepGrid): Paced<StepSeries[]> {
    const u = unwrap(arg);
    if (u.kind === 'VectorSelector') return yield* this.evalVectorSelector(u, grid, 'timestamp');
    return (yield* this.eval(arg, grid)).map((s) => ({ ...s, vs: s.ts.map((t) => t / 1000) }));
  }

  /** start_timestamp() reads start times from a selector; an expression's output has none. */
  private *startTimestampInput(arg: Expr, grid: StepGrid): Paced<StepSeries[]> {
    const u = unwrap(arg);
    if (u.kind === 'VectorSelector') return yield* this.evalVectorSelector(u, grid, 'start');
    yield* this.eval(arg, grid);
    return [];
  }

  private *evalInfo(e: Call, grid: StepGrid): Paced<StepSeries[]> {
    const base = yield* this.eval(e.args[0]!, grid);
    const selectorArg = e.args[1] === undefined ? undefined : unwrap(e.args[1]);
    const plan = planInfo(base, selectorArg?.kind === 'VectorSelector' ? selectorArg : undefined);
    let info: StepSeries[] = [];
    const histogramSteps = new Set<number>();
    if (plan.selectors !== undefined) {
      const time = infoTimeSource(e.args[0]!);
      const vs: VectorSelector = {
        kind: 'VectorSelector',
        name: '',
        matchers: plan.selectors,
        offsetMs: time?.offsetMs ?? 0,
        at: time?.at,
        pos: e.pos,
      };
      info = (yield* this.evalVectorSelector(vs, grid, 'timestamp')).map((s) => ({ ...s, vs: s.vs.map((v) => v * 1000) }));
      // An info series' samples must be floats: the steps where one is a histogram fail.
      if (this.select(vs).some((s) => s.histograms !== undefined)) {
        for (const s of yield* this.evalVectorSelector(vs, grid, 'value')) for (const t of s.hts ?? []) histogramSteps.add(t);
      }
    }
    return combineInfo(base, info, plan, grid, histogramSteps);
  }

  private *evalAbsent(e: Call, grid: StepGrid): Paced<StepSeries[]> {
    return yield* this.absentSteps(yield* this.eval(e.args[0]!, grid), e, grid, false);
  }

  /** absent() and absent_over_time(): 1 at every step where the argument had no sample. */
  private *absentSteps(found: StepSeries[], e: Call, grid: StepGrid, dropName: boolean): Paced<StepSeries[]> {
    const present = new Set<number>();
    for (const s of found) {
      for (const t of s.ts) present.add(t);
      if (s.hts !== undefined) for (const t of s.hts) present.add(t);
    }
    const out: StepSeries = { labels: absentLabels(e.args[0]!), dropName, ts: [], vs: [] };
    const n = stepCount(grid);
    const room = this.room();
    for (let i = 0; i < n; i++) {
      if (this.pacer.spend(1)) yield;
      const t = grid.start + i * grid.interval;
      if (!present.has(t)) {
        if (out.ts.length >= room) throw this.tooMany(out.ts.length + 1);
        out.ts.push(t);
        out.vs.push(1);
      }
    }
    return out.ts.length > 0 ? [out] : [];
  }

  /** The series a range argument reads, and the window placement (`@`, offset, range). */
  private *rangeSources(
    arg: MatrixSelector | SubqueryExpr,
    grid: StepGrid,
  ): Paced<{ sources: readonly RangeSource[]; at: number | undefined; offsetMs: number; rangeMs: number }> {
    if (arg.kind === 'MatrixSelector') {
      const vs = arg.vector;
      return { sources: this.select(vs), at: this.resolveAt(vs.at), offsetMs: vs.offsetMs, rangeMs: arg.rangeMs };
    }
    const sources = (yield* this.evalSubquery(arg, grid)).map((s) => new ArrayPoints(s));
    return { sources, at: this.resolveAt(arg.at), offsetMs: arg.offsetMs, rangeMs: arg.rangeMs };
  }

  /**
   * A subquery's inner expression, evaluated at steps aligned to multiples of its resolution
   * (from the epoch), covering every window the outer steps will read.
   */
  *evalSubquery(sq: SubqueryExpr, grid: StepGrid): Paced<StepSeries[]> {
    const step = sq.stepMs > 0 ? sq.stepMs : DEFAULT_SUBQUERY_STEP_MS;
    const at = this.resolveAt(sq.at);
    const outerStart = at ?? grid.start;
    const outerEnd = at ?? grid.start + Math.floor((grid.end - grid.start) / grid.interval) * grid.interval;
    const from = outerStart - sq.offsetMs - sq.rangeMs;
    let start = step * Math.trunc(from / step);
    if (start <= from) start += step;
    return yield* this.eval(sq.expr, { start, end: outerEnd - sq.offsetMs, interval: step });
  }

  /**
   * Copies the non-stale samples of (from, to] into the window buffers; returns their count.
   * With `starts` their start times go to winSt too (the caller checks the source has any).
   */
  private fillWindow(p: Points, from: number, to: number, starts = false): number {
    if (p.length > this.winTs.length) {
      this.winTs = new Float64Array(p.length * 2);
      this.winVs = new Float64Array(p.length * 2);
      this.winSt = new Float64Array(p.length * 2);
    }
    const n = p.copyWindow(from, to, this.winTs, this.winVs);
    if (starts) this.winStSame = p.startTimesFor!(this.winTs, n, this.winSt);
    return n;
  }

  /** How far an anchored or smoothed window reads beyond the range's start and end. */
  private windowMargins(mode: WindowMode): { before: number; after: number } {
    const lookback = this.opts.lookbackDeltaMs;
    if (mode === 'anchored') return { before: lookback, after: 0 };
    if (mode === 'smoothed') return { before: lookback, after: lookback };
    return { before: 0, after: 0 };
  }

  private *evalRangeCall(e: Call, def: Extract<Implementation, { kind: 'range' }>, grid: StepGrid): Paced<StepSeries[]> {
    let matrixIndex = e.args.findIndex((a) => typeOf(a) === 'matrix');
    if (matrixIndex === -1) matrixIndex = 0;
    const arg = unwrap(e.args[matrixIndex]!);
    if (arg.kind !== 'MatrixSelector' && arg.kind !== 'SubqueryExpr') {
      throw new EvalError(`expected type range vector in call to function ${JSON.stringify(e.func)}, got ${documentedType(typeOf(arg))}`);
    }
    const mode = windowMode(arg);
    if (mode === 'anchored' && !def.anchored) {
      throw new EvalError(`anchored modifier can only be used with: ${windowUsers('anchored')} - not with ${e.func}`);
    }
    if (mode === 'smoothed' && !def.smoothed) {
      throw new EvalError(`smoothed modifier can only be used with: ${windowUsers('smoothed')} - not with ${e.func}`);
    }
    const params: number[][] = [];
    for (let i = 0; i < e.args.length; i++) params.push(i === matrixIndex ? [] : yield* this.scalarValues(e.args[i]!, grid));
    const { sources, at, offsetMs, rangeMs } = yield* this.rangeSources(arg, grid);
    const { before, after } = this.windowMargins(mode);
    const n = stepCount(grid);
    const w: Window = {
      ts: this.winTs,
      vs: this.winVs,
      st: undefined,
      stSame: true,
      n: 0,
      metricName: '',
      stepTs: 0,
      rangeStart: 0,
      rangeEnd: 0,
      rangeMs,
      mode,
      params: [],
      call: e,
      annos: this.annos,
    };
    const out: StepSeries[] = [];
    const isRateLike = e.func === 'rate' || e.func === 'increase';
    const readsStarts = def.startTimes;
    const job: WindowJob = {
      src: sources[0]!,
      w,
      fn: def.fn,
      params,
      matrixIndex,
      grid,
      n,
      at,
      offsetMs,
      rangeMs,
      before,
      after,
      starts: false,
      room: 0,
      next: 0,
      ts: undefined,
      vs: undefined,
      hts: undefined,
      hs: undefined,
      hfn: histogramWindowFunction(e.func),
      hw: { ts: [], hs: [], lo: 0, hi: 0 },
      countAndSum: arg.kind === 'MatrixSelector' && this.countAndSum.has(arg.vector),
      hints: undefined,
    };
    const reported = new Set<string>();
    // Series of one metric come together: its name is checked once, not once a series.
    let checkedName = '';
    for (const src of sources) {
      startSeries(job, src, readsStarts && src.hasStartTimes === true, this.room());
      w.metricName = labelsGet(src.labels, METRIC_NAME);
      while (job.next < n) if (this.pacer.spend(this.windowSteps(job))) yield;
      const { ts, vs: values, hts, hs } = job;
      if (hts !== undefined && hs !== undefined) {
        this.addSamples(hts.length + (ts?.length ?? 0));
        out.push({ labels: src.labels, dropName: !def.keepsName || src.dropName === true, ts: ts ?? [], vs: values ?? [], hts, hs });
      }
      if (ts === undefined || values === undefined || hts !== undefined) continue;
      this.addSamples(ts.length);
      out.push({ labels: src.labels, dropName: !def.keepsName || src.dropName === true, ts, vs: values });
      if (isRateLike) {
        const name = labelsGet(src.labels, METRIC_NAME);
        if (name !== checkedName) {
          checkedName = name;
          if (name !== '' && !isCounterName(name) && !reported.has(name)) {
            reported.add(name);
            this.annos.info(`metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${JSON.stringify(name)}`, e.args[0]!.pos);
          }
        }
      }
    }
    if (e.func === 'absent_over_time') return yield* this.absentSteps(out, e, grid, true);
    return out;
  }

  /**
   * Runs the steps of a range function over one series from `job.next` until WORK_BATCH samples
   * were read or the steps end, and returns the work done. Not a generator: the caller yields
   * between batches, and the step loop stays as fast as code that never yields.
   */
  private windowSteps(job: WindowJob): number {
    const { src, w, grid, params, at } = job;
    const hist = src.histograms;
    let work = 0;
    let i = job.next;
    for (; i < job.n && work < WORK_BATCH; i++) {
      const t = grid.start + i * grid.interval;
      const ref = (at ?? t) - job.offsetMs;
      const count = this.fillWindow(src, ref - job.rangeMs - job.before, ref + job.after, job.starts);
      work += count + 1;
      let histograms = 0;
      if (hist !== undefined) {
        job.hw.lo = hist.upperBound(ref - job.rangeMs - job.before);
        job.hw.hi = hist.upperBound(ref + job.after);
        job.hints?.step(ref - job.rangeMs - job.before, ref + job.after, job.hw.hi);
        histograms = job.hw.hi - job.hw.lo;
        work += histograms;
      }
      if (count === 0 && histograms === 0) continue;
      if (count + histograms > job.room - (job.ts?.length ?? 0) - (job.hts?.length ?? 0)) throw this.tooMany(count + histograms);
      w.ts = this.winTs;
      w.vs = this.winVs;
      w.st = job.starts ? this.winSt : undefined;
      w.stSame = this.winStSame;
      w.n = count;
      w.stepTs = t;
      w.rangeStart = ref - job.rangeMs;
      w.rangeEnd = ref;
      if (params.length > 1) {
        w.params.length = 0;
        for (let j = 0; j < params.length; j++) if (j !== job.matrixIndex) w.params.push(params[j]![i]!);
      }
      if (histograms > 0) {
        job.hw.ts = hist!.ts;
        job.hw.hs = (job.hints ?? hist!).window(job.hw.lo, job.hw.hi);
        const r = job.hfn(w, job.hw, job.fn);
        if (r === undefined) continue;
        if (typeof r === 'number') pushFloat(job, t, r);
        else {
          (job.hts ??= []).push(t);
          (job.hs ??= []).push(r);
        }
        continue;
      }
      const v = job.fn(w);
      if (v !== undefined) pushFloat(job, t, v);
    }
    job.next = i;
    return work;
  }

  /** A range-vector expression at one time: the raw samples of each window. */
  *evalRangeVector(e: Expr, t: number): Paced<StepSeries[]> {
    const u = unwrap(e);
    if (u.kind === 'MatrixSelector') {
      const vs = u.vector;
      const ref = (this.resolveAt(vs.at) ?? t) - vs.offsetMs;
      const out: StepSeries[] = [];
      const mode = windowMode(u);
      const { before, after } = this.windowMargins(mode);
      for (const s of this.select(vs)) {
        const n = this.fillWindow(s, ref - u.rangeMs - before, ref + after);
        if (this.pacer.spend(n + 1)) yield;
        const hist = s.histograms;
        if (hist !== undefined && mode === 'plain') {
          const lo = hist.upperBound(ref - u.rangeMs);
          const hi = hist.upperBound(ref);
          if (n === 0 && hi === lo) continue;
          this.addSamples(n + hi - lo);
          out.push({
            labels: s.labels,
            dropName: false,
            ts: Array.from(this.winTs.subarray(0, n)),
            vs: Array.from(this.winVs.subarray(0, n)),
            hts: hist.ts.slice(lo, hi),
            hs: hist.window(lo, hi).slice(lo, hi),
          });
          continue;
        }
        // Prometheus returns raw extended ranges of floats only.
        if (hist !== undefined && hist.upperBound(ref + after) > hist.upperBound(ref - u.rangeMs - before)) {
          throw new EvalError(`${mode} modifier is not supported with histograms`);
        }
        if (n === 0) continue;
        let points = { ts: Array.from(this.winTs.subarray(0, n)), vs: Array.from(this.winVs.subarray(0, n)) };
        if (mode !== 'plain') {
          const w = { ts: points.ts, vs: points.vs, n, rangeStart: ref - u.rangeMs, rangeEnd: ref };
          points = extendPoints(w, mode === 'smoothed');
          if (points.ts.length === 0) continue;
        }
        this.addSamples(points.ts.length);
        out.push({ labels: s.labels, dropName: false, ts: points.ts, vs: points.vs });
      }
      return out;
    }
    if (u.kind === 'SubqueryExpr') return yield* this.evalSubquery(u, { start: t, end: t, interval: 1 });
    throw new EvalError(`unexpected ${documentedType(typeOf(u))} where a range vector was expected`);
  }
}

/** Pacer units for finishing one result series: a key or a label comparison, about a microsecond. */
const FINISH_COST = 8;
/** Result series sorted whole before the sorted runs are merged, pacer checked between merges. */
const SORT_RUN = 1024;

/**
 * Drops `__name__` where a function or operator changed the value, then makes sure no two series
 * ended up with the same labels (series that never share a step are merged, as Prometheus does).
 * Paced like evaluation: for tens of thousands of result series this is tens of milliseconds.
 */
function* finish(series: StepSeries[], mergeDisjoint: boolean, pacer: Pacer): Paced<StepSeries[]> {
  const dropped: StepSeries[] = [];
  const seen = new Set<string>();
  for (const s of series) {
    const d = s.dropName ? { ...s, labels: labelsWithout(s.labels, METADATA_LABELS), dropName: false } : s;
    dropped.push(d);
    // Merging memoises the keys, so computing them here, paced, leaves it only map lookups.
    if (mergeDisjoint) cachedKey(d.labels);
    else {
      // Computed afresh: the key of a result series is needed once, so memoising it only costs.
      const key = labelsKey(d.labels);
      if (seen.has(key)) throw new EvalError('vector cannot contain metrics with the same labelset');
      seen.add(key);
    }
    if (pacer.spend(FINISH_COST)) yield;
  }
  return mergeDisjoint ? mergeSameLabels(dropped, (s) => cachedKey(s.labels)) : dropped;
}

function toRangeSeries(s: StepSeries): RangeSeries {
  const out: RangeSeries = { labels: s.labels, timestamps: s.ts, values: s.vs };
  if (s.hts !== undefined && s.hs !== undefined) {
    out.histogramTimestamps = s.hts;
    out.histograms = s.hs;
  }
  return out;
}

const byLabels = (a: StepSeries, b: StepSeries) => labelsCompare(a.labels, b.labels);

/** Sorts a range result by labels, as Prometheus returns it: runs sorted whole, then merged pairwise, paced. */
function* sortSeries(series: StepSeries[], pacer: Pacer): Paced<StepSeries[]> {
  if (series.length <= SORT_RUN) return series.sort(byLabels);
  let runs: StepSeries[][] = [];
  for (let i = 0; i < series.length; i += SORT_RUN) {
    runs.push(series.slice(i, i + SORT_RUN).sort(byLabels));
    if (pacer.spend(SORT_RUN * FINISH_COST)) yield;
  }
  while (runs.length > 1) {
    const merged: StepSeries[][] = [];
    for (let r = 0; r + 1 < runs.length; r += 2) merged.push(yield* mergeRuns(runs[r]!, runs[r + 1]!, pacer));
    if (runs.length % 2 === 1) merged.push(runs[runs.length - 1]!);
    runs = merged;
  }
  return runs[0]!;
}

function* mergeRuns(a: StepSeries[], b: StepSeries[], pacer: Pacer): Paced<StepSeries[]> {
  const out: StepSeries[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    // Ties take from the earlier run, so the sort is stable as Array.prototype.sort is.
    out.push(byLabels(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
    if (pacer.spend(FINISH_COST)) yield;
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** A query ready to evaluate: its tree with durations resolved, and where it is evaluated. */
interface Plan {
  expr: Expr;
  text: string | undefined;
  range: boolean;
  start: number;
  end: number;
  step: number;
}

/**
 * Evaluates PromQL over a Querier with Prometheus 3.x semantics for float samples. Every query
 * is bounded by the timeout and the samples limit, at every step of every subquery. The async
 * methods run on a Lane and let other work run every slice of the lane's (SLICE_MS unless it
 * says); the sync ones hold the event loop to the end (tests and the conformance runner, where
 * nothing else waits).
 */
export class Engine {
  readonly options: EngineOptions;

  constructor(
    private readonly querier: Querier,
    opts: Partial<EngineOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...opts };
  }

  /** A lane of queries with this engine's concurrency cap and samples budget, each holding the event loop at most `sliceMs` at one go. */
  newLane(sliceMs = SLICE_MS): Lane {
    return new Lane(this.options.maxConcurrency, this.options.maxSamples, sliceMs);
  }

  /** Evaluates at one time. */
  instant(query: Query, timeMs: number): QueryResult {
    return this.runSync(this.planInstant(query, timeMs));
  }

  range(query: Query, startMs: number, endMs: number, stepMs: number): QueryResult {
    return this.runSync(this.planRange(query, startMs, endMs, stepMs));
  }

  /** instant() on a lane: waits for its turn, and yields to other work while it runs. */
  async instantAsync(lane: Lane, query: Query, timeMs: number): Promise<QueryResult> {
    return this.runAsync(lane, this.planInstant(query, timeMs));
  }

  /** range() on a lane: waits for its turn, and yields to other work while it runs. */
  async rangeAsync(lane: Lane, query: Query, startMs: number, endMs: number, stepMs: number): Promise<QueryResult> {
    return this.runAsync(lane, this.planRange(query, startMs, endMs, stepMs));
  }

  private planInstant({ tree, text }: Query, timeMs: number): Plan {
    return { expr: resolveDurations(tree, { stepMs: 0, rangeMs: 0 }), text, range: false, start: timeMs, end: timeMs, step: 0 };
  }

  private planRange({ tree, text }: Query, startMs: number, endMs: number, stepMs: number): Plan {
    if (!(stepMs > 0)) throw new PromQLError('BAD_DATA', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (endMs < startMs) throw new PromQLError('BAD_DATA', 'end timestamp must not be before start time');
    const type = typeOf(tree);
    if (type !== 'scalar' && type !== 'vector') {
      throw new PromQLError('BAD_DATA', `invalid expression type ${JSON.stringify(documentedType(type))} for range query, must be Scalar or instant Vector`);
    }
    // Subtrees fixed by `@` are evaluated once and repeated, as Prometheus does.
    const prepared = preprocessExpr(resolveDurations(tree, { stepMs, rangeMs: endMs - startMs }), startMs, endMs);
    return { expr: prepared, text, range: true, start: startMs, end: endMs, step: stepMs };
  }

  private evaluator(plan: Plan, pacer: Pacer, lane: Lane): Evaluator {
    const ev = new Evaluator(this.querier, this.options, new Annotations(plan.text), plan.start, plan.end, plan.step, pacer, lane);
    ev.prepare(plan.expr);
    return ev;
  }

  private runSync(plan: Plan): QueryResult {
    const { timeoutMs, maxSamples } = this.options;
    const ev = this.evaluator(plan, new Pacer(performance.now() + timeoutMs, timeoutMs, Infinity), new Lane(1, maxSamples));
    try {
      return { value: runSync(evaluate(plan, ev)), ...ev.annos.result() };
    } finally {
      ev.releaseAll();
    }
  }

  private async runAsync(lane: Lane, plan: Plan): Promise<QueryResult> {
    const { timeoutMs } = this.options;
    // Time waiting for a turn counts against the timeout, as in Prometheus's query queue.
    const deadline = performance.now() + timeoutMs;
    await lane.enter(deadline, timeoutMs);
    try {
      const pacer = new Pacer(deadline, timeoutMs, lane.sliceMs);
      const ev = this.evaluator(plan, pacer, lane);
      try {
        return { value: await runAsync(evaluate(plan, ev), pacer), ...ev.annos.result() };
      } finally {
        ev.releaseAll();
      }
    } finally {
      lane.leave();
    }
  }
}

/** A planned query's value. */
function* evaluate(plan: Plan, ev: Evaluator): Paced<QueryValue> {
  const { expr, start } = plan;
  if (plan.range) {
    const series = yield* ev.eval(expr, { start, end: plan.end, interval: plan.step });
    const finished = yield* finish(series, true, ev.pacer);
    return { type: 'matrix', series: (yield* sortSeries(finished, ev.pacer)).map(toRangeSeries) };
  }
  const type = typeOf(expr);
  if (type === 'string') {
    const u = unwrap(expr);
    return { type: 'string', t: start, v: u.kind === 'StringLiteral' ? u.value : '' };
  }
  if (type === 'matrix') return { type: 'matrix', series: (yield* finish(yield* ev.evalRangeVector(expr, start), true, ev.pacer)).map(toRangeSeries) };
  const series = yield* ev.eval(expr, { start, end: start, interval: 1 });
  if (type === 'scalar') return { type: 'scalar', t: start, v: series[0]?.vs[0] ?? NaN };
  const samples: Sample[] = (yield* finish(series, false, ev.pacer)).map((s) => {
    const h = s.hs?.[0];
    return h === undefined ? { labels: s.labels, t: start, v: s.vs[0]! } : { labels: s.labels, t: start, v: NaN, h };
  });
  return { type: 'vector', samples };
}
