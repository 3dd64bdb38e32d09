import type { Config } from '../../config.js';
import type { Tsdb } from '../../tsdb/db.js';
import { FloatHistogram } from '../../tsdb/float-histogram.js';
import { pointCount, Temporality, type OtlpRequest, type ResourceMetrics } from '../decode/model.js';
import { InvalidUtf8Error } from '../errors.js';
import { runToEnd, type Sliced } from '../slices.js';
import type { OtlpStats } from '../stats.js';
import { DeltaAccumulator } from './delta.js';
import { isWanted, MetricNamesCache, type WantedNames } from './names.js';
import { PointWriter, type PointTargets } from './points.js';
import { Rejections } from './rejections.js';
import { SeriesCache } from './series-cache.js';
import { SeriesLabeler, type ResourceLabels } from './series-labels.js';

export type { WantedNames } from './names.js';

/** Without `exponentialHistograms`, exponential histograms become native histograms (the setting's default). */
export type TranslateOptions = Pick<Config, 'nameTranslation' | 'promoteResourceAttributes'> &
  Partial<Pick<Config, 'maxSeriesBytes' | 'exponentialHistograms'>>;

/** What a request did, for the OTLP response's partial_success. */
export interface TranslateResult {
  pointsReceived: number;
  rejectedDataPoints: number;
  /** Empty when nothing was rejected; otherwise one clause a reason, with an example. */
  errorMessage: string;
}

/** Points stored between two places where sliced translation may pause. */
const POINTS_PER_PAUSE = 64;

/**
 * Turns OTLP metrics into samples in the TSDB, the way Prometheus's OTLP receiver would name and
 * label them. One bad data point is rejected alone: every other point of the request is stored.
 */
export class Translator {
  /** Delta → cumulative running totals, by series; public so snapshots can carry them across a restart. */
  readonly delta = new DeltaAccumulator<number>((a, b) => a + b, 0);
  /** The same for exponential histograms stored as native histograms. */
  readonly histogramDelta = new DeltaAccumulator<FloatHistogram>((a, b) => a.add(b), new FloatHistogram());
  private readonly names: MetricNamesCache;
  private readonly targets: PointTargets;
  private wanted: WantedNames | undefined;
  /** Why the last resource could not be labelled (resourceLabels answered undefined). */
  private resourceProblem = '';

  constructor(
    private readonly tsdb: Tsdb,
    options: TranslateOptions,
    private readonly stats: OtlpStats,
  ) {
    this.names = new MetricNamesCache(options.nameTranslation);
    this.targets = {
      tsdb,
      delta: this.delta,
      labeler: new SeriesLabeler(options.nameTranslation, options.promoteResourceAttributes),
      seriesCache: new SeriesCache(tsdb.options.maxSeries),
      maxSeriesBytes: options.maxSeriesBytes ?? Infinity,
      nativeHistograms: options.exponentialHistograms !== 'classic',
      histogramDelta: this.histogramDelta,
    };
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
    const points = new PointWriter(this.targets, nowMs, rejections);
    const wanted = typeof this.wanted === 'function' ? this.wanted() : this.wanted;
    let received = 0;
    let skipped = 0;
    let sincePause = 0;
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
          const count = pointCount(data);
          if (count === 0) continue;
          received += count;
          if (metric.invalidUtf8 !== undefined) {
            const why = metric.invalidUtf8;
            for (let i = 0; i < count; i++) rejections.add('invalid_utf8', () => why);
            continue;
          }
          const names = this.names.of(metric, rejections);
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
          if (data.kind === 'gauge' || data.kind === 'sum') {
            const seriesScope = this.targets.seriesCache.pointSeries(resource, names);
            const temporality = data.kind === 'sum' ? data.temporality : Temporality.Cumulative;
            const withStart = data.kind === 'sum';
            const end = data.first + count;
            for (let i = data.first; i < end; i++) {
              points.number(metric, names, resource, seriesScope, data.points, i, temporality, withStart);
              if (++sincePause === POINTS_PER_PAUSE) {
                sincePause = 0;
                yield;
              }
            }
            continue;
          }
          for (let i = 0; i < count; i++) {
            switch (data.kind) {
              case 'histogram':
                points.histogram(metric, names, resource, data.dataPoints[i]!, data.temporality);
                break;
              case 'exponentialHistogram':
                points.exponential(metric, names, resource, data.dataPoints[i]!, data.temporality);
                break;
              case 'summary':
                points.summary(metric, names, resource, data.dataPoints[i]!);
                break;
            }
            if (++sincePause === POINTS_PER_PAUSE) {
              sincePause = 0;
              yield;
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
    const cache = this.targets.seriesCache;
    let labels = key === undefined ? undefined : cache.resource(key);
    if (labels !== undefined) return labels;
    try {
      labels = this.targets.labeler.resource(rm.resource);
    } catch (e) {
      if (!(e instanceof InvalidUtf8Error)) throw e;
      this.resourceProblem = `resource: ${e.message}`;
      return undefined;
    }
    if (key !== undefined) cache.rememberResource(key, labels);
    return labels;
  }
}
