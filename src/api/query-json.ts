import { formatFloatE, formatFloatF } from '../common/go-format.js';
import { labelsToRecord } from '../tsdb/labels.js';
import type { QueryValue } from '../promql/value.js';

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

/** The `data` object of a query or query_range answer. */
export function formatQueryData(value: QueryValue): { resultType: string; result: unknown } {
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', result: [formatTime(value.t), formatValue(value.v)] };
    case 'string':
      return { resultType: 'string', result: [formatTime(value.t), value.v] };
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: labelsToRecord(s.labels), value: [formatTime(s.t), formatValue(s.v)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: value.series.map((s) => ({
          metric: labelsToRecord(s.labels),
          values: s.timestamps.map((t, i) => [formatTime(t), formatValue(s.values[i]!)]),
        })),
      };
  }
}
