import { formatFloatF } from '../../common/go-format.js';
import { AppendStatus, type Tsdb } from '../../tsdb/db.js';
import { MIN_EXPONENTIAL_SCHEMA, type FloatHistogram } from '../../tsdb/float-histogram.js';
import type { Series } from '../../tsdb/series.js';
import {
  FLAG_NO_RECORDED_VALUE,
  Temporality,
  type ExponentialHistogramPoint,
  type HistogramPoint,
  type Attribute,
  type Metric,
  type PointBase,
  type SummaryPoint,
} from '../decode/model.js';
import { NumberPoints } from '../decode/number-points.js';
import { InvalidUtf8Error, NamingError } from '../errors.js';
import type { RejectReason } from '../stats.js';
import { DeltaOutcome, type DeltaAccumulator } from './delta.js';
import { exponentialToClassic, exponentialToNative, MAX_SCALE, MIN_SCALE } from './exponential.js';
import { labelLimitViolation } from './label-limits.js';
import type { MetricNames } from './names.js';
import { formatTime, MAX_AHEAD_MS, seriesText, type Rejections } from './rejections.js';
import type { SeriesCache } from './series-cache.js';
import { seriesLabels, type LabelList, type ResourceLabels, type SeriesLabeler } from './series-labels.js';

const STALE = NaN;

/** What a PointWriter writes with: the translator's parts that outlive a request. */
export interface PointTargets {
  readonly tsdb: Tsdb;
  readonly delta: DeltaAccumulator;
  readonly labeler: SeriesLabeler;
  readonly seriesCache: SeriesCache;
  readonly maxSeriesBytes: number;
  /** Exponential histograms become native histograms (else classic buckets). */
  readonly nativeHistograms: boolean;
  /** Delta → cumulative for native histograms, as `delta` for sums. */
  readonly histogramDelta: DeltaAccumulator<FloatHistogram>;
}

/**
 * Writes the data points of one request as samples: checks each point, finds or creates its
 * series and appends, or counts it rejected. One writer a request, so its state (the clock, the
 * rejections, the point being written) needs no restoring after a pause.
 */
export class PointWriter {
  private readonly tsdb: Tsdb;
  private readonly delta: DeltaAccumulator;
  private readonly labeler: SeriesLabeler;
  private readonly seriesCache: SeriesCache;
  private readonly maxSeriesBytes: number;
  private readonly nativeHistograms: boolean;
  private readonly histogramDelta: DeltaAccumulator<FloatHistogram>;

  /* The point being written, kept in fields so writing a point allocates nothing for it. */
  /** The point's own start time (ms, 0 none), which delta accumulation reads. */
  private pointStartMs = 0;
  private temporality = Temporality.Cumulative;
  private stale = false;
  private timeMs = 0;
  /** Start time (ms, 0 none) of the current point's samples: what tells a restart from a larger value. */
  private startMs = 0;
  private failedReason: RejectReason | undefined;
  private failedLabels: readonly string[] | undefined;
  /** The samples of a point of several series (histogram, summary), stored all or none by commit(). */
  private readonly stagedLabels: LabelList[] = [];
  private readonly stagedAliases: (string | undefined)[] = [];
  private readonly stagedValues: number[] = [];
  private readonly stagedSeries: (Series | undefined)[] = [];

  constructor(
    targets: PointTargets,
    private readonly nowMs: number,
    readonly rejections: Rejections,
  ) {
    this.tsdb = targets.tsdb;
    this.delta = targets.delta;
    this.labeler = targets.labeler;
    this.seriesCache = targets.seriesCache;
    this.maxSeriesBytes = targets.maxSeriesBytes;
    this.nativeHistograms = targets.nativeHistograms;
    this.histogramDelta = targets.histogramDelta;
  }

  /**
   * The point's labels without a name, or undefined (point rejected) when an attribute makes no
   * label or the set is over the label limits; `extra` is how many labels the series add to it.
   * The point is `p`, or the i-th of the number points `p`.
   */
  private pointLabels(
    metric: Metric,
    names: MetricNames,
    resource: ResourceLabels,
    p: PointBase | NumberPoints,
    i: number,
    extra: number,
  ): LabelList | undefined {
    const invalid = p instanceof NumberPoints ? p.invalidUtf8(i) : p.invalidUtf8;
    if (invalid !== undefined) {
      this.rejections.add('invalid_utf8', () => `metric ${metric.name}: ${invalid}`);
      return undefined;
    }
    let labels: LabelList;
    try {
      const attributes: Attribute[] = p instanceof NumberPoints ? p.attributes(i) : p.attributes;
      labels = this.labeler.point(resource, attributes);
    } catch (e) {
      if (e instanceof InvalidUtf8Error) {
        this.rejections.add('invalid_utf8', () => `metric ${metric.name}: ${e.message}`);
        return undefined;
      }
      if (!(e instanceof NamingError)) throw e;
      this.rejections.add('invalid', () => `metric ${metric.name}: ${e.message}`);
      return undefined;
    }
    const violation = labelLimitViolation(labels, extra, this.maxSeriesBytes, names.base);
    if (violation === undefined) return labels;
    this.rejections.add('label_limit', () => `metric ${metric.name}: ${violation}`);
    return undefined;
  }

  /**
   * Rejects a point whose time cannot be stored (older than retention, too far ahead, not a time)
   * before any of its series is looked up, so a rejected point creates nothing. The point is the
   * one begun, whose time is read from its field: a double passed to a call would be boxed.
   */
  private checkTime(metric: Metric): boolean {
    const t = this.timeMs;
    let reason: RejectReason;
    if (t > this.nowMs + MAX_AHEAD_MS) reason = 'too_far_ahead';
    else if (!(t >= 0)) reason = 'invalid';
    else if (this.tsdb.isTooOld(t)) reason = 'too_old';
    else return true;
    this.rejections.add(reason, () => `metric ${metric.name} at ${formatTime(t)}`);
    return false;
  }

  private checkTemporality(metric: Metric, temporality: Temporality): boolean {
    if (temporality === Temporality.Cumulative || temporality === Temporality.Delta) return true;
    this.rejections.add('unspecified_temporality', () =>
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the wire carries any enum number, the type names only the known ones
      temporality === Temporality.Unspecified
        ? `metric ${metric.name} has AGGREGATION_TEMPORALITY_UNSPECIFIED; send DELTA or CUMULATIVE`
        : `metric ${metric.name} has unknown aggregation temporality ${temporality}`,
    );
    return false;
  }

  /** The i-th of the number points `p`. `withStart`: the point's start time is stored (sums); a gauge's is not, as nothing reads it. */
  number(
    metric: Metric,
    names: MetricNames,
    resource: ResourceLabels,
    seriesScope: number,
    p: NumberPoints,
    i: number,
    temporality: Temporality,
    withStart: boolean,
  ): void {
    if (!this.checkTemporality(metric, temporality)) return;
    this.pointStartMs = p.startTimeMs(i);
    this.timeMs = p.timeMs(i);
    this.begun(p.flags(i), temporality, withStart);
    if (!this.checkTime(metric)) return;
    const cached = p.key(i) === undefined ? undefined : this.seriesCache.get(seriesScope, p);
    if (cached !== undefined && cached.live) {
      this.writeSeries(cached, p.value(i));
      this.end();
      return;
    }
    const labels = this.pointLabels(metric, names, resource, p, i, 1);
    if (labels === undefined) return;
    const full = seriesLabels(labels, names.base);
    const series = this.tsdb.getOrCreate(full, names.alias);
    if (series === undefined) this.fail('series_limit', full);
    else {
      if (p.key(i) !== undefined) this.seriesCache.remember(seriesScope, p, series);
      this.writeSeries(series, p.value(i));
    }
    this.end();
  }

  histogram(metric: Metric, names: MetricNames, resource: ResourceLabels, p: HistogramPoint, temporality: Temporality): void {
    if (!this.checkTemporality(metric, temporality)) return;
    this.begin(p, temporality);
    if (!this.checkTime(metric)) return;
    const counts = p.bucketCounts;
    const bounds = p.explicitBounds;
    if (counts.length !== 0 && counts.length !== bounds.length + 1) {
      this.rejections.add(
        'invalid',
        () => `metric ${metric.name}: ${counts.length} bucket counts for ${bounds.length} explicit bounds (want ${bounds.length + 1})`,
      );
      return;
    }
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) {
        this.rejections.add('invalid', () => `metric ${metric.name}: explicit bounds are not strictly increasing`);
        return;
      }
    }
    const labels = this.pointLabels(metric, names, resource, p, 0, 2);
    if (labels === undefined) return;
    let cumulative = 0;
    // A point without a value usually has bounds but no counts: its buckets still get the marker.
    if (counts.length > 0 || this.stale) {
      for (let i = 0; i < bounds.length; i++) {
        cumulative += counts[i] ?? 0;
        this.write(seriesLabels(labels, names.bucket, 'le', formatFloatF(bounds[i]!)), names.bucketAlias, cumulative);
      }
    }
    this.histogramTail(names, labels, p.count, p.sum);
  }

  exponential(metric: Metric, names: MetricNames, resource: ResourceLabels, p: ExponentialHistogramPoint, temporality: Temporality): void {
    if (!this.checkTemporality(metric, temporality)) return;
    this.begin(p, temporality);
    if (!this.checkTime(metric)) return;
    if (!Number.isInteger(p.scale) || p.scale < MIN_SCALE || p.scale > MAX_SCALE) {
      this.rejections.add('invalid', () => `metric ${metric.name}: exponential histogram scale ${p.scale} is outside [${MIN_SCALE}, ${MAX_SCALE}]`);
      return;
    }
    if (this.nativeHistograms) {
      this.nativeExponential(metric, names, resource, p);
      return;
    }
    const labels = this.pointLabels(metric, names, resource, p, 0, 2);
    if (labels === undefined) return;
    // A point without a value has no buckets to mark stale: its count and sum carry the marker.
    if (!this.stale) {
      const { bounds, cumulative } = exponentialToClassic(p);
      for (let i = 0; i < bounds.length; i++) {
        this.write(seriesLabels(labels, names.bucket, 'le', formatFloatF(bounds[i]!)), names.bucketAlias, cumulative[i]!);
      }
    }
    this.histogramTail(names, labels, p.count, p.sum);
  }

  /** One native histogram sample in the series of the metric's own name; a point without a value is a staleness marker there. */
  private nativeExponential(metric: Metric, names: MetricNames, resource: ResourceLabels, p: ExponentialHistogramPoint): void {
    if (p.scale < MIN_EXPONENTIAL_SCHEMA) {
      this.rejections.add(
        'invalid',
        () => `metric ${metric.name}: exponential histogram scale ${p.scale} is below ${MIN_EXPONENTIAL_SCHEMA}, the coarsest native histogram schema`,
      );
      return;
    }
    const labels = this.pointLabels(metric, names, resource, p, 0, 1);
    if (labels === undefined) return;
    const full = seriesLabels(labels, names.base);
    const series = this.tsdb.getOrCreate(full, names.alias);
    if (series === undefined) this.fail('series_limit', full);
    else {
      const reason = this.appendNative(series, p);
      if (reason !== undefined) this.fail(reason, series.labels);
    }
    this.end();
  }

  private appendNative(series: Series, p: ExponentialHistogramPoint): RejectReason | undefined {
    const delta = this.temporality === Temporality.Delta;
    if (this.stale) {
      if (delta) this.histogramDelta.end(series);
      return appendStatusReason(this.tsdb.append(series, this.timeMs, STALE, true));
    }
    let h = exponentialToNative(p);
    if (delta) {
      if (this.histogramDelta.add(series, p.startTimeMs, this.timeMs, h) === DeltaOutcome.OutOfOrder) return 'out_of_order';
      h = this.histogramDelta.total;
    }
    return appendStatusReason(this.tsdb.appendHistogram(series, this.timeMs, h));
  }

  /** The `+Inf` bucket, `_count` and (when sent) `_sum` of either histogram kind. */
  private histogramTail(names: MetricNames, labels: LabelList, count: number, sum: number | undefined): void {
    this.write(seriesLabels(labels, names.bucket, 'le', '+Inf'), names.bucketAlias, count);
    this.write(seriesLabels(labels, names.count), names.countAlias, count);
    // A point without a value rarely carries a sum, but its _sum series ended all the same.
    if (sum !== undefined || this.stale) this.write(seriesLabels(labels, names.sum), names.sumAlias, sum ?? STALE);
    this.commit();
  }

  summary(metric: Metric, names: MetricNames, resource: ResourceLabels, p: SummaryPoint): void {
    // Summaries have no temporality field; their count and sum are cumulative by definition.
    this.begin(p, Temporality.Cumulative);
    if (!this.checkTime(metric)) return;
    const labels = this.pointLabels(metric, names, resource, p, 0, 2);
    if (labels === undefined) return;
    for (const q of p.quantileValues) {
      this.write(seriesLabels(labels, names.base, 'quantile', formatFloatF(q.quantile)), names.alias, q.value);
    }
    this.write(seriesLabels(labels, names.count), names.countAlias, p.count);
    this.write(seriesLabels(labels, names.sum), names.sumAlias, p.sum);
    this.commit();
  }

  /** Starts writing the samples of one data point of a histogram or summary. */
  private begin(p: PointBase, temporality: Temporality): void {
    this.pointStartMs = p.startTimeMs;
    this.timeMs = p.timeMs;
    this.begun(p.flags, temporality, true);
  }

  /** Starts writing the samples of the point whose own start time and time are in their fields. */
  private begun(flags: number, temporality: Temporality, withStart: boolean): void {
    this.temporality = temporality;
    this.stale = (flags & FLAG_NO_RECORDED_VALUE) !== 0;
    if (this.timeMs === 0) this.timeMs = this.nowMs;
    // A start after the point's own time (or one the decoder could not represent, NaN) is no start time.
    const st = this.pointStartMs;
    this.startMs = withStart && st > 0 && st <= this.timeMs ? st : 0;
    this.failedReason = undefined;
    this.failedLabels = undefined;
  }

  /** Stages one sample of the current point; commit() stores them. */
  private write(labels: LabelList, alias: string | undefined, value: number): void {
    this.stagedLabels.push(labels);
    this.stagedAliases.push(alias);
    this.stagedValues.push(value);
  }

  /**
   * Stores the staged samples of the current point only if every one of them can be: a sample its
   * series would refuse, or more new series than the series limit has room for, rejects the
   * point before anything is created or written.
   */
  private commit(): void {
    const n = this.stagedLabels.length;
    const series = this.stagedSeries;
    let missing = 0;
    for (let i = 0; i < n && this.failedReason === undefined; i++) {
      const s = this.tsdb.get(this.stagedLabels[i]!);
      series[i] = s;
      if (s === undefined) missing++;
      else {
        const reason = this.refusal(s);
        if (reason !== undefined) this.fail(reason, s.labels);
      }
    }
    if (this.failedReason === undefined && this.tsdb.seriesCount + missing > this.tsdb.options.maxSeries) {
      this.tsdb.stats.seriesRejected++;
      this.fail('series_limit', this.stagedLabels[series.indexOf(undefined)]!);
    }
    if (this.failedReason === undefined) {
      for (let i = 0; i < n; i++) {
        const s = series[i] ?? this.tsdb.getOrCreate(this.stagedLabels[i]!, this.stagedAliases[i]);
        if (s === undefined) this.fail('series_limit', this.stagedLabels[i]!);
        else this.writeSeries(s, this.stagedValues[i]!);
      }
    }
    this.stagedLabels.length = 0;
    this.stagedAliases.length = 0;
    this.stagedValues.length = 0;
    series.length = 0;
    this.end();
  }

  /** Why appending the current point's sample to an existing series would be refused (its time was checked by checkTime). */
  private refusal(series: Series): RejectReason | undefined {
    if (this.temporality === Temporality.Delta && !this.stale && !this.delta.accepts(series, this.timeMs)) return 'out_of_order';
    return this.tsdb.isOutOfOrder(series, this.timeMs) ? 'out_of_order' : undefined;
  }

  private writeSeries(series: Series, value: number): void {
    const reason = this.append(series, value);
    if (reason !== undefined) this.fail(reason, series.labels);
  }

  private fail(reason: RejectReason, labels: readonly string[]): void {
    if (this.failedReason !== undefined) return;
    this.failedReason = reason;
    this.failedLabels = labels;
  }

  /** Counts the current point rejected once if any of its samples was refused. */
  private end(): void {
    const reason = this.failedReason;
    if (reason === undefined) return;
    const labels = this.failedLabels!;
    const time = this.timeMs;
    this.rejections.add(reason, () => `${seriesText(labels)} at ${formatTime(time)}`);
  }

  private append(series: Series, value: number): RejectReason | undefined {
    let v = value;
    let st = this.startMs;
    if (this.temporality === Temporality.Delta) {
      if (this.stale) this.delta.end(series);
      else {
        const outcome = this.delta.add(series, this.pointStartMs, this.timeMs, value);
        if (outcome === DeltaOutcome.OutOfOrder) return 'out_of_order';
        v = this.delta.total;
        st = this.delta.start;
      }
    }
    return appendStatusReason(this.tsdb.append(series, this.timeMs, this.stale ? STALE : v, this.stale, st));
  }
}

function appendStatusReason(status: AppendStatus): RejectReason | undefined {
  if (status === AppendStatus.OutOfOrder) return 'out_of_order';
  if (status === AppendStatus.TooOld) return 'too_old';
  return undefined;
}
