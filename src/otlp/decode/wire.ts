import { nanosToMs, putNanosAsMs } from './nanos.js';
import { F, I, NumberPoints } from './number-points.js';
import { Buffer, isUtf8 } from 'node:buffer';
import { MAX_VALUE_DEPTH, renderValue, type RawValue } from './attributes.js';
import { EncodedKeyMap, hashBytes, KeyArena, type EncodedBytes, type EncodedKey } from './encoded-key.js';
import { DecodeError, InvalidUtf8Error } from '../errors.js';
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
  type QuantileValue,
  type ResourceMetrics,
  type Scope,
  type ScopeMetrics,
  type SummaryPoint,
} from './model.js';
import { runToEnd, type Sliced } from '../slices.js';
import { I64, LEN, MAX_VARINT_BYTES, VARINT, WireReader } from '../../common/wire.js';

/*
 * ExportMetricsServiceRequest read straight from the protobuf wire format. Gauges and sums (what
 * collectors send most) become points without building a message tree: a point's attributes are
 * checked here but only turned into strings when the translator asks (a series it has not seen),
 * and their raw bytes are the point's `attributesKey`. Histograms, exponential histograms and
 * summaries are rare: their points are plain objects, attributes built at once. The tests hold
 * every kind to protobufjs's reading of the same bytes.
 * Strings are checked to be UTF-8 where they are turned into strings: attributes when built
 * (a series not seen before; a known series' bytes were checked when it was first seen), metric
 * fields when first cached. A bad attribute rejects its point, a bad metric field its metric.
 * Field numbers are those of opentelemetry/proto/metrics/v1/metrics.proto and common.proto.
 */

/** Points decoded between two places where sliced decoding may pause. */
const POINTS_PER_PAUSE = 64;

/** Bound on the cache of metric names, units and descriptions, so random names cannot grow it forever. */
const STRING_CACHE_LIMIT = 10_000;
let strings = new EncodedKeyMap<string>(new KeyArena());

/**
 * The cursor is also the key of the field it last bounded (see cachedString), so looking a
 * string up by its bytes allocates nothing.
 */
class Cursor extends WireReader implements EncodedBytes, EncodedKey {
  hash = 0;
  keyStart = 0;
  keyEnd = 0;
  /** Points since sliced decoding last paused. */
  pointsSincePause = 0;
  /** The request's gauge and sum points, made with its first such metric. */
  points: NumberPoints | undefined = undefined;
  /** Set by cachedString when the field it read is not UTF-8. */
  badUtf8 = false;

  constructor(buf: Buffer) {
    super(buf, 'ExportMetricsServiceRequest');
  }

  protected override newError(message: string): DecodeError {
    return new DecodeError(message);
  }

  /** The fixed64 nanoseconds at `at` as whole milliseconds, the unit of the model. */
  nanosToMs(at: number): number {
    return nanosToMs(this.view.getUint32(at + 4, true), this.view.getUint32(at, true));
  }

  /** A signed 64-bit varint, exact. */
  varintBig(end: number): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.varintByte(end);
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw this.varintTooLong();
  }

  /** A string field; throws InvalidUtf8Error, naming it as `what`, when its bytes are not UTF-8. */
  checkedString(end: number, what: string): string {
    const s = this.string(end);
    if (s === undefined) throw new InvalidUtf8Error(`${what} is not valid UTF-8`);
    return s;
  }

  /**
   * A string field that repeats from request to request (a metric's name, unit, description):
   * found by its bytes rather than decoded each time.
   */
  cachedString(end: number): string {
    this.keyEnd = this.len(end);
    this.keyStart = this.pos;
    this.hash = hashBytes(this.buf, this.keyStart, this.keyEnd);
    this.pos = this.keyEnd;
    let s = strings.get(this);
    if (s === undefined) {
      s = this.buf.toString('utf8', this.keyStart, this.keyEnd);
      if (!isUtf8(this.buf.subarray(this.keyStart, this.keyEnd))) {
        this.badUtf8 = true;
        return s;
      }
      if (strings.size >= STRING_CACHE_LIMIT) strings = new EncodedKeyMap<string>(new KeyArena());
      strings.set(this, s);
    }
    return s;
  }

  get keyBytes(): EncodedBytes {
    return this;
  }
}

/** Decodes an ExportMetricsServiceRequest from protobuf bytes; throws DecodeError when malformed. */
export function decodeWireRequest(bytes: Uint8Array): OtlpRequest {
  return runToEnd(decodeWireSlices(bytes));
}

/**
 * decodeWireRequest as sliced work that may pause every few dozen points. One generator walks
 * the request, its resources and their scopes: a generator a level would cost two more objects
 * a resource, and collectors send many small resources.
 */
export function* decodeWireSlices(bytes: Uint8Array): Sliced<OtlpRequest> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = new Cursor(buf);
  const end = buf.length;
  const resourceMetrics: ResourceMetrics[] = [];
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag !== ((1 << 3) | LEN)) {
      c.skip(tag & 7, end, tag >>> 3);
      continue;
    }
    const rmEnd = c.len(end);
    const rm = new WireResourceMetrics(c);
    resourceMetrics.push(rm);
    while (c.pos < rmEnd) {
      const t = c.varint(rmEnd);
      if (t === ((1 << 3) | LEN)) {
        const stop = c.len(rmEnd);
        rm.keyStart = c.pos;
        rm.keyEnd = stop;
        rm.hash = hashBytes(buf, c.pos, stop);
        readAttributes(c, stop, 1, false);
      } else if (t === ((2 << 3) | LEN)) {
        const smEnd = c.len(rmEnd);
        const sm = new WireScopeMetrics(buf);
        rm.scopeMetrics.push(sm);
        while (c.pos < smEnd) {
          const u = c.varint(smEnd);
          if (u === ((1 << 3) | LEN)) {
            const stop = c.len(smEnd);
            sm.start = c.pos;
            sm.end = stop;
            readScope(c, stop, undefined);
          } else if (u === ((2 << 3) | LEN)) {
            const metric = readMetric(c, c.len(smEnd));
            sm.metrics.push(metric);
            const data = metric.data;
            if (data !== undefined && data.kind !== 'gauge' && data.kind !== 'sum') c.pointsSincePause += data.dataPoints.length;
            if (c.pointsSincePause >= POINTS_PER_PAUSE) {
              c.pointsSincePause = 0;
              yield;
            }
          } else c.skip(u & 7, smEnd, u >>> 3);
        }
      } else c.skip(t & 7, rmEnd, t >>> 3);
    }
  }
  return { resourceMetrics };
}

/** A request's bytes with a view to read them. */
type WireBytes = EncodedBytes & { readonly buf: Buffer };

/** A resource's attributes are checked while decoding but built only if read: the translator needs them for a resource it has not seen. */
class WireResourceMetrics implements ResourceMetrics, EncodedKey {
  scopeMetrics: ScopeMetrics[] = [];
  /** Where the resource's encoded bytes are in the request: equal bytes, equal resource. */
  keyStart = 0;
  keyEnd = 0;
  hash = 0;
  private decoded: Attribute[] | undefined = undefined;

  constructor(readonly keyBytes: WireBytes) {}

  get resource(): Attribute[] {
    this.decoded ??= attributesAt(this.keyBytes.buf, this.keyStart, this.keyEnd, 1);
    return this.decoded;
  }

  get resourceKey(): EncodedKey {
    return this;
  }
}

/**
 * A resource whose encoded attributes lie in `bytes` from `start` to `end` with hash `hash`, as
 * the decoder left it (a worker's decoded request rebuilt over the bytes it handed back).
 */
export function wireResource(bytes: WireBytes, start: number, end: number, hash: number, scopeMetrics: ScopeMetrics[]): ResourceMetrics {
  const rm = new WireResourceMetrics(bytes);
  rm.keyStart = start;
  rm.keyEnd = end;
  rm.hash = hash;
  rm.scopeMetrics = scopeMetrics;
  return rm;
}

/** A scope encoded in `buf` from `start` to `end`, with its metrics, as the decoder left it. */
export function wireScope(buf: Buffer, start: number, end: number, metrics: Metric[]): ScopeMetrics {
  const sm = new WireScopeMetrics(buf);
  sm.start = start;
  sm.end = end;
  sm.metrics = metrics;
  return sm;
}

/** The scope is checked while decoding but built only if read: translation does not use it. */
class WireScopeMetrics implements ScopeMetrics {
  metrics: Metric[] = [];
  start = 0;
  end = 0;
  private decoded: Scope | undefined = undefined;

  constructor(private readonly buf: Buffer) {}

  get scope(): Scope {
    if (this.decoded === undefined) {
      const c = new Cursor(this.buf);
      c.pos = this.start;
      this.decoded = { name: '', version: '', attributes: [] };
      readScope(c, this.end, this.decoded);
    }
    return this.decoded;
  }
}

/** InstrumentationScope: 1 name, 2 version, 3 attributes; read into `into`, or only checked. */
function readScope(c: Cursor, end: number, into: Scope | undefined): void {
  while (c.pos < end) {
    const t = c.varint(end);
    if (into !== undefined && t === ((1 << 3) | LEN)) into.name = c.checkedString(end, 'scope name');
    else if (into !== undefined && t === ((2 << 3) | LEN)) into.version = c.checkedString(end, 'scope version');
    else if (t === ((3 << 3) | LEN)) {
      const kv = readKeyValue(c, c.len(end), 0, into !== undefined);
      if (into !== undefined) into.attributes.push(attribute(kv!));
    } else c.skip(t & 7, end, t >>> 3);
  }
}

function readMetric(c: Cursor, end: number): Metric {
  const metric: Metric = { name: '', description: '', unit: '', data: undefined };
  /** The oneof's last field wins, as in any protobuf decoder. */
  let dataField = 0;
  let dataStart = 0;
  let dataEnd = 0;
  c.badUtf8 = false;
  while (c.pos < end) {
    const tag = c.varint(end);
    const field = tag >>> 3;
    if ((tag & 7) === LEN && (field === 5 || field === 7 || field === 9 || field === 10 || field === 11)) {
      dataField = field;
      dataEnd = c.len(end);
      dataStart = c.pos;
      c.pos = dataEnd;
    } else if (tag === ((1 << 3) | LEN)) metric.name = c.cachedString(end);
    else if (tag === ((2 << 3) | LEN)) metric.description = c.cachedString(end);
    else if (tag === ((3 << 3) | LEN)) metric.unit = c.cachedString(end);
    else c.skip(tag & 7, end, field);
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cachedString() above sets it; TypeScript does not see a call change a field
  if (c.badUtf8) metric.invalidUtf8 = `metric ${JSON.stringify(metric.name)}: its name, description or unit is not valid UTF-8`;
  if (dataField !== 0) {
    c.pos = dataStart;
    metric.data = readMetricData(c, dataEnd, dataField);
    c.pos = end;
  }
  return metric;
}

/** The metric's data by its field: gauge 5, sum 7, histogram 9, exponential histogram 10, summary 11. */
function readMetricData(c: Cursor, end: number, field: number): MetricData {
  switch (field) {
    case 5:
    case 7:
      return readNumberData(c, end, field === 7);
    case 9: {
      const { dataPoints, temporality } = readPoints(c, end, readHistogramPoint);
      return { kind: 'histogram', dataPoints, temporality };
    }
    case 10: {
      const { dataPoints, temporality } = readPoints(c, end, readExponentialPoint);
      return { kind: 'exponentialHistogram', dataPoints, temporality };
    }
    default:
      return { kind: 'summary', dataPoints: readPoints(c, end, readSummaryPoint).dataPoints };
  }
}

/**
 * Histogram, ExponentialHistogram or Summary: 1 points, 2 temporality (Summary has none). These
 * kinds are rare next to gauges and sums, so their points are plain objects with their
 * attributes built at once.
 */
function readPoints<P extends PointBase>(c: Cursor, end: number, readPoint: (c: Cursor, end: number) => P): { dataPoints: P[]; temporality: Temporality } {
  const dataPoints: P[] = [];
  let temporality = Temporality.Unspecified;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) dataPoints.push(readPoint(c, c.len(end)));
    else if (tag === ((2 << 3) | VARINT)) temporality = c.varint(end) | 0;
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return { dataPoints, temporality };
}

/**
 * Reads a field every point kind has (2 start and 3 time in fixed64 ns, attributes and flags at
 * the kind's numbers); false when `tag` is another field. An attribute that is not UTF-8 marks
 * the point rather than the request.
 */
function readPointField(c: Cursor, end: number, tag: number, p: PointBase, attributesField: number, flagsField: number): boolean {
  if (tag === ((attributesField << 3) | LEN)) {
    const stop = c.len(end);
    try {
      p.attributes.push(attribute(readKeyValue(c, stop, 0, true)!));
    } catch (e) {
      if (!(e instanceof InvalidUtf8Error)) throw e;
      p.invalidUtf8 ??= e.message;
    }
    c.pos = stop;
  } else if (tag === ((2 << 3) | I64)) p.startTimeMs = c.nanosToMs(c.fixed64(end));
  else if (tag === ((3 << 3) | I64)) p.timeMs = c.nanosToMs(c.fixed64(end));
  else if (tag === ((flagsField << 3) | VARINT)) p.flags = c.varint(end) >>> 0;
  else return false;
  return true;
}

/** HistogramDataPoint: 9 attributes, 4 count, 5 sum, 6 bucket counts, 7 explicit bounds, 10 flags. */
function readHistogramPoint(c: Cursor, end: number): HistogramPoint {
  const p: HistogramPoint = { attributes: [], startTimeMs: 0, timeMs: 0, flags: 0, count: 0, sum: undefined, bucketCounts: [], explicitBounds: [] };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (readPointField(c, end, tag, p, 9, 10)) continue;
    const field = tag >>> 3;
    if (tag === ((4 << 3) | I64)) p.count = c.uint64(c.fixed64(end));
    else if (tag === ((5 << 3) | I64)) p.sum = c.double(c.fixed64(end));
    else if (field === 6) readRepeated(c, end, tag, I64, (stop) => p.bucketCounts.push(c.uint64(c.fixed64(stop))));
    else if (field === 7) readRepeated(c, end, tag, I64, (stop) => p.explicitBounds.push(c.double(c.fixed64(stop))));
    else c.skip(tag & 7, end, field);
  }
  return p;
}

/** ExponentialHistogramDataPoint: 1 attributes, 4 count, 5 sum, 6 scale, 7 zero count, 8/9 buckets, 10 flags, 14 zero threshold. */
function readExponentialPoint(c: Cursor, end: number): ExponentialHistogramPoint {
  const p: ExponentialHistogramPoint = {
    attributes: [],
    startTimeMs: 0,
    timeMs: 0,
    flags: 0,
    count: 0,
    sum: undefined,
    scale: 0,
    zeroCount: 0,
    zeroThreshold: 0,
    positive: { offset: 0, bucketCounts: [] },
    negative: { offset: 0, bucketCounts: [] },
  };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (readPointField(c, end, tag, p, 1, 10)) continue;
    if (tag === ((4 << 3) | I64)) p.count = c.uint64(c.fixed64(end));
    else if (tag === ((5 << 3) | I64)) p.sum = c.double(c.fixed64(end));
    else if (tag === ((6 << 3) | VARINT)) p.scale = c.sint(end);
    else if (tag === ((7 << 3) | I64)) p.zeroCount = c.uint64(c.fixed64(end));
    else if (tag === ((8 << 3) | LEN)) p.positive = readBuckets(c, c.len(end));
    else if (tag === ((9 << 3) | LEN)) p.negative = readBuckets(c, c.len(end));
    else if (tag === ((14 << 3) | I64)) p.zeroThreshold = c.double(c.fixed64(end));
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return p;
}

/** Buckets: 1 offset (sint32), 2 counts (uint64). */
function readBuckets(c: Cursor, end: number): ExponentialBuckets {
  const buckets: ExponentialBuckets = { offset: 0, bucketCounts: [] };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | VARINT)) buckets.offset = c.sint(end);
    else if (tag >>> 3 === 2) readRepeated(c, end, tag, VARINT, (stop) => buckets.bucketCounts.push(c.varint(stop)));
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return buckets;
}

/** SummaryDataPoint: 7 attributes, 4 count, 5 sum, 6 quantile values, 8 flags. */
function readSummaryPoint(c: Cursor, end: number): SummaryPoint {
  const p: SummaryPoint = { attributes: [], startTimeMs: 0, timeMs: 0, flags: 0, count: 0, sum: 0, quantileValues: [] };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (readPointField(c, end, tag, p, 7, 8)) continue;
    if (tag === ((4 << 3) | I64)) p.count = c.uint64(c.fixed64(end));
    else if (tag === ((5 << 3) | I64)) p.sum = c.double(c.fixed64(end));
    else if (tag === ((6 << 3) | LEN)) p.quantileValues.push(readQuantile(c, c.len(end)));
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return p;
}

/** ValueAtQuantile: 1 quantile, 2 value. */
function readQuantile(c: Cursor, end: number): QuantileValue {
  const q: QuantileValue = { quantile: 0, value: 0 };
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | I64)) q.quantile = c.double(c.fixed64(end));
    else if (tag === ((2 << 3) | I64)) q.value = c.double(c.fixed64(end));
    else c.skip(tag & 7, end, tag >>> 3);
  }
  return q;
}

/**
 * A repeated scalar field, packed (one length-delimited run) or not (one value a tag), as a
 * decoder must accept both: `readOne` reads one value of wire type `wireType`, bounded by its end.
 */
function readRepeated(c: Cursor, end: number, tag: number, wireType: number, readOne: (end: number) => void): void {
  if ((tag & 7) === wireType) return readOne(end);
  if ((tag & 7) !== LEN) return c.skip(tag & 7, end, tag >>> 3);
  const stop = c.len(end);
  while (c.pos < stop) readOne(stop);
}

/** Gauge (field 1: points) or Sum (1: points, 2: temporality, 3: monotonic); the points go to the request's columns. */
function readNumberData(c: Cursor, end: number, sum: boolean): MetricData {
  // Sized for a point every 128 bytes of the request (collector points take 60–150): one growth at most, usually.
  const points = (c.points ??= new NumberPoints(c.buf, c.buf.length >> 7, numberPointAttributes));
  const first = points.length;
  let temporality = Temporality.Unspecified;
  let monotonic = false;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === ((1 << 3) | LEN)) readNumberPoint(c, c.len(end), points);
    else if (sum && tag === ((2 << 3) | VARINT)) temporality = c.varint(end) | 0;
    else if (sum && tag === ((3 << 3) | VARINT)) monotonic = c.varint(end) !== 0;
    else c.skip(tag & 7, end, tag >>> 3);
  }
  const count = points.length - first;
  return sum ? { kind: 'sum', points, first, count, temporality, monotonic } : { kind: 'gauge', points, first, count };
}

/**
 * NumberDataPoint: 7 attributes, 2 start, 3 time (fixed64 ns), 4 as_double, 6 as_int, 8 flags.
 * Its attributes are checked but stay encoded; their bytes are its key.
 */
function readNumberPoint(c: Cursor, end: number, points: NumberPoints): void {
  const i = points.next();
  const times = points.times;
  const f = F * i;
  let attrStart = -1;
  let attrEnd = -1;
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
      // fixed64 ns to whole ms, as every decoder computes them (nanos.ts).
      case (2 << 3) | I64:
        putNanosAsMs(c.view, c.fixed64(end), times, f);
        break;
      case (3 << 3) | I64:
        putNanosAsMs(c.view, c.fixed64(end), times, f + 1);
        break;
      case (4 << 3) | I64:
        times[f + 2] = c.double(c.fixed64(end));
        break;
      case (6 << 3) | I64:
        times[f + 2] = c.sfixed64(c.fixed64(end));
        break;
      case (8 << 3) | VARINT:
        flags = c.varint(end) | 0;
        break;
      default:
        c.skip(tag & 7, end, tag >>> 3);
    }
  }
  if (attrStart === -1) attrStart = attrEnd = 0;
  c.pointsSincePause++;
  const ints = points.ints;
  const n = I * i;
  ints[n] = flags;
  ints[n + 1] = attrStart;
  ints[n + 2] = attrEnd;
  ints[n + 3] = hashBytes(c.buf, attrStart, attrEnd);
}

/** A number point's attributes (field 7) from its encoded bytes. */
export function numberPointAttributes(buf: Buffer, start: number, end: number): Attribute[] {
  return attributesAt(buf, start, end, 7);
}

/** The attributes (KeyValue fields numbered `field`) of `buf` from `start` to `end`, built when a reader first asks. */
function attributesAt(buf: Buffer, start: number, end: number, field: number): Attribute[] {
  const c = new Cursor(buf);
  c.pos = start;
  return readAttributes(c, end, field, true)!;
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
      if (build) key = c.checkedString(end, 'an attribute key');
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
        if (build) value = c.checkedString(end, 'an attribute value');
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
        value = c.double(c.fixed64(end));
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
