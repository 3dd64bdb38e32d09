import { compress } from 'snappyjs';
import { loadProto } from '../../src/protobuf.js';

/** The staleness marker, 0x7ff0000000000002, as a double (its NaN payload is what marks it). */
export const STALE_NAN = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

/** A remote-write Histogram message as protobufjs takes it (field names of the .proto). */
export interface HistogramMessage {
  timestamp: number;
  count_int?: number;
  count_float?: number;
  sum: number;
  schema: number;
  zero_threshold?: number;
  zero_count_int?: number;
  zero_count_float?: number;
  positive_spans?: { offset: number; length: number }[];
  positive_deltas?: number[];
  positive_counts?: number[];
  negative_spans?: { offset: number; length: number }[];
  negative_deltas?: number[];
  negative_counts?: number[];
  reset_hint?: number;
  custom_values?: number[];
}

export interface TestSeries {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number; start?: number }[];
  /** Histogram messages, or how many of one small integer histogram at the first sample's time. */
  histograms?: number | HistogramMessage[];
  exemplars?: number;
}

export const V1_CONTENT_TYPE = 'application/x-protobuf;proto=prometheus.WriteRequest';
export const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

const histogram = (timestamp: number): HistogramMessage => ({
  count_int: 1,
  sum: 1,
  schema: 0,
  timestamp,
  positive_spans: [{ offset: 0, length: 1 }],
  positive_deltas: [1],
});

function histogramsOf(s: TestSeries): HistogramMessage[] {
  const { histograms = 0 } = s;
  return typeof histograms === 'number' ? Array.from({ length: histograms }, () => histogram(s.samples[0]?.timestamp ?? Date.now())) : histograms;
}

/** A prometheus.WriteRequest, encoded with protobufjs from our .proto (uncompressed). */
export function encodeV1(series: TestSeries[], metadata: { type: number; metric_family_name: string; help: string; unit: string }[] = []): Uint8Array {
  const WriteRequest = loadProto('prometheus/remote.proto').lookupType('prometheus.WriteRequest');
  const message = {
    timeseries: series.map((s) => ({
      labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
      samples: s.samples.map(({ value, timestamp }) => ({ value, timestamp })),
      histograms: histogramsOf(s),
      exemplars: Array.from({ length: s.exemplars ?? 0 }, () => ({ labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: Date.now() })),
    })),
    metadata,
  };
  return WriteRequest.encode(WriteRequest.fromObject(message)).finish();
}

/** An io.prometheus.write.v2.Request with its symbol table, encoded with protobufjs from our .proto (uncompressed). */
export function encodeV2(series: (TestSeries & { metadata?: { type: number; help: string; unit: string }; createdTimestamp?: number })[]): Uint8Array {
  const Request = loadProto('io/prometheus/write/v2/types.proto').lookupType('io.prometheus.write.v2.Request');
  const symbols = [''];
  const ref = (s: string) => {
    let i = symbols.indexOf(s);
    if (i === -1) i = symbols.push(s) - 1;
    return i;
  };
  const timeseries = series.map((s) => ({
    labels_refs: Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([n, v]) => [ref(n), ref(v)]),
    samples: s.samples.map(({ value, timestamp, start }) => ({ value, timestamp, start_timestamp: start ?? 0 })),
    histograms: histogramsOf(s),
    exemplars: Array.from({ length: s.exemplars ?? 0 }, () => ({ labels_refs: [ref('trace_id'), ref('abc')], value: 1, timestamp: Date.now() })),
    metadata: s.metadata && { type: s.metadata.type, help_ref: ref(s.metadata.help), unit_ref: ref(s.metadata.unit) },
    created_timestamp: s.createdTimestamp ?? 0,
  }));
  return Request.encode(Request.fromObject({ symbols, timeseries })).finish();
}

export function snappy(bytes: Uint8Array): Buffer {
  return compress(Buffer.from(bytes));
}

/** Posts a remote-write body the way Prometheus does. */
export function postRemoteWrite(url: string, body: Uint8Array, contentType: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': contentType === V2_CONTENT_TYPE ? '2.0.0' : '0.1.0',
      'user-agent': 'keda-otlp-scaler-test',
      ...headers,
    },
    body,
  });
}
