import { formatFloatE, formatFloatF } from '../common/go-format.js';
import { labelsToRecord } from '../tsdb/labels.js';
import type { QueryValue } from '../promql/value.js';
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
      yield* jsonArray(value.samples, (s) => `{"metric":${JSON.stringify(labelsToRecord(s.labels))},"value":${point(s.t, s.v)}}`);
      yield '}';
      return;
    case 'matrix':
      yield '{"resultType":"matrix","result":[';
      for (let i = 0; i < value.series.length; i++) {
        const s = value.series[i]!;
        yield `${i === 0 ? '' : ','}{"metric":${JSON.stringify(labelsToRecord(s.labels))},"values":`;
        yield* jsonArray(s.timestamps, (t, j) => point(t, s.values[j]!));
        yield '}';
      }
      yield ']}';
  }
}

function point(t: number, v: number): string {
  return `[${JSON.stringify(formatTime(t))},"${formatValue(v)}"]`;
}
