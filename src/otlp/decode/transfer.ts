import { Buffer } from 'node:buffer';
import type { Attribute, Metric, MetricData, OtlpRequest, ResourceMetrics, Scope, ScopeMetrics } from './model.js';
import { NumberPoints } from './number-points.js';
import { numberPointAttributes, wireResource, wireScope } from './wire.js';

/*
 * A decoded request as a decoding worker hands it to the main thread. The points are the
 * columns' typed arrays and the request's bytes (which wire points' and resources' encoded
 * attributes lie in): their buffers are transferred, not copied. What is left is a small record
 * a resource, scope and metric, cloned; the rare kinds (histograms, summaries) and JSON points'
 * attributes, built already, are cloned with them.
 */

type NumberColumns = ReturnType<NumberPoints['exported']>;

/** A gauge's or sum's data without its columns: the request's one set of columns travels once. */
type PackedData =
  | Exclude<MetricData, { kind: 'gauge' | 'sum' }>
  | { kind: 'gauge'; first: number; count: number }
  | { kind: 'sum'; first: number; count: number; temporality: number; monotonic: boolean };

interface PackedMetric {
  name: string;
  description: string;
  unit: string;
  invalidUtf8?: string;
  data: PackedData | undefined;
}

interface PackedScope {
  /** Where the wire decoder left the scope encoded; else `scope`. */
  span?: [number, number];
  scope?: Scope;
  metrics: PackedMetric[];
}

interface PackedResource {
  /** Where the wire decoder left the resource encoded, and its hash; else `resource`. */
  key?: [number, number, number];
  resource?: Attribute[];
  invalidUtf8?: string;
  scopes: PackedScope[];
}

export interface PackedRequest {
  /** The request's bytes, in a buffer of their own. */
  bytes: Uint8Array<ArrayBuffer>;
  numbers: NumberColumns | undefined;
  resources: PackedResource[];
}

/** What the scope metrics of the wire decoder expose besides the model: where they are encoded. */
interface EncodedScope {
  start?: number;
  end?: number;
}

/**
 * `request`, decoded from `bytes` (a buffer of its own, which the wire decoder's keys point
 * into), as a message and the buffers to transfer with it.
 */
export function pack(request: OtlpRequest, bytes: Uint8Array<ArrayBuffer>): { message: PackedRequest; transfer: ArrayBuffer[] } {
  let numbers: NumberColumns | undefined;
  const resources = request.resourceMetrics.map((rm): PackedResource => {
    const key = rm.resourceKey;
    const packed: PackedResource = { scopes: rm.scopeMetrics.map(packScope) };
    if (key !== undefined) packed.key = [key.keyStart, key.keyEnd, key.hash];
    else packed.resource = rm.resource;
    if (rm.invalidUtf8 !== undefined) packed.invalidUtf8 = rm.invalidUtf8;
    return packed;
  });
  function packScope(sm: ScopeMetrics): PackedScope {
    const { start, end } = sm as EncodedScope;
    const metrics = sm.metrics.map(packMetric);
    return start !== undefined && end !== undefined ? { span: [start, end], metrics } : { scope: sm.scope, metrics };
  }
  function packMetric(m: Metric): PackedMetric {
    const data = m.data;
    const packed: PackedMetric = { name: m.name, description: m.description, unit: m.unit, data: undefined };
    if (m.invalidUtf8 !== undefined) packed.invalidUtf8 = m.invalidUtf8;
    if (data === undefined) return packed;
    if (data.kind === 'gauge') packed.data = { kind: 'gauge', first: data.first, count: data.count };
    else if (data.kind === 'sum') {
      packed.data = { kind: 'sum', first: data.first, count: data.count, temporality: data.temporality, monotonic: data.monotonic };
    } else packed.data = data;
    if (data.kind === 'gauge' || data.kind === 'sum') numbers ??= data.points.exported();
    return packed;
  }
  const transfer: ArrayBuffer[] = [bytes.buffer];
  if (numbers !== undefined) transfer.push(numbers.times.buffer, numbers.ints.buffer);
  return { message: { bytes, numbers, resources }, transfer };
}

/** The request a worker packed, over the bytes and columns it handed back. */
export function unpack(message: PackedRequest): OtlpRequest {
  const buf = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  const numbers = message.numbers === undefined ? undefined : NumberPoints.imported(buf, numberPointAttributes, message.numbers);
  const unpackMetric = (m: PackedMetric): Metric => {
    const d = m.data;
    const metric: Metric = { name: m.name, description: m.description, unit: m.unit, data: undefined };
    if (m.invalidUtf8 !== undefined) metric.invalidUtf8 = m.invalidUtf8;
    if (d === undefined) return metric;
    if (d.kind === 'gauge') metric.data = { kind: 'gauge', points: numbers!, first: d.first, count: d.count };
    else if (d.kind === 'sum')
      metric.data = { kind: 'sum', points: numbers!, first: d.first, count: d.count, temporality: d.temporality, monotonic: d.monotonic };
    else metric.data = d;
    return metric;
  };
  const unpackScope = (s: PackedScope): ScopeMetrics => {
    const metrics = s.metrics.map(unpackMetric);
    return s.span !== undefined ? wireScope(buf, s.span[0], s.span[1], metrics) : { scope: s.scope!, metrics };
  };
  const resourceMetrics = message.resources.map((r): ResourceMetrics => {
    const scopes = r.scopes.map(unpackScope);
    const rm =
      r.key !== undefined
        ? wireResource(numbers ?? { buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength) }, r.key[0], r.key[1], r.key[2], scopes)
        : { resource: r.resource!, scopeMetrics: scopes };
    if (r.invalidUtf8 !== undefined) rm.invalidUtf8 = r.invalidUtf8;
    return rm;
  });
  return { resourceMetrics };
}
