import { encodeRequest, jsonRequest } from '../clients/otlp.js';
import type { Rng } from './rng.js';

/**
 * Valid OTLP requests, as protobuf bytes and OTLP/JSON text, to be sent whole or mutated.
 * Every metric kind appears, with random names, attributes and values.
 */
export interface ValidRequest {
  protobuf: Buffer;
  json: string;
}

const NAMES = ['http.server.duration', 'queue.depth', 'jobs', 'cpu.utilization', 'fuzz.metric', 'a.b.c'];
const UNITS = ['', 's', 'ms', 'By', '1', '{items}'];

function nowNanos(): string {
  return `${Date.now()}000000`;
}

function attributes(rng: Rng): object[] {
  const out: object[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const value = rng.weighted<object>([
      [4, { string_value: `v${rng.int(50)}` }],
      [1, { int_value: rng.int(1000) }],
      [1, { bool_value: rng.chance(0.5) }],
      [1, { double_value: rng.next() * 100 }],
      [1, { array_value: { values: [{ string_value: 'x' }, { int_value: 2 }] } }],
    ]);
    out.push({ key: rng.pick(['code', 'route', 'k8s.pod.name', 'host', 'x.y']), value });
  }
  return out;
}

function metric(rng: Rng): object {
  const point = () => ({ attributes: attributes(rng), time_unix_nano: nowNanos(), start_time_unix_nano: nowNanos(), as_double: rng.next() * 1000 });
  const name = rng.pick(NAMES);
  const unit = rng.pick(UNITS);
  switch (rng.int(5)) {
    case 0:
      return { name, unit, gauge: { data_points: [point()] } };
    case 1:
      return { name, unit, sum: { data_points: [point()], aggregation_temporality: rng.pick([1, 2]), is_monotonic: rng.chance(0.5) } };
    case 2:
      return {
        name,
        unit,
        histogram: {
          aggregation_temporality: 2,
          data_points: [{ attributes: attributes(rng), time_unix_nano: nowNanos(), count: 6, sum: 12.5, bucket_counts: [1, 2, 3], explicit_bounds: [1, 5] }],
        },
      };
    case 3:
      return {
        name,
        unit,
        exponential_histogram: {
          aggregation_temporality: 2,
          data_points: [
            {
              attributes: attributes(rng),
              time_unix_nano: nowNanos(),
              count: 3,
              sum: 4,
              scale: rng.int(8),
              zero_count: 1,
              positive: { offset: 1, bucket_counts: [1, 1] },
            },
          ],
        },
      };
    default:
      return {
        name,
        unit,
        summary: {
          data_points: [
            {
              time_unix_nano: nowNanos(),
              count: 2,
              sum: 3,
              quantile_values: [
                { quantile: 0.5, value: 1 },
                { quantile: 0.99, value: 2 },
              ],
            },
          ],
        },
      };
  }
}

/** A request object with the .proto's field names, ready for ExportMetricsServiceRequest.fromObject. */
export function validRequestObject(rng: Rng, resource: Record<string, string> = { 'service.name': `fuzz-${rng.int(5)}` }): object {
  const metrics: object[] = [];
  for (let i = 1 + rng.int(3); i > 0; i--) metrics.push(metric(rng));
  return {
    resource_metrics: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { string_value: v } })) },
        scope_metrics: [{ scope: { name: 'fuzz', version: '1' }, metrics }],
      },
    ],
  };
}

/**
 * A request's protobuf bytes followed by an unknown field of zeros up to `bytes` in all: a body
 * that decodes cheaply and is only a few KiB gzip-compressed, so each inflates to `bytes`.
 */
export function paddedRequest(request: object, bytes: number): Buffer {
  const body = encodeRequest(request);
  const tag = Buffer.from([0xc2, 0x3e]); // field 1000, length-delimited
  const length: number[] = [];
  let n = bytes - body.length - tag.length - 5;
  const padding = n;
  for (; n >= 0x80; n = Math.floor(n / 0x80)) length.push((n & 0x7f) | 0x80);
  length.push(n);
  return Buffer.concat([body, tag, Buffer.from(length), Buffer.alloc(padding)]);
}

export function validRequest(rng: Rng): ValidRequest {
  const request = validRequestObject(rng);
  return { protobuf: encodeRequest(request), json: jsonRequest(request) };
}
