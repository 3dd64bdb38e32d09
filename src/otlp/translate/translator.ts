import type { Config } from '../../config.js';
import { AppendStatus, type MetricMetadata, type Tsdb } from '../../tsdb/db.js';
import type { Series } from '../../tsdb/series.js';
import { DeltaAccumulator, DeltaOutcome } from './delta.js';
import { EncodedKeyMap, KeyArena, type EncodedKey } from '../decode/encoded-key.js';
import { InvalidUtf8Error, NamingError } from '../errors.js';
import { exponentialToClassic, MAX_SCALE, MIN_SCALE } from './exponential.js';
import { formatFloatF } from '../../common/go-format.js';
import { labelLimitViolation } from './label-limits.js';
import {
  FLAG_NO_RECORDED_VALUE,
  Temporality,
  type ExponentialHistogramPoint,
  type HistogramPoint,
  type Metric,
  type NumberPoint,
  type OtlpRequest,
  type PointBase,
  type ResourceMetrics,
  type SummaryPoint,
} from '../decode/model.js';
import { MetricType, prometheusUnit, translateMetricName, type NameTranslation } from './naming.js';
import { runToEnd, type Sliced } from '../slices.js';
import { seriesLabels, SeriesLabeler, type LabelList, type ResourceLabels } from './series-labels.js';
import type { OtlpStats, RejectReason } from '../stats.js';

export type TranslateOptions = Pick<Config, 'nameTranslation' | 'promoteResourceAttributes'> & Partial<Pick<Config, 'maxSeriesBytes'>>;

/** What a request did, for the OTLP response's partial_success. */
export interface TranslateResult {
  pointsReceived: number;
  rejectedDataPoints: number;
  /** Empty when nothing was rejected; otherwise one clause a reason, with an example. */
  errorMessage: string;
}

/** Names a metric's series get, worked out once per (name, unit, kind). */
interface MetricNames {
  /** The family name (metadata is kept under it): `x_total`, `x_seconds`, `x_ratio`. */
  base: string;
  alias: string | undefined;
  type: string;
  unit: string;
  /** Histograms and summaries: `_bucket`, `_count`, `_sum` names and their aliases. */
  bucket: string;
  count: string;
  sum: string;
  bucketAlias: string | undefined;
  countAlias: string | undefined;
  sumAlias: string | undefined;
  /** The last metadata stored for the family, reused while the description stays the same. */
  metadata: MetricMetadata;
}

/** Which metric names lazy mode keeps: a set, or a function asked once per request. */
export type WantedNames = ReadonlySet<string> | (() => ReadonlySet<string>);

const NAME_CACHE_LIMIT = 10_000;
/** Least bound on the series cache; it otherwise holds up to twice the database's series limit. */
const MIN_SERIES_CACHE_LIMIT = 100_000;
const STALE = NaN;
/** Points stored between two places where sliced translation may pause. */
const POINTS_PER_PAUSE = 64;
/**
 * How far past now a point's time may be. Prometheus's remote-write and OTLP handler take samples
 * up to 10 minutes ahead (its maxAheadTime), Mimir's creation grace period is 10 minutes too: clock
 * skew between producers is covered, and a far-future sample cannot hide a series' real newest one.
 */
export const MAX_AHEAD_MS = 10 * 60_000;

function suffixed(name: string | undefined, suffix: string): string | undefined {
  return name === undefined ? undefined : name + suffix;
}

/** Counts rejections of one request and keeps one example message a reason. */
class Rejections {
  total = 0;
  private readonly byReason = new Map<RejectReason, { count: number; example: string }>();

  constructor(private readonly stats: OtlpStats) {}

  add(reason: RejectReason, example: () => string): void {
    this.total++;
    this.stats.pointsRejected[reason]++;
    const entry = this.byReason.get(reason);
    if (entry) entry.count++;
    else this.byReason.set(reason, { count: 1, example: example() });
  }

  message(): string {
    const parts: string[] = [];
    for (const [reason, { count, example }] of this.byReason) {
      parts.push(`${count} ${REASON_TEXT[reason]} (e.g. ${example})`);
    }
    return parts.length === 0 ? '' : `${this.total} data points rejected: ${parts.join('; ')}`;
  }
}

/** How a partial-success message words the reasons the store and the label limits give, for OTLP and remote write alike. */
export const STORE_REJECT_TEXT = {
  series_limit: 'over the series limit',
  out_of_order: 'older than the newest sample of their series by more than the out-of-order window',
  too_old: 'older than the retention',
  too_far_ahead: `more than ${MAX_AHEAD_MS / 60_000} minutes ahead of the receiver's clock`,
  label_limit: 'over the label limits',
} as const;

const REASON_TEXT: Record<RejectReason, string> = {
  ...STORE_REJECT_TEXT,
  unspecified_temporality: 'with unspecified aggregation temporality',
  invalid_utf8: 'with a string that is not valid UTF-8',
  invalid: 'invalid',
};

/**
 * Turns OTLP metrics into samples in the TSDB, the way Prometheus's OTLP receiver would name and
 * label them. One bad data point is rejected alone: every other point of the request is stored.
 */
export class Translator {
  private readonly labeler: SeriesLabeler;
  private readonly strategy: NameTranslation;
  /** Names by metric name, unit and MetricType: looked up once a metric, without building a key. */
  private readonly names = new Map<string, Map<string, (MetricNames | undefined)[]>>();
  private namesCount = 0;
  /** Delta → cumulative running totals, by series; public so snapshots can carry them across a restart. */
  readonly delta = new DeltaAccumulator();
  private wanted: WantedNames | undefined;
  /**
   * Series found before, by resource (its encoded bytes), metric and encoded point attributes:
   * steady-state ingest appends without building a label set. Entries of freed series are
   * noticed through `Series.live`; the whole cache is dropped when it outgrows its bound.
   */
  private keyArena = new KeyArena();
  private resources = new EncodedKeyMap<ResourceLabels>(this.keyArena);
  private seriesCache = new WeakMap<ResourceLabels, Map<MetricNames, EncodedKeyMap<Series>>>();
  private cachedSeries = 0;
  private readonly seriesCacheLimit: number;
  private readonly maxSeriesBytes: number;

  /* Per-request and per-point state, kept in fields so writing a point allocates nothing for it. */
  private nowMs = 0;
  private rejections!: Rejections;
  private point!: PointBase;
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
  /** Why the last resource could not be labelled (resourceLabels answered undefined). */
  private resourceProblem = '';

  constructor(
    private readonly tsdb: Tsdb,
    options: TranslateOptions,
    private readonly stats: OtlpStats,
  ) {
    this.maxSeriesBytes = options.maxSeriesBytes ?? Infinity;
    this.strategy = options.nameTranslation;
    this.labeler = new SeriesLabeler(options.nameTranslation, options.promoteResourceAttributes);
    const maxSeries = tsdb.options.maxSeries;
    this.seriesCacheLimit = Number.isFinite(maxSeries) ? Math.max(MIN_SERIES_CACHE_LIMIT, 2 * maxSeries) : 2_000_000;
  }

  /** Lazy mode: keep only metrics one of whose series names (or aliases) is wanted; undefined keeps all. */
  setWantedNames(wanted: WantedNames | undefined): void {
    this.wanted = wanted;
  }

  /** Stores a request's samples; `nowMs` stands in for unset timestamps. Does not flush ingest listeners. */
  translate(request: OtlpRequest, nowMs: number): TranslateResult {
    return runToEnd(this.translateSlices(request, nowMs));
  }

  /**
   * translate as sliced work that may pause every few dozen points. Loops are indexed: for-of
   * inside a generator allocates an iterator result a step.
   */
  *translateSlices(request: OtlpRequest, nowMs: number): Sliced<TranslateResult> {
    const rejections = new Rejections(this.stats);
    const wanted = typeof this.wanted === 'function' ? this.wanted() : this.wanted;
    let received = 0;
    let skipped = 0;
    let sincePause = 0;
    this.nowMs = nowMs;
    this.rejections = rejections;
    const resources = request.resourceMetrics;
    for (let r = 0; r < resources.length; r++) {
      const rm = resources[r]!;
      let resource: ResourceLabels | undefined;
      for (let s = 0; s < rm.scopeMetrics.length; s++) {
        const metrics = rm.scopeMetrics[s]!.metrics;
        for (let m = 0; m < metrics.length; m++) {
          const metric = metrics[m]!;
          const data = metric.data;
          if (data === undefined) continue;
          const count = data.dataPoints.length;
          if (count === 0) continue;
          received += count;
          if (metric.invalidUtf8 !== undefined) {
            const why = metric.invalidUtf8;
            for (let i = 0; i < count; i++) rejections.add('invalid_utf8', () => why);
            continue;
          }
          const names = this.metricNames(metric);
          if (names === undefined) continue;
          if (wanted !== undefined && !isWanted(names, data.kind, wanted)) {
            skipped += count;
            continue;
          }
          resource ??= this.resourceLabels(rm);
          if (resource === undefined) {
            const why = this.resourceProblem;
            for (let i = 0; i < count; i++) rejections.add('invalid_utf8', () => why);
            continue;
          }
          if (names.metadata.help !== metric.description) names.metadata = { type: names.type, unit: names.unit, help: metric.description };
          this.tsdb.setMetadata(names.base, names.metadata);
          const cache = data.kind === 'gauge' || data.kind === 'sum' ? this.pointSeries(resource, names) : undefined;
          for (let i = 0; i < count; i++) {
            switch (data.kind) {
              case 'gauge':
                this.number(metric, names, resource, cache!, data.dataPoints[i]!, Temporality.Cumulative, false);
                break;
              case 'sum':
                this.number(metric, names, resource, cache!, data.dataPoints[i]!, data.temporality, true);
                break;
              case 'histogram':
                this.histogram(metric, names, resource, data.dataPoints[i]!, data.temporality);
                break;
              case 'exponentialHistogram':
                this.exponential(metric, names, resource, data.dataPoints[i]!, data.temporality);
                break;
              case 'summary':
                this.summary(metric, names, resource, data.dataPoints[i]!);
                break;
            }
            if (++sincePause === POINTS_PER_PAUSE) {
              sincePause = 0;
              yield;
              // Another request may have been stored while this one was paused.
              this.nowMs = nowMs;
              this.rejections = rejections;
            }
          }
        }
      }
    }
    this.stats.pointsReceived += received;
    this.stats.pointsSkippedLazy += skipped;
    this.stats.pointsAccepted += received - skipped - rejections.total;
    return { pointsReceived: received, rejectedDataPoints: rejections.total, errorMessage: rejections.message() };
  }

  /**
   * The resource's labels; its attributes are read only for a resource not seen before (the wire
   * decoder builds them then). Undefined, with the reason in resourceProblem, when one is not UTF-8.
   */
  private resourceLabels(rm: ResourceMetrics): ResourceLabels | undefined {
    if (rm.invalidUtf8 !== undefined) {
      this.resourceProblem = rm.invalidUtf8;
      return undefined;
    }
    const key = rm.resourceKey;
    let labels = key === undefined ? undefined : this.resources.get(key);
    if (labels !== undefined) return labels;
    try {
      labels = this.labeler.resource(rm.resource);
    } catch (e) {
      if (!(e instanceof InvalidUtf8Error)) throw e;
      this.resourceProblem = `resource: ${e.message}`;
      return undefined;
    }
    if (key !== undefined) this.resources.set(key, labels);
    return labels;
  }

  /** The cache of one resource's and metric's series by encoded point attributes. */
  private pointSeries(resource: ResourceLabels, names: MetricNames): EncodedKeyMap<Series> {
    let byMetric = this.seriesCache.get(resource);
    if (byMetric === undefined) {
      byMetric = new Map();
      this.seriesCache.set(resource, byMetric);
    }
    let bySeries = byMetric.get(names);
    if (bySeries === undefined) {
      bySeries = new EncodedKeyMap(this.keyArena);
      byMetric.set(names, bySeries);
    }
    return bySeries;
  }

  private rememberSeries(cache: EncodedKeyMap<Series>, key: EncodedKey, series: Series): void {
    if (this.cachedSeries >= this.seriesCacheLimit) {
      this.keyArena = new KeyArena();
      this.resources = new EncodedKeyMap(this.keyArena);
      this.seriesCache = new WeakMap();
      this.cachedSeries = 0;
    }
    const size = cache.size;
    cache.set(key, series);
    this.cachedSeries += cache.size - size;
  }

  /** The names of a metric's series, or undefined (its points rejected) when it has none. */
  private metricNames(metric: Metric): MetricNames | undefined {
    const data = metric.data!;
    const type =
      data.kind === 'gauge'
        ? MetricType.Gauge
        : data.kind === 'sum'
          ? data.monotonic
            ? MetricType.MonotonicCounter
            : MetricType.NonMonotonicCounter
          : data.kind === 'summary'
            ? MetricType.Summary
            : MetricType.Histogram;
    let byUnit = this.names.get(metric.name);
    let byType = byUnit?.get(metric.unit);
    let names = byType?.[type];
    if (names !== undefined) return names;
    let translated;
    try {
      translated = translateMetricName(this.strategy, metric.name, metric.unit, type);
    } catch (e) {
      if (!(e instanceof NamingError)) throw e;
      for (let i = 0; i < data.dataPoints.length; i++) this.rejections.add('invalid', () => e.message);
      return undefined;
    }
    const { name: base, alias } = translated;
    names = {
      base,
      alias,
      type: type === MetricType.MonotonicCounter ? 'counter' : type === MetricType.Histogram ? 'histogram' : type === MetricType.Summary ? 'summary' : 'gauge',
      unit: prometheusUnit(this.strategy, metric.unit),
      bucket: `${base}_bucket`,
      count: `${base}_count`,
      sum: `${base}_sum`,
      bucketAlias: suffixed(alias, '_bucket'),
      countAlias: suffixed(alias, '_count'),
      sumAlias: suffixed(alias, '_sum'),
      metadata: { type: '', unit: '', help: '' },
    };
    names.metadata = { type: names.type, unit: names.unit, help: metric.description };
    if (this.namesCount >= NAME_CACHE_LIMIT) {
      this.names.clear();
      this.namesCount = 0;
      byUnit = byType = undefined;
    }
    if (byUnit === undefined) {
      byUnit = new Map();
      this.names.set(metric.name, byUnit);
    }
    if (byType === undefined) {
      byType = [];
      byUnit.set(metric.unit, byType);
    }
    byType[type] = names;
    this.namesCount++;
    return names;
  }

  /**
   * The point's labels without a name, or undefined (point rejected) when an attribute makes no
   * label or the set is over the label limits; `extra` is how many labels the series add to it.
   */
  private pointLabels(metric: Metric, names: MetricNames, resource: ResourceLabels, p: PointBase, extra: number): LabelList | undefined {
    if (p.invalidUtf8 !== undefined) {
      const why = p.invalidUtf8;
      this.rejections.add('invalid_utf8', () => `metric ${metric.name}: ${why}`);
      return undefined;
    }
    let labels: LabelList;
    try {
      labels = this.labeler.point(resource, p.attributes);
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
   * before any of its series is looked up, so a rejected point creates nothing.
   */
  private checkTime(metric: Metric, p: PointBase): boolean {
    const t = p.timeMs === 0 ? this.nowMs : p.timeMs;
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

  /** `withStart`: the point's start time is stored (sums); a gauge's is not, as nothing reads it. */
  private number(
    metric: Metric,
    names: MetricNames,
    resource: ResourceLabels,
    cache: EncodedKeyMap<Series>,
    p: NumberPoint,
    temporality: Temporality,
    withStart: boolean,
  ): void {
    if (!this.checkTemporality(metric, temporality) || !this.checkTime(metric, p)) return;
    const key = p.attributesKey;
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached !== undefined && cached.live) {
      this.begin(p, temporality, withStart);
      this.writeSeries(cached, p.value);
      this.end();
      return;
    }
    const labels = this.pointLabels(metric, names, resource, p, 1);
    if (labels === undefined) return;
    this.begin(p, temporality, withStart);
    const full = seriesLabels(labels, names.base);
    const series = this.tsdb.getOrCreate(full, names.alias);
    if (series === undefined) this.fail('series_limit', full);
    else {
      if (key !== undefined) this.rememberSeries(cache, key, series);
      this.writeSeries(series, p.value);
    }
    this.end();
  }

  private histogram(metric: Metric, names: MetricNames, resource: ResourceLabels, p: HistogramPoint, temporality: Temporality): void {
    if (!this.checkTemporality(metric, temporality) || !this.checkTime(metric, p)) return;
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
    const labels = this.pointLabels(metric, names, resource, p, 2);
    if (labels === undefined) return;
    this.begin(p, temporality);
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

  private exponential(metric: Metric, names: MetricNames, resource: ResourceLabels, p: ExponentialHistogramPoint, temporality: Temporality): void {
    if (!this.checkTemporality(metric, temporality) || !this.checkTime(metric, p)) return;
    if (!Number.isInteger(p.scale) || p.scale < MIN_SCALE || p.scale > MAX_SCALE) {
      this.rejections.add('invalid', () => `metric ${metric.name}: exponential histogram scale ${p.scale} is outside [${MIN_SCALE}, ${MAX_SCALE}]`);
      return;
    }
    const labels = this.pointLabels(metric, names, resource, p, 2);
    if (labels === undefined) return;
    this.begin(p, temporality);
    // A point without a value has no buckets to mark stale: its count and sum carry the marker.
    if (!this.stale) {
      const { bounds, cumulative } = exponentialToClassic(p);
      for (let i = 0; i < bounds.length; i++) {
        this.write(seriesLabels(labels, names.bucket, 'le', formatFloatF(bounds[i]!)), names.bucketAlias, cumulative[i]!);
      }
    }
    this.histogramTail(names, labels, p.count, p.sum);
  }

  /** The `+Inf` bucket, `_count` and (when sent) `_sum` of either histogram kind. */
  private histogramTail(names: MetricNames, labels: LabelList, count: number, sum: number | undefined): void {
    this.write(seriesLabels(labels, names.bucket, 'le', '+Inf'), names.bucketAlias, count);
    this.write(seriesLabels(labels, names.count), names.countAlias, count);
    // A point without a value rarely carries a sum, but its _sum series ended all the same.
    if (sum !== undefined || this.stale) this.write(seriesLabels(labels, names.sum), names.sumAlias, sum ?? STALE);
    this.commit();
  }

  private summary(metric: Metric, names: MetricNames, resource: ResourceLabels, p: SummaryPoint): void {
    if (!this.checkTime(metric, p)) return;
    const labels = this.pointLabels(metric, names, resource, p, 2);
    if (labels === undefined) return;
    // Summaries have no temporality field; their count and sum are cumulative by definition.
    this.begin(p, Temporality.Cumulative);
    for (const q of p.quantileValues) {
      this.write(seriesLabels(labels, names.base, 'quantile', formatFloatF(q.quantile)), names.alias, q.value);
    }
    this.write(seriesLabels(labels, names.count), names.countAlias, p.count);
    this.write(seriesLabels(labels, names.sum), names.sumAlias, p.sum);
    this.commit();
  }

  /** Starts writing the samples of one data point. */
  private begin(point: PointBase, temporality: Temporality, withStart = true): void {
    this.point = point;
    this.temporality = temporality;
    this.stale = (point.flags & FLAG_NO_RECORDED_VALUE) !== 0;
    this.timeMs = point.timeMs === 0 ? this.nowMs : point.timeMs;
    // A start after the point's own time (or one the decoder could not represent, NaN) is no start time.
    const st = point.startTimeMs;
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
    this.rejections.add(reason, () => `${describe(labels)} at ${formatTime(time)}`);
  }

  private append(series: Series, value: number): RejectReason | undefined {
    let v = value;
    let st = this.startMs;
    if (this.temporality === Temporality.Delta) {
      if (this.stale) this.delta.end(series);
      else {
        const outcome = this.delta.add(series, this.point.startTimeMs, this.timeMs, value);
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

/** A time for a message: ISO 8601 where Date can show it, else the number of milliseconds (NaN: the decoder's negative time). */
function formatTime(ms: number): string {
  if (Number.isNaN(ms)) return 'a negative time';
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

function describe(labels: readonly string[]): string {
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === '__name__') name = labels[i + 1]!;
    else parts.push(`${labels[i]}=${JSON.stringify(labels[i + 1])}`);
  }
  return `${name}{${parts.join(', ')}}`;
}

function isWanted(names: MetricNames, kind: string, wanted: ReadonlySet<string>): boolean {
  if (kind === 'gauge' || kind === 'sum') return wanted.has(names.base) || (names.alias !== undefined && wanted.has(names.alias));
  const candidates = [names.bucket, names.count, names.sum, names.bucketAlias, names.countAlias, names.sumAlias];
  if (kind === 'summary') candidates.push(names.base, names.alias);
  return candidates.some((n) => n !== undefined && wanted.has(n));
}
