import { formatFloatE, formatFloatF } from '../common/go-format.js';
import { labelsToRecord } from '../tsdb/labels.js';
import type { QueryValue } from '../promql/value.js';
import type { FloatHistogram } from '../tsdb/float-histogram.js';
import { jsonArray } from './sliced-json.js';

/**
 * A sample value as Prometheus writes it in JSON: Go's FormatFloat with 'f', or 'e' for magnitudes
 * below 1e-6 and from 1e21 up (`1e-07`, `1.5e+300`), shortest digits; `-0`, `NaN`, `+Inf`, `-Inf`
 * as they are.
 */
export function formatValue(v: number): string {
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? formatFloatE(v) : formatFloatF(v);
}

/** Seconds since the epoch as a JSON number, with millisecond precision. */
export function formatTime(ms: number): number {
  return ms / 1000;
}

/**
 * The JSON of a query or query_range answer's `data` object, in pieces of one series each (a
 * range series in one piece per point too), as sliced-json.ts writes them.
 */
export function* queryDataJson(value: QueryValue): Generator<string> {
  switch (value.type) {
    case 'scalar':
    case 'string':
      yield JSON.stringify({ resultType: value.type, result: [formatTime(value.t), value.type === 'scalar' ? formatValue(value.v) : value.v] });
      return;
    case 'vector':
      yield '{"resultType":"vector","result":';
      yield* jsonArray(value.samples, (s) =>
        s.h === undefined
          ? `{"metric":${JSON.stringify(labelsToRecord(s.labels))},"value":${point(s.t, s.v)}}`
          : `{"metric":${JSON.stringify(labelsToRecord(s.labels))},"histogram":${histogramPoint(s.t, s.h)}}`,
      );
      yield '}';
      return;
    case 'matrix':
      yield '{"resultType":"matrix","result":[';
      for (let i = 0; i < value.series.length; i++) {
        const s = value.series[i]!;
        yield `${i === 0 ? '' : ','}{"metric":${JSON.stringify(labelsToRecord(s.labels))}`;
        const histograms = s.histograms;
        if (histograms === undefined || s.timestamps.length > 0) {
          yield ',"values":';
          yield* jsonArray(s.timestamps, (t, j) => point(t, s.values[j]!));
        }
        if (histograms !== undefined) {
          const times = s.histogramTimestamps!;
          yield ',"histograms":';
          yield* jsonArray(times, (t, j) => histogramPoint(t, histograms[j]!));
        }
        yield '}';
      }
      yield ']}';
  }
}

/**
 * Which ends of a bucket are inside it, as Prometheus's JSON numbers them: 0 the upper only
 * (positive and custom buckets), 1 the lower only (negative ones), 3 both (the zero bucket).
 */
const BOUNDARY_RULE = { positive: 0, custom: 0, negative: 1, zero: 3 } as const;

/** A native histogram as Prometheus's JSON writes one: count, sum and each non-empty bucket with its bounds, numbers as strings. */
function histogramPoint(t: number, h: FloatHistogram): string {
  const buckets = h
    .buckets()
    .filter((b) => b.count !== 0)
    .map((b) => [BOUNDARY_RULE[b.kind], formatValue(b.lower), formatValue(b.upper), formatValue(b.count)]);
  return `[${JSON.stringify(formatTime(t))},${JSON.stringify({ count: formatValue(h.count), sum: formatValue(h.sum), buckets })}]`;
}

function point(t: number, v: number): string {
  return `[${JSON.stringify(formatTime(t))},"${formatValue(v)}"]`;
}
