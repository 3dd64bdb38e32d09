import { labelsToRecord } from '../tsdb/labels.js';
import type { QueryValue } from '../promql/value.js';

/**
 * A sample value as Prometheus writes it in JSON: a string, `NaN`, `+Inf`, `-Inf`, and never
 * exponent notation for ordinary magnitudes (Go's FormatFloat 'f', -1).
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  const [mantissa, exp] = String(Math.abs(v)).split('e') as [string, string];
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const pointAt = (dot === -1 ? mantissa.length : dot) + Number(exp);
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return v < 0 ? `-${out}` : out;
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
