import { Buffer, isUtf8 } from 'node:buffer';
import { MAX_VALUE_DEPTH, renderValue, type RawValue } from './attributes.js';
import { DecodeError } from '../errors.js';
import { decimalNanosToMs } from './nanos.js';
import { NumberPoints } from './number-points.js';
import {
  Temporality,
  type Attribute,
  type ExponentialBuckets,
  type ExponentialHistogramPoint,
  type HistogramPoint,
  type Metric,
  type MetricData,
  type OtlpRequest,
  type PointBase,
  type ResourceMetrics,
  type ScopeMetrics,
  type SummaryPoint,
} from './model.js';

/*
 * OTLP/JSON (the protobuf JSON mapping with OTLP's amendments): lowerCamelCase field names,
 * 64-bit integers as decimal strings or numbers, enums as integers, unknown fields ignored.
 * Receivers are lenient here as the specification allows: snake_case names and enum names are
 * accepted too. Every value is checked, and the error names the path to the bad field.
 */

type Json = Record<string, unknown>;

/** Where in the document the walk is (turned into text only when there is an error), and the request's gauge and sum points. */
class Path {
  private readonly parts: (string | number)[] = [];
  readonly points = new NumberPoints(Buffer.alloc(0), 16, undefined);
  push(part: string | number): void {
    this.parts.push(part);
  }
  pop(): void {
    this.parts.pop();
  }
  error(message: string): DecodeError {
    let where = '';
    for (const p of this.parts) where += typeof p === 'number' ? `[${p}]` : where === '' ? p : `.${p}`;
    return new DecodeError(where === '' ? message : `${where}: ${message}`);
  }
}

/**
 * Decodes an OTLP/JSON body. Bytes that are not UTF-8 refuse the whole body: decoding would turn
 * them into U+FFFD, so which point they belonged to is lost with them.
 */
export function decodeJsonBody(bytes: Uint8Array): OtlpRequest {
  if (!isUtf8(bytes)) throw new DecodeError('the body is not valid UTF-8 (OTLP/JSON must be)');
  return decodeJsonRequest(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** Decodes an ExportMetricsServiceRequest from OTLP/JSON text. */
export function decodeJsonRequest(text: string): OtlpRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DecodeError(`invalid JSON: ${(e as Error).message}`);
  }
  const path = new Path();
  if (!isObject(doc)) throw path.error('the body is not a JSON object (ExportMetricsServiceRequest)');
  return { resourceMetrics: list(doc, 'resourceMetrics', 'resource_metrics', path, resourceMetrics) };
}

function resourceMetrics(o: Json, path: Path): ResourceMetrics {
  const resource = object(o, 'resource', 'resource', path);
  let attrs: Attribute[] = [];
  if (resource) {
    path.push('resource');
    attrs = attributes(resource, 'attributes', path);
    path.pop();
  }
  const rm: ResourceMetrics = { resource: attrs, scopeMetrics: list(o, 'scopeMetrics', 'scope_metrics', path, scopeMetrics) };
  const bad = malformedAttribute(attrs);
  if (bad !== undefined) rm.invalidUtf8 = `resource: ${bad}`;
  return rm;
}

/**
 * JSON text is UTF-8, but a `\ud800` escape makes a lone surrogate, which no UTF-8 can carry: such
 * a string is refused as protobuf's invalid UTF-8 is. Paired surrogates (one code point) match not.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

function malformedAttribute(attrs: Attribute[]): string | undefined {
  for (const a of attrs) {
    if (LONE_SURROGATE.test(a.key)) return `attribute key ${JSON.stringify(a.key)} is not valid Unicode (a lone surrogate)`;
    if (LONE_SURROGATE.test(a.value)) return `attribute ${a.key} has a value that is not valid Unicode (a lone surrogate)`;
  }
  return undefined;
}

function scopeMetrics(o: Json, path: Path): ScopeMetrics {
  const scope = object(o, 'scope', 'scope', path);
  let name = '';
  let version = '';
  let attrs: Attribute[] = [];
  if (scope) {
    path.push('scope');
    name = string(scope, 'name', 'name', path);
    version = string(scope, 'version', 'version', path);
    attrs = attributes(scope, 'attributes', path);
    path.pop();
  }
  return { scope: { name, version, attributes: attrs }, metrics: list(o, 'metrics', 'metrics', path, metric) };
}

function metric(o: Json, path: Path): Metric {
  const m: Metric = {
    name: string(o, 'name', 'name', path),
    description: string(o, 'description', 'description', path),
    unit: string(o, 'unit', 'unit', path),
    data: metricData(o, path),
  };
  for (const field of ['name', 'description', 'unit'] as const) {
    if (LONE_SURROGATE.test(m[field])) m.invalidUtf8 = `metric ${field} ${JSON.stringify(m[field])} is not valid Unicode (a lone surrogate)`;
  }
  return m;
}

/** The metric's data: the first of its data fields that is there, read with `path` inside it. */
function metricData(o: Json, path: Path): MetricData | undefined {
  const inside = (camel: string, snake: string, read: (body: Json) => MetricData): MetricData | undefined => {
    const body = object(o, camel, snake, path);
    if (body === undefined) return undefined;
    path.push(camel);
    const data = read(body);
    path.pop();
    return data;
  };
  const points = <P>(body: Json, point: (v: Json, path: Path) => P): P[] => list(body, 'dataPoints', 'data_points', path, point);
  const numbers = (body: Json) => {
    const first = path.points.length;
    points(body, numberPoint);
    return { points: path.points, first, count: path.points.length - first };
  };
  return (
    inside('gauge', 'gauge', (b) => ({ kind: 'gauge', ...numbers(b) })) ??
    inside('sum', 'sum', (b) => ({
      kind: 'sum',
      ...numbers(b),
      temporality: temporality(b, path),
      monotonic: boolean(b, 'isMonotonic', 'is_monotonic', path),
    })) ??
    inside('histogram', 'histogram', (b) => ({ kind: 'histogram', dataPoints: points(b, histogramPoint), temporality: temporality(b, path) })) ??
    inside('exponentialHistogram', 'exponential_histogram', (b) => ({
      kind: 'exponentialHistogram',
      dataPoints: points(b, exponentialPoint),
      temporality: temporality(b, path),
    })) ??
    inside('summary', 'summary', (b) => ({ kind: 'summary', dataPoints: points(b, summaryPoint) }))
  );
}

function base(o: Json, path: Path): PointBase {
  const p: PointBase = {
    attributes: attributes(o, 'attributes', path),
    startTimeMs: nanosMs(o, 'startTimeUnixNano', 'start_time_unix_nano', path),
    timeMs: nanosMs(o, 'timeUnixNano', 'time_unix_nano', path),
    flags: integer(o, 'flags', 'flags', path),
  };
  const bad = malformedAttribute(p.attributes);
  if (bad !== undefined) p.invalidUtf8 = bad;
  return p;
}

function numberPoint(o: Json, path: Path): void {
  const p = base(o, path);
  const asInt = get(o, 'asInt', 'as_int');
  const value = asInt !== undefined ? integer(o, 'asInt', 'as_int', path) : double(o, 'asDouble', 'as_double', path);
  path.points.addBuilt(p.startTimeMs, p.timeMs, value, p.flags, p.attributes, p.invalidUtf8);
}

function histogramPoint(o: Json, path: Path): HistogramPoint {
  const p = base(o, path) as HistogramPoint;
  p.count = integer(o, 'count', 'count', path);
  p.sum = get(o, 'sum', 'sum') === undefined ? undefined : double(o, 'sum', 'sum', path);
  p.bucketCounts = numbers(o, 'bucketCounts', 'bucket_counts', path, toInteger);
  p.explicitBounds = numbers(o, 'explicitBounds', 'explicit_bounds', path, toDouble);
  return p;
}

function exponentialPoint(o: Json, path: Path): ExponentialHistogramPoint {
  const p = base(o, path) as ExponentialHistogramPoint;
  p.count = integer(o, 'count', 'count', path);
  p.sum = get(o, 'sum', 'sum') === undefined ? undefined : double(o, 'sum', 'sum', path);
  p.scale = integer(o, 'scale', 'scale', path);
  p.zeroCount = integer(o, 'zeroCount', 'zero_count', path);
  p.zeroThreshold = double(o, 'zeroThreshold', 'zero_threshold', path);
  p.positive = buckets(o, 'positive', path);
  p.negative = buckets(o, 'negative', path);
  return p;
}

function buckets(o: Json, name: string, path: Path): ExponentialBuckets {
  const b = object(o, name, name, path);
  if (!b) return { offset: 0, bucketCounts: [] };
  path.push(name);
  const out = { offset: integer(b, 'offset', 'offset', path), bucketCounts: numbers(b, 'bucketCounts', 'bucket_counts', path, toInteger) };
  path.pop();
  return out;
}

function summaryPoint(o: Json, path: Path): SummaryPoint {
  const p = base(o, path) as SummaryPoint;
  p.count = integer(o, 'count', 'count', path);
  p.sum = double(o, 'sum', 'sum', path);
  p.quantileValues = list(o, 'quantileValues', 'quantile_values', path, (q, qp) => ({
    quantile: double(q, 'quantile', 'quantile', qp),
    value: double(q, 'value', 'value', qp),
  }));
  return p;
}

function attributes(o: Json, name: string, path: Path): Attribute[] {
  return list(o, name, name, path, (kv, p) => ({
    key: string(kv, 'key', 'key', p),
    value: renderValue(valueField(kv, p)),
  }));
}

function valueField(kv: Json, path: Path, depth = 0): RawValue {
  const v = object(kv, 'value', 'value', path);
  if (!v) return null;
  path.push('value');
  const out = anyValue(v, path, depth);
  path.pop();
  return out;
}

function anyValue(v: Json, path: Path, depth: number): RawValue {
  if (depth > MAX_VALUE_DEPTH) throw path.error(`attribute value nested deeper than ${MAX_VALUE_DEPTH} levels`);
  let out: RawValue = null;
  let x: unknown;
  if (get(v, 'stringValue', 'string_value') !== undefined) out = string(v, 'stringValue', 'string_value', path);
  else if (get(v, 'boolValue', 'bool_value') !== undefined) out = boolean(v, 'boolValue', 'bool_value', path);
  else if ((x = get(v, 'intValue', 'int_value')) !== undefined) out = bigInteger(x, 'intValue', path);
  else if (get(v, 'doubleValue', 'double_value') !== undefined) out = double(v, 'doubleValue', 'double_value', path);
  else if ((x = get(v, 'bytesValue', 'bytes_value')) !== undefined) {
    if (typeof x !== 'string') throw path.error('bytesValue is not a base64 string');
    out = Buffer.from(x, 'base64');
  } else if ((x = object(v, 'arrayValue', 'array_value', path)) !== undefined) {
    path.push('arrayValue');
    out = list(x as Json, 'values', 'values', path, (item, p) => anyValue(item, p, depth + 1));
    path.pop();
  } else if ((x = object(v, 'kvlistValue', 'kvlist_value', path)) !== undefined) {
    path.push('kvlistValue');
    const entries = list(x as Json, 'values', 'values', path, (kv, p): [string, RawValue] => [string(kv, 'key', 'key', p), valueField(kv, p, depth + 1)]);
    out = new Map(entries);
    path.pop();
  }
  return out;
}

function get(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const s = o[snake];
  return s === null ? undefined : s;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(o: Json, camel: string, snake: string, path: Path): Json | undefined {
  const v = get(o, camel, snake);
  if (v === undefined) return undefined;
  if (!isObject(v)) throw path.error(`${camel} is not an object`);
  return v;
}

function list<T>(o: Json, camel: string, snake: string, path: Path, item: (v: Json, path: Path) => T): T[] {
  const v = get(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw path.error(`${camel} is not an array`);
  const out: T[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    path.push(camel);
    path.push(i);
    if (!isObject(e)) throw path.error('not an object');
    out[i] = item(e, path);
    path.pop();
    path.pop();
  }
  return out;
}

function string(o: Json, camel: string, snake: string, path: Path): string {
  const v = get(o, camel, snake);
  if (v === undefined) return '';
  if (typeof v !== 'string') throw path.error(`${camel} is not a string`);
  return v;
}

function boolean(o: Json, camel: string, snake: string, path: Path): boolean {
  const v = get(o, camel, snake);
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw path.error(`${camel} is not a boolean`);
  return v;
}

const INTEGER_TEXT = /^-?\d+$/;

function toInteger(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) return Number(v);
  return undefined;
}

function integer(o: Json, camel: string, snake: string, path: Path): number {
  return number(o, camel, snake, path, toInteger);
}

function bigInteger(v: unknown, name: string, path: Path): bigint {
  if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && INTEGER_TEXT.test(v))) return BigInt(v);
  throw path.error(`${name} is not an integer`);
}

function toDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  const n = Number(v);
  return v.trim() === '' || Number.isNaN(n) ? undefined : n;
}

function double(o: Json, camel: string, snake: string, path: Path): number {
  return number(o, camel, snake, path, toDouble);
}

type Convert = (v: unknown) => number | undefined;

/** What a value `convert` refused should have been, for the error. */
function expected(convert: Convert): string {
  return convert === toInteger ? 'an integer' : 'a number';
}

/** A number field, 0 when absent (proto3's default). */
function number(o: Json, camel: string, snake: string, path: Path, convert: Convert): number {
  const v = get(o, camel, snake);
  if (v === undefined) return 0;
  const n = convert(v);
  if (n === undefined) throw path.error(`${camel} is not ${expected(convert)}`);
  return n;
}

function numbers(o: Json, camel: string, snake: string, path: Path, convert: Convert): number[] {
  const v = get(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw path.error(`${camel} is not an array`);
  const out: number[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const n = convert(v[i]);
    if (n === undefined) throw path.error(`${camel}[${i}] is not ${expected(convert)}`);
    out[i] = n;
  }
  return out;
}

/** A time field in ms (a value past 2^64 ns stays a number far in the future, which translation rejects). */
function nanosMs(o: Json, camel: string, snake: string, path: Path): number {
  const v = get(o, camel, snake);
  if (v === undefined) return 0;
  if ((typeof v === 'string' && INTEGER_TEXT.test(v)) || (typeof v === 'number' && Number.isInteger(v))) return decimalNanosToMs(v);
  throw path.error(`${camel} is not an integer`);
}

const TEMPORALITY_NAMES = new Map<string, Temporality>([
  ['AGGREGATION_TEMPORALITY_UNSPECIFIED', Temporality.Unspecified],
  ['AGGREGATION_TEMPORALITY_DELTA', Temporality.Delta],
  ['AGGREGATION_TEMPORALITY_CUMULATIVE', Temporality.Cumulative],
]);

function temporality(o: Json, path: Path): Temporality {
  const v = get(o, 'aggregationTemporality', 'aggregation_temporality');
  if (v === undefined) return Temporality.Unspecified;
  const named = typeof v === 'string' ? TEMPORALITY_NAMES.get(v) : undefined;
  if (named !== undefined) return named;
  // Unknown numbers pass through: translation rejects them point by point with a message.
  const n = toInteger(v);
  if (n === undefined) throw path.error(`aggregationTemporality is not an AggregationTemporality (${JSON.stringify(v)})`);
  return n as Temporality;
}
