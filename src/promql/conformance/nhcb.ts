import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram } from '../../tsdb/float-histogram.js';
import { labelsFromPairs, labelsGet, labelsKey, labelsWithout, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import { parseNumber } from './desc-number.js';
import type { SeriesDesc } from './series-desc.js';

/**
 * What `load_with_nhcb` adds beside classic histograms: one series of native histograms with
 * custom buckets per classic histogram (the `_bucket` series of one label set, with their
 * `_count` and `_sum`), named after the family, at each time all of its buckets have a value.
 */

interface Family {
  labels: Labels;
  buckets: { le: number; values: SeriesDesc['values'] }[];
  count: SeriesDesc['values'] | undefined;
  sum: SeriesDesc['values'] | undefined;
}

const SUFFIXES = ['_bucket', '_count', '_sum'] as const;

function familiesOf(series: readonly SeriesDesc[]): Family[] {
  const byKey = new Map<string, Family>();
  for (const s of series) {
    const name = labelsGet(s.labels, METRIC_NAME);
    const suffix = SUFFIXES.find((x) => name.endsWith(x));
    if (suffix === undefined) continue;
    const rest = labelsWithout(s.labels, ['le', METRIC_NAME]);
    const labels = labelsFromPairs([...pairs(rest), [METRIC_NAME, name.slice(0, -suffix.length)]]);
    const key = labelsKey(labels);
    let f = byKey.get(key);
    if (f === undefined) {
      f = { labels, buckets: [], count: undefined, sum: undefined };
      byKey.set(key, f);
    }
    if (suffix === '_count') f.count = s.values;
    else if (suffix === '_sum') f.sum = s.values;
    else {
      const le = parseNumber(labelsGet(s.labels, 'le'));
      if (le !== undefined && !Number.isNaN(le)) f.buckets.push({ le, values: s.values });
    }
  }
  return [...byKey.values()].filter((f) => f.buckets.length > 0);
}

function pairs(l: Labels): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < l.length; i += 2) out.push([l[i]!, l[i + 1]!]);
  return out;
}

function valueAt(values: SeriesDesc['values'] | undefined, i: number): number | undefined {
  const v = values?.[i];
  return v?.kind === 'value' ? v.v : undefined;
}

/** The custom-bucket histogram of one family at position i of its series, if every bucket has a value there. */
function histogramAt(f: Family, i: number): FloatHistogram | undefined {
  const cumulative = new Map<number, number>();
  for (const b of f.buckets) {
    const v = valueAt(b.values, i);
    if (v === undefined) return undefined;
    // Repeated bounds (`0.2` and `2e-1`) are one bucket.
    cumulative.set(b.le, Math.max(cumulative.get(b.le) ?? -Infinity, v));
  }
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const counts: number[] = [];
  let prev = 0;
  for (const le of bounds) {
    const c = cumulative.get(le)!;
    counts.push(c - prev);
    prev = c;
  }
  return new FloatHistogram({
    schema: CUSTOM_BUCKETS_SCHEMA,
    customValues: bounds.filter((b) => b !== Infinity),
    // Without a `_count` series, the highest bucket counts every observation.
    count: valueAt(f.count, i) ?? prev,
    sum: valueAt(f.sum, i) ?? 0,
    positiveSpans: [{ offset: 0, length: counts.length }],
    positiveBuckets: counts,
  }).compact();
}

/** The native histogram series `load_with_nhcb` makes of a load's classic histograms: labels and a histogram (or nothing) per position. */
export function nhcbSeries(series: readonly SeriesDesc[]): { labels: Labels; histograms: (FloatHistogram | undefined)[] }[] {
  return familiesOf(series).map((f) => {
    const n = Math.max(...f.buckets.map((b) => b.values.length));
    const histograms: (FloatHistogram | undefined)[] = [];
    for (let i = 0; i < n; i++) histograms.push(histogramAt(f, i));
    return { labels: f.labels, histograms };
  });
}
