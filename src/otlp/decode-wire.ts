import { Buffer } from 'node:buffer';
import { MAX_VALUE_DEPTH, renderValue, type RawValue } from './attributes.js';
import { metricFromMessage } from './decode-protobuf.js';
import { DecodeError } from './errors.js';
import {
  Temporality,
  type Attribute,
  type Metric,
  type MetricData,
  type NumberPoint,
  type OtlpRequest,
  type ResourceMetrics,
  type ScopeMetrics,
} from './model.js';
import { MetricMessage } from './proto.js';
import { runToEnd, type Sliced } from './slices.js';

/*
 * ExportMetricsServiceRequest read straight from the protobuf wire format. Gauges and sums (what
 * collectors send most) become points without building a message tree: a point's attributes are
 * checked here but only turned into strings when the translator asks (a series it has not seen),
 * and their raw bytes are the point's `attributesKey`. Histograms, exponential histograms and
 * summaries are rare enough to go through protobufjs, one Metric message at a time.
 * Field numbers are those of opentelemetry/proto/metrics/v1/metrics.proto and common.proto.
 */

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const I32 = 5;

const MS_PER_2_32_NS = 4294967296 / 1e6;

class Cursor {
  pos = 0;
  readonly view: DataView;

  constructor(readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  truncated(what: string): DecodeError {
    return new DecodeError(`invalid protobuf ExportMetricsServiceRequest: ${what} runs past the end of its message at byte ${this.pos}`);
  }

  /** An unsigned varint up to 2^53 (tags, lengths, enums, uint32, bool). */
  varint(end: number): number {
    const buf = this.buf;
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.truncated('a varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * factor;
      if (b < 0x80) return result;
      factor *= 128;
    }
    throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A signed 64-bit varint, exact. */
  varintBig(end: number): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.truncated('a varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Where a length-delimited field that starts here ends. */
  len(end: number): number {
    const n = this.varint(end);
    const stop = this.pos + n;
    if (stop > end) throw this.truncated('a length-delimited field');
    return stop;
  }

  fixed(end: number, bytes: number): number {
    const at = this.pos;
    if (at + bytes > end) throw this.truncated('a fixed-width field');
    this.pos = at + bytes;
    return at;
  }

  double(end: number): number {
    return this.view.getFloat64(this.fixed(end, 8), true);
  }

  /** fixed64 nanoseconds to whole milliseconds, as the protobufjs path computes them. */
  nanosToMs(end: number): number {
    const at = this.fixed(end, 8);
    return Math.floor(this.view.getUint32(at + 4, true) * MS_PER_2_32_NS + this.view.getUint32(at, true) / 1e6);
  }

  sfixed64(end: number): number {
    const at = this.fixed(end, 8);
    return this.view.getInt32(at + 4, true) * 4294967296 + this.view.getUint32(at, true);
  }

  string(end: number): string {
    const stop = this.len(end);
    const s = this.buf.toString('utf8', this.pos, stop);
    this.pos = stop;
    return s;
  }

  skip(wireType: number, end: number, field: number): void {
    switch (wireType) {
      case VARINT:
        this.varint(end);
        return;
      case I64:
        this.fixed(end, 8);
        return;
      case LEN:
        this.pos = this.len(end);
        return;
      case I32:
        this.fixed(end, 4);
        return;
      case START_GROUP:
        for (;;) {
          const tag = this.varint(end);
          if ((tag & 7) === END_GROUP) {
            if (tag >>> 3 !== field) throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: mismatched end of group ${field}`);
            return;
          }
          this.skip(tag & 7, end, tag >>> 3);
        }
      default:
        throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: invalid wire type ${wireType} at byte ${this.pos}`);
    }
  }
}

/** Decodes an ExportMetricsServiceRequest from protobuf bytes; throws DecodeError when malformed. */
export function decodeWireRequest(bytes: Uint8Array): OtlpRequest {
  return runToEnd(decodeWireSlices(bytes));
}

/** decodeWireRequest as sliced work that may pause after each metric. */
export function* decodeWireSlices(bytes: Uint8Array): Sliced<OtlpRequest> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = new Cursor(buf);
  const end = buf.length;
  const resourceMetrics: ResourceMetrics[] = [];
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) resourceMetrics.push(yield* readResourceMetrics(c, c.len(end)));
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return { resourceMetrics };
}

function* readResourceMetrics(c: Cursor, end: number): Sliced<ResourceMetrics> {
  const rm: ResourceMetrics = { resource: [], resourceKey: '', scopeMetrics: [] };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) {
      const stop = c.len(end);
      rm.resourceKey = c.buf.toString('latin1', c.pos, stop);
      rm.resource = readAttributes(c, stop, 1, true)!;
    } else if (tag === ((2 << 3) | LEN)) {
      rm.scopeMetrics.push(yield* readScopeMetrics(c, c.len(end)));
    } else c.skip(tag & 7, end, tag >>> 3);
  }
  return rm;
}

function* readScopeMetrics(c: Cursor, end: number): Sliced<ScopeMetrics> {
  const sm: ScopeMetrics = { scope: { name: '', version: '', attributes: [] }, metrics: [] };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) {
      const stop = c.len(end);
      while (c.pos < stop) {
        const t = c.varint(stop);
        if (t === ((1 << 3) | LEN)) sm.scope.name = c.string(stop);
        else if (t === ((2 << 3) | LEN)) sm.scope.version = c.string(stop);
        else if (t === ((3 << 3) | LEN)) sm.scope.attributes.push(attribute(readKeyValue(c, c.len(stop), 0, true)!));
        else c.skip(t & 7, stop, t >>> 3);
      }
    } else if (tag === ((2 << 3) | LEN)) {
      sm.metrics.push(readMetric(c, c.len(end)));
      yield;
    } else c.skip(tag & 7, end, tag >>> 3);
  }
  return sm;
}

function readMetric(c: Cursor, end: number): Metric {
  const start = c.pos;
  const metric: Metric = { name: '', description: '', unit: '', data: undefined };
  /** The oneof's last field wins, as in any protobuf decoder. */
  let dataField = 0;
  let dataStart = 0;
  let dataEnd = 0;
  while (c.pos < end) {
    const tag = c.varint(end);
    const field = tag >>> 3;
    if ((tag & 7) === LEN && (field === 5 || field === 7 || field === 9 || field === 10 || field === 11)) {
      dataField = field;
      dataEnd = c.len(end);
      dataStart = c.pos;
      c.pos = dataEnd;
    } else if (tag === ((1 << 3) | LEN)) metric.name = c.string(end);
    else if (tag === ((2 << 3) | LEN)) metric.description = c.string(end);
    else if (tag === ((3 << 3) | LEN)) metric.unit = c.string(end);
    else c.skip(tag & 7, end, field);
  }
  if (dataField === 5 || dataField === 7) {
    c.pos = dataStart;
    metric.data = readNumberData(c, dataEnd, dataField === 7);
    c.pos = end;
  } else if (dataField !== 0) {
    let message;
    try {
      message = MetricMessage.decode(c.buf.subarray(start, end));
    } catch (e) {
      throw new DecodeError(`invalid protobuf ExportMetricsServiceRequest: ${(e as Error).message}`);
    }
    return metricFromMessage(message);
  }
  return metric;
}

/** Gauge (field 1: points) or Sum (1: points, 2: temporality, 3: monotonic). */
function readNumberData(c: Cursor, end: number, sum: boolean): MetricData {
  const dataPoints: NumberPoint[] = [];
  let temporality = Temporality.Unspecified;
  let monotonic = false;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) dataPoints.push(readNumberPoint(c, c.len(end)));
    else if (sum && tag === ((2 << 3) | VARINT)) temporality = c.varint(end) | 0;
    else if (sum && tag === ((3 << 3) | VARINT)) monotonic = c.varint(end) !== 0;
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return sum ? { kind: 'sum', dataPoints, temporality, monotonic } : { kind: 'gauge', dataPoints };
}

/**
 * A NumberDataPoint whose attributes stay encoded until read. Fields are always assigned in the
 * same order, so every point shares one object shape.
 */
class WireNumberPoint implements NumberPoint {
  startTimeMs = 0;
  timeMs = 0;
  flags = 0;
  value = 0;
  attributesKey = '';
  private decoded: Attribute[] | undefined = undefined;

  constructor(
    private readonly buf: Buffer,
    private readonly attrStart: number,
    private readonly attrEnd: number,
  ) {}

  get attributes(): Attribute[] {
    if (this.decoded === undefined) {
      const c = new Cursor(this.buf);
      c.pos = this.attrStart;
      this.decoded = readAttributes(c, this.attrEnd, 7, true)!;
    }
    return this.decoded;
  }
}

/** NumberDataPoint: 7 attributes, 2 start, 3 time (fixed64 ns), 4 as_double, 6 as_int, 8 flags. */
function readNumberPoint(c: Cursor, end: number): NumberPoint {
  let attrStart = -1;
  let attrEnd = -1;
  let start = 0;
  let time = 0;
  let value = 0;
  let flags = 0;
  while (c.pos < end) {
    const tag = c.varint(end);
    switch (tag) {
      case (7 << 3) | LEN: {
        if (attrStart === -1) attrStart = c.pos - 1;
        const stop = c.len(end);
        readKeyValue(c, stop, 0, false);
        attrEnd = stop;
        break;
      }
      case (2 << 3) | I64:
        start = c.nanosToMs(end);
        break;
      case (3 << 3) | I64:
        time = c.nanosToMs(end);
        break;
      case (4 << 3) | I64:
        value = c.double(end);
        break;
      case (6 << 3) | I64:
        value = c.sfixed64(end);
        break;
      case (8 << 3) | VARINT:
        flags = c.varint(end) >>> 0;
        break;
      default:
        c.skip(tag & 7, end, tag >>> 3);
    }
  }
  const p = new WireNumberPoint(c.buf, attrStart === -1 ? 0 : attrStart, attrStart === -1 ? 0 : attrEnd);
  p.startTimeMs = start;
  p.timeMs = time;
  p.flags = flags;
  p.value = value;
  p.attributesKey = attrStart === -1 ? '' : c.buf.toString('latin1', attrStart, attrEnd);
  return p;
}

/** The KeyValue fields numbered `field` of the message part [pos, end); with `build` false only checks them. */
function readAttributes(c: Cursor, end: number, field: number, build: boolean): Attribute[] | undefined {
  const out: Attribute[] | undefined = build ? [] : undefined;
  const want = (field << 3) | LEN;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === want) {
      const kv = readKeyValue(c, c.len(end), 0, build);
      if (out) out.push(attribute(kv!));
    } else c.skip(tag & 7, end, tag >>> 3);
  }
  return out;
}

function attribute([key, value]: [string, RawValue]): Attribute {
  return { key, value: renderValue(value) };
}

/** KeyValue: 1 key, 2 value (AnyValue). */
function readKeyValue(c: Cursor, end: number, depth: number, build: boolean): [string, RawValue] | undefined {
  let key = '';
  let value: RawValue = null;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) {
      if (build) key = c.string(end);
      else c.pos = c.len(end);
    } else if (tag === ((2 << 3) | LEN)) value = readAnyValue(c, c.len(end), depth, build);
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return build ? [key, value] : undefined;
}

/** AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 array, 6 key/value list, 7 bytes (the last set wins). */
function readAnyValue(c: Cursor, end: number, depth: number, build: boolean): RawValue {
  if (depth > MAX_VALUE_DEPTH) throw new DecodeError(`attribute value nested deeper than ${MAX_VALUE_DEPTH} levels`);
  let value: RawValue = null;
  while (c.pos < end) {
    const tag = c.varint(end);
    switch (tag) {
      case (1 << 3) | LEN:
        if (build) value = c.string(end);
        else c.pos = c.len(end);
        break;
      case (2 << 3) | VARINT:
        value = c.varint(end) !== 0;
        break;
      case (3 << 3) | VARINT:
        if (build) value = c.varintBig(end);
        else c.varint(end);
        break;
      case (4 << 3) | I64:
        value = c.double(end);
        break;
      case (5 << 3) | LEN: {
        const stop = c.len(end);
        const items: RawValue[] = [];
        while (c.pos < stop) {
          const t = c.varint(stop);
          if (t === ((1 << 3) | LEN)) items.push(readAnyValue(c, c.len(stop), depth + 1, build));
          else c.skip(t & 7, stop, t >>> 3);
        }
        value = items;
        break;
      }
      case (6 << 3) | LEN: {
        const stop = c.len(end);
        const entries = new Map<string, RawValue>();
        while (c.pos < stop) {
          const t = c.varint(stop);
          if (t === ((1 << 3) | LEN)) {
            const kv = readKeyValue(c, c.len(stop), depth + 1, build);
            if (kv) entries.set(kv[0], kv[1]);
          } else c.skip(t & 7, stop, t >>> 3);
        }
        value = entries;
        break;
      }
      case (7 << 3) | LEN: {
        const stop = c.len(end);
        value = build ? new Uint8Array(c.buf.subarray(c.pos, stop)) : null;
        c.pos = stop;
        break;
      }
      default:
        c.skip(tag & 7, end, tag >>> 3);
    }
  }
  return value;
}
