import type { Series } from '../../tsdb/series.js';
import { EncodedKeyMap, KeyArena, type EncodedKey } from '../decode/encoded-key.js';
import type { MetricNames } from './names.js';
import type { ResourceLabels } from './series-labels.js';

/** Least bound on the series cache; it otherwise holds up to twice the database's series limit. */
const MIN_SERIES_CACHE_LIMIT = 100_000;

/**
 * Series found before, by resource (its encoded bytes), metric and encoded point attributes:
 * steady-state ingest appends without building a label set. Entries of freed series are noticed
 * through `Series.live`; the whole cache is dropped when it outgrows its bound.
 */
export class SeriesCache {
  private keyArena = new KeyArena();
  private resources = new EncodedKeyMap<ResourceLabels>(this.keyArena);
  private seriesCache = new WeakMap<ResourceLabels, Map<MetricNames, EncodedKeyMap<Series>>>();
  private cachedSeries = 0;
  private readonly seriesCacheLimit: number;

  constructor(maxSeries: number) {
    this.seriesCacheLimit = Number.isFinite(maxSeries) ? Math.max(MIN_SERIES_CACHE_LIMIT, 2 * maxSeries) : 2_000_000;
  }

  /** The labels of a resource seen before, by its encoded bytes. */
  resource(key: EncodedKey): ResourceLabels | undefined {
    return this.resources.get(key);
  }

  rememberResource(key: EncodedKey, labels: ResourceLabels): void {
    this.resources.set(key, labels);
  }

  /** The cache of one resource's and metric's series by encoded point attributes. */
  pointSeries(resource: ResourceLabels, names: MetricNames): EncodedKeyMap<Series> {
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

  remember(cache: EncodedKeyMap<Series>, key: EncodedKey, series: Series): void {
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
}
