import { ExportMetricsServiceRequest } from '../../src/otlp/transport/proto.js';
import type { DataSeries, DataSet } from './dataset.js';

const CUMULATIVE = 2;
/** Every counter of the data set started an hour before its first sample. */
const START_OFFSET_MS = 3_600_000;

/** A uint64 nanosecond timestamp as protobufjs takes it (exact, unlike a double). */
export function nanos(ms: number): { low: number; high: number; unsigned: boolean } {
  const ns = BigInt(ms) * 1_000_000n;
  return { low: Number(ns & 0xffffffffn) | 0, high: Number(ns >> 32n) | 0, unsigned: true };
}

function kv(key: string, value: string) {
  return { key, value: { string_value: value } };
}

/**
 * The OTLP metric a data-set series is sent as, and the point attributes it carries. The label
 * sets Prometheus stores for the peer come out the same here: `job` from service.name, the rest
 * as point attributes (service.instance.id sanitized to service_instance_id); counters are
 * monotonic cumulative sums, so their stored name gains `_total` and the plain name is an alias.
 */
function metricOf(s: DataSeries): { name: string; gauge: boolean; attributes: ReturnType<typeof kv>[] } {
  let name = '';
  const attributes: ReturnType<typeof kv>[] = [];
  for (const { name: label, value } of s.labels) {
    if (label === '__name__') name = value;
    else if (label === 'service_instance_id') attributes.push(kv('service.instance.id', value));
    else if (label !== 'job') attributes.push(kv(label, value));
  }
  return { name, gauge: s.kind === 'gauge', attributes };
}

/** One ExportMetricsServiceRequest with the samples of series [from, to) at one step: one resource a pod. */
export function encodeBatch(data: DataSet, step: number, from: number, to: number, timeMs = data.timeAt(step)): Buffer {
  const values = data.values[step]!;
  const time = nanos(timeMs);
  const start = nanos(data.endMs - START_OFFSET_MS);
  const resourceMetrics: unknown[] = [];
  let k = from;
  while (k < to) {
    const pod = data.series[k]!.pod;
    const metrics = new Map<string, { name: string; gauge: boolean; points: unknown[] }>();
    for (; k < to && data.series[k]!.pod === pod; k++) {
      const m = metricOf(data.series[k]!);
      let metric = metrics.get(m.name);
      if (!metric) {
        metric = { name: m.name, gauge: m.gauge, points: [] };
        metrics.set(m.name, metric);
      }
      metric.points.push({ attributes: m.attributes, start_time_unix_nano: m.gauge ? undefined : start, time_unix_nano: time, as_int: values[k]! });
    }
    resourceMetrics.push({
      resource: { attributes: [kv('service.name', 'gateway')] },
      scope_metrics: [
        {
          scope: { name: 'otelcol', version: '1' },
          metrics: [...metrics.values()].map((m) =>
            m.gauge
              ? { name: m.name, gauge: { data_points: m.points } }
              : { name: m.name, sum: { data_points: m.points, aggregation_temporality: CUMULATIVE, is_monotonic: true } },
          ),
        },
      ],
    });
  }
  return Buffer.from(ExportMetricsServiceRequest.encode({ resource_metrics: resourceMetrics }).finish());
}

/** Every request of the data set, step by step, `batch` series a request. */
export function encodeAll(data: DataSet, batch: number): Buffer[][] {
  const steps: Buffer[][] = [];
  for (let step = 0; step < data.values.length; step++) {
    const requests: Buffer[] = [];
    for (let from = 0; from < data.series.length; from += batch) {
      requests.push(encodeBatch(data, step, from, Math.min(data.series.length, from + batch)));
    }
    steps.push(requests);
  }
  return steps;
}
