import { nanosToMs } from '../../../src/otlp/decode/nanos.js';
import type { RawValue } from '../../../src/otlp/decode/attributes.js';
import { MAX_VALUE_DEPTH, renderValue } from '../../../src/otlp/decode/attributes.js';
import { DecodeError } from '../../../src/otlp/errors.js';
import { NumberPoints } from '../../../src/otlp/decode/number-points.js';
import type {
  Attribute,
  ExponentialBuckets,
  ExponentialHistogramPoint,
  HistogramPoint,
  Metric,
  MetricData,
  OtlpRequest,
  PointBase,
  QuantileValue,
  ResourceMetrics,
  ScopeMetrics,
  SummaryPoint,
} from '../../../src/otlp/decode/model.js';
import { ExportMetricsServiceRequest } from '../../../src/otlp/transport/proto.js';

/*
 * The test reference for the wire decoder: protobufjs, a decoder we did not write, read into the
 * same model. protobufjs decodes into message objects with the .proto's snake_case names, 64-bit integers as
 * Long, oneof getters (`data`, `value`) and absent fields on the prototype. The wire types were
 * checked by protobufjs, so this walk only reshapes; the loose `Msg` type is why it is short.
 */
type Msg = any;

/** protobufjs's 64-bit integer (the `long` package), as far as this file uses it. */
interface Long {
  high: number;
  low: number;
  toNumber(): number;
  toString(): string;
}

/** Decodes an ExportMetricsServiceRequest from protobuf bytes. */
export function decodeProtobufRequest(bytes: Uint8Array): OtlpRequest {
  let message: Msg;
  try {
    message = ExportMetricsServiceRequest.decode(bytes);
  } catch (e) {
    throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: ${(e as Error).message}`);
  }
  points = new NumberPoints(Buffer.alloc(0), 16, undefined);
  return { resourceMetrics: (message.resource_metrics as Msg[]).map(resourceMetrics) };
}

/** The gauge and sum points of the request being read. */
let points = new NumberPoints(Buffer.alloc(0), 16, undefined);

function numberData(data: Msg): { points: NumberPoints; first: number; count: number } {
  const first = points.length;
  for (const p of data.data_points as Msg[]) {
    const b = base(p);
    points.addBuilt(
      b.startTimeMs,
      b.timeMs,
      p.value === 'as_int' ? toNumber(p.as_int) : p.value === 'as_double' ? p.as_double : 0,
      b.flags,
      b.attributes,
      undefined,
    );
  }
  return { points, first, count: points.length - first };
}

function resourceMetrics(rm: Msg): ResourceMetrics {
  return {
    resource: attributes(rm.resource?.attributes),
    scopeMetrics: (rm.scope_metrics as Msg[]).map(scopeMetrics),
  };
}

function scopeMetrics(sm: Msg): ScopeMetrics {
  const s = sm.scope;
  return {
    scope: { name: s?.name ?? '', version: s?.version ?? '', attributes: attributes(s?.attributes) },
    metrics: (sm.metrics as Msg[]).map(metricFromMessage),
  };
}

function metricFromMessage(m: Msg): Metric {
  return { name: m.name, description: m.description, unit: m.unit, data: metricData(m) };
}

function metricData(m: Msg): MetricData | undefined {
  switch (m.data as string | undefined) {
    case 'gauge':
      return { kind: 'gauge', ...numberData(m.gauge) };
    case 'sum':
      return {
        kind: 'sum',
        ...numberData(m.sum),
        temporality: m.sum.aggregation_temporality,
        monotonic: m.sum.is_monotonic,
      };
    case 'histogram':
      return {
        kind: 'histogram',
        dataPoints: (m.histogram.data_points as Msg[]).map(histogramPoint),
        temporality: m.histogram.aggregation_temporality,
      };
    case 'exponential_histogram':
      return {
        kind: 'exponentialHistogram',
        dataPoints: (m.exponential_histogram.data_points as Msg[]).map(exponentialPoint),
        temporality: m.exponential_histogram.aggregation_temporality,
      };
    case 'summary':
      return { kind: 'summary', dataPoints: (m.summary.data_points as Msg[]).map(summaryPoint) };
    default:
      return undefined;
  }
}

function base(p: Msg): PointBase {
  return {
    attributes: attributes(p.attributes),
    startTimeMs: longNanosToMs(p.start_time_unix_nano),
    timeMs: longNanosToMs(p.time_unix_nano),
    flags: p.flags,
  };
}

function histogramPoint(p: Msg): HistogramPoint {
  const point = base(p) as HistogramPoint;
  point.count = toNumber(p.count);
  point.sum = p._sum === 'sum' ? p.sum : undefined;
  point.bucketCounts = (p.bucket_counts as (Long | number)[]).map(toNumber);
  point.explicitBounds = p.explicit_bounds;
  return point;
}

function exponentialPoint(p: Msg): ExponentialHistogramPoint {
  const point = base(p) as ExponentialHistogramPoint;
  point.count = toNumber(p.count);
  point.sum = p._sum === 'sum' ? p.sum : undefined;
  point.scale = p.scale;
  point.zeroCount = toNumber(p.zero_count);
  point.zeroThreshold = p.zero_threshold;
  point.positive = buckets(p.positive);
  point.negative = buckets(p.negative);
  return point;
}

function buckets(b: Msg): ExponentialBuckets {
  if (!b) return { offset: 0, bucketCounts: [] };
  return { offset: b.offset, bucketCounts: (b.bucket_counts as (Long | number)[]).map(toNumber) };
}

function summaryPoint(p: Msg): SummaryPoint {
  const point = base(p) as SummaryPoint;
  point.count = toNumber(p.count);
  point.sum = p.sum;
  point.quantileValues = (p.quantile_values as Msg[]).map((q): QuantileValue => ({ quantile: q.quantile, value: q.value }));
  return point;
}

function attributes(list: Msg[] | undefined): Attribute[] {
  if (!list || list.length === 0) return [];
  const out: Attribute[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    out[i] = { key: kv.key, value: renderValue(anyValue(kv.value)) };
  }
  return out;
}

function anyValue(v: Msg, depth = 0): RawValue {
  if (!v) return null;
  if (depth > MAX_VALUE_DEPTH) throw new DecodeError(`attribute value nested deeper than ${MAX_VALUE_DEPTH} levels`);
  switch (v.value as string | undefined) {
    case 'string_value':
      return v.string_value;
    case 'bool_value':
      return v.bool_value;
    case 'int_value':
      return BigInt(v.int_value.toString());
    case 'double_value':
      return v.double_value;
    case 'bytes_value':
      return v.bytes_value;
    case 'array_value':
      return ((v.array_value?.values ?? []) as Msg[]).map((item) => anyValue(item, depth + 1));
    case 'kvlist_value':
      return new Map(((v.kvlist_value?.values ?? []) as Msg[]).map((kv) => [kv.key as string, anyValue(kv.value, depth + 1)]));
    default:
      return null;
  }
}

function toNumber(v: Long | number): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** Nanoseconds (unsigned 64-bit) to whole milliseconds without building 64-bit intermediates. */
function longNanosToMs(v: Long | number): number {
  if (typeof v === 'number') return Math.floor(v / 1e6);
  return nanosToMs(v.high >>> 0, v.low >>> 0);
}
