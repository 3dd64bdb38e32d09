import type { MetricMetadata } from '../../tsdb/db.js';
import { pointCount, type Metric } from '../decode/model.js';
import { NamingError } from '../errors.js';
import { MetricType, prometheusUnit, translateMetricName, type NameTranslation } from './naming.js';
import type { Rejections } from './rejections.js';

/** Names a metric's series get, worked out once per (name, unit, kind). */
export interface MetricNames {
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

/** The names of each metric's series, worked out once per (name, unit, kind) and kept under a bound. */
export class MetricNamesCache {
  /** Names by metric name, unit and MetricType: looked up once a metric, without building a key. */
  private readonly names = new Map<string, Map<string, (MetricNames | undefined)[]>>();
  private namesCount = 0;

  constructor(private readonly strategy: NameTranslation) {}

  /** The names of a metric's series, or undefined (its points rejected) when it has none. */
  of(metric: Metric, rejections: Rejections): MetricNames | undefined {
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
      for (let i = pointCount(data); i > 0; i--) rejections.add('invalid', () => e.message);
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
}

function suffixed(name: string | undefined, suffix: string): string | undefined {
  return name === undefined ? undefined : name + suffix;
}

/** Whether lazy mode keeps a metric: one of its series' names (or aliases) is wanted. */
export function isWanted(names: MetricNames, kind: string, wanted: ReadonlySet<string>): boolean {
  if (kind === 'gauge' || kind === 'sum') return wanted.has(names.base) || (names.alias !== undefined && wanted.has(names.alias));
  const candidates = [names.bucket, names.count, names.sum, names.bucketAlias, names.countAlias, names.sumAlias];
  if (kind === 'summary') candidates.push(names.base, names.alias);
  return candidates.some((n) => n !== undefined && wanted.has(n));
}
