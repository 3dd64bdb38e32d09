import { Buffer } from 'node:buffer';
import type { Attribute, Metric, MetricData, OtlpRequest, ResourceMetrics, Scope, ScopeMetrics } from './model.js';
import { NumberPoints } from './number-points.js';
import { numberPointAttributes, wireResource, wireScope } from './wire.js';

/*
 * A decoded request as a decoding worker hands it to the main thread, in typed arrays and a
 * string table: the request's bytes (which wire points' and resources' encoded attributes lie
 * in), the points' columns and the shape (resources, scopes, metrics as integers, their names as
 * indices into the table) are transferred, not copied; a structured clone of an object a metric
 * cost the main thread more than decoding saved it. The strings (metric names, units,
 * descriptions: few, and repeated from resource to resource) and the rare parts kept as objects
 * (histograms and summaries, JSON's attributes, built already) are cloned.
 */

type NumberColumns = ReturnType<NumberPoints['exported']>;

export interface PackedRequest {
  /** The request's bytes, in a buffer of their own. */
  bytes: Uint8Array<ArrayBuffer>;
  numbers: NumberColumns | undefined;
  /** The shape, read in order by unpack(); see pack() for what each integer is. */
  shape: Int32Array<ArrayBuffer>;
  strings: string[];
  objects: unknown[];
}

/** How a metric's data is packed. */
const enum Data {
  None = 0,
  Gauge = 1,
  Sum = 2,
  /** A histogram, exponential histogram or summary: an object. */
  Object = 3,
}

/** What the wire decoder's scope metrics expose besides the model: where they are encoded. */
interface EncodedScope {
  start?: number;
  end?: number;
}

class ShapeWriter {
  private ints = new Int32Array(256);
  private n = 0;
  readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  readonly objects: unknown[] = [];

  int(v: number): void {
    if (this.n === this.ints.length) {
      const grown = new Int32Array(2 * this.n);
      grown.set(this.ints);
      this.ints = grown;
    }
    this.ints[this.n++] = v;
  }

  /** -1 for none. */
  string(s: string | undefined): void {
    if (s === undefined) return this.int(-1);
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.stringIndex.set(s, i);
    }
    this.int(i);
  }

  object(o: unknown): void {
    this.int(this.objects.push(o) - 1);
  }

  shape(): Int32Array<ArrayBuffer> {
    return this.ints.slice(0, this.n);
  }
}

/**
 * `request`, decoded from `bytes` (a buffer of its own, which the wire decoder's keys point
 * into), as a message and the buffers to transfer with it.
 */
export function pack(request: OtlpRequest, bytes: Uint8Array<ArrayBuffer>): { message: PackedRequest; transfer: ArrayBuffer[] } {
  const w = new ShapeWriter();
  let numbers: NumberColumns | undefined;
  w.int(request.resourceMetrics.length);
  for (const rm of request.resourceMetrics) {
    // A resource: 1 and its encoded place and hash, or 0 and its attributes; why it is invalid; its scopes.
    const key = rm.resourceKey;
    if (key !== undefined) {
      w.int(1);
      w.int(key.keyStart);
      w.int(key.keyEnd);
      w.int(key.hash);
    } else {
      w.int(0);
      w.object(rm.resource);
    }
    w.string(rm.invalidUtf8);
    w.int(rm.scopeMetrics.length);
    for (const sm of rm.scopeMetrics) {
      // A scope: 1 and its encoded place, or 0 and the scope; its metrics.
      const { start, end } = sm as EncodedScope;
      if (start !== undefined && end !== undefined) {
        w.int(1);
        w.int(start);
        w.int(end);
      } else {
        w.int(0);
        w.object(sm.scope);
      }
      w.int(sm.metrics.length);
      for (const m of sm.metrics) {
        // A metric: name, description, unit, why it is invalid; its data's kind and fields.
        w.string(m.name);
        w.string(m.description);
        w.string(m.unit);
        w.string(m.invalidUtf8);
        const data = m.data;
        if (data === undefined) w.int(Data.None);
        else if (data.kind === 'gauge' || data.kind === 'sum') {
          numbers ??= data.points.exported();
          w.int(data.kind === 'gauge' ? Data.Gauge : Data.Sum);
          w.int(data.first);
          w.int(data.count);
          if (data.kind === 'sum') {
            w.int(data.temporality);
            w.int(data.monotonic ? 1 : 0);
          }
        } else {
          w.int(Data.Object);
          w.object(data);
        }
      }
    }
  }
  const shape = w.shape();
  const transfer: ArrayBuffer[] = [bytes.buffer, shape.buffer];
  if (numbers !== undefined) transfer.push(numbers.times.buffer, numbers.ints.buffer);
  return { message: { bytes, numbers, shape, strings: w.strings, objects: w.objects }, transfer };
}

/** The request a worker packed, over the bytes and columns it handed back. */
export function unpack(message: PackedRequest): OtlpRequest {
  const buf = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  const numbers = NumberPoints.imported(buf, numberPointAttributes, message.numbers);
  const { shape, strings, objects } = message;
  let at = 0;
  const int = () => shape[at++]!;
  const string = () => {
    const i = int();
    return i < 0 ? undefined : strings[i]!;
  };
  const resourceMetrics: ResourceMetrics[] = new Array<ResourceMetrics>(int());
  for (let r = 0; r < resourceMetrics.length; r++) {
    const wire = int() === 1;
    const keyStart = wire ? int() : 0;
    const keyEnd = wire ? int() : 0;
    const hash = wire ? int() : 0;
    const resource = wire ? undefined : (objects[int()] as Attribute[]);
    const invalidUtf8 = string();
    const scopes: ScopeMetrics[] = new Array<ScopeMetrics>(int());
    for (let s = 0; s < scopes.length; s++) {
      const encoded = int() === 1;
      const start = encoded ? int() : 0;
      const end = encoded ? int() : 0;
      const scope = encoded ? undefined : (objects[int()] as Scope);
      const metrics: Metric[] = new Array<Metric>(int());
      for (let m = 0; m < metrics.length; m++) {
        const metric: Metric = { name: string()!, description: string()!, unit: string()!, data: undefined };
        const invalid = string();
        if (invalid !== undefined) metric.invalidUtf8 = invalid;
        metric.data = unpackData(int(), int, objects, numbers);
        metrics[m] = metric;
      }
      scopes[s] = encoded ? wireScope(buf, start, end, metrics) : { scope: scope!, metrics };
    }
    const rm = wire ? wireResource(numbers, keyStart, keyEnd, hash, scopes) : { resource: resource!, scopeMetrics: scopes };
    if (invalidUtf8 !== undefined) rm.invalidUtf8 = invalidUtf8;
    resourceMetrics[r] = rm;
  }
  return { resourceMetrics };
}

function unpackData(kind: number, int: () => number, objects: unknown[], points: NumberPoints): MetricData | undefined {
  switch (kind as Data) {
    case Data.None:
      return undefined;
    case Data.Gauge:
      return { kind: 'gauge', points, first: int(), count: int() };
    case Data.Sum:
      return { kind: 'sum', points, first: int(), count: int(), temporality: int(), monotonic: int() === 1 };
    case Data.Object:
      return objects[int()] as MetricData;
  }
}
