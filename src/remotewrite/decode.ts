import type { Buffer } from 'node:buffer';
import type { MetricMetadata } from '../tsdb/db.js';
import { runToEnd, type Sliced } from '../otlp/slices.js';
import { I64, LEN, VARINT, WireReader } from '../common/wire.js';
import { readHistogram, type HistogramSample } from './histogram.js';

/*
 * prometheus.WriteRequest (Remote-Write 1.0) and io.prometheus.write.v2.Request (2.0) read straight
 * from the wire into one shape. Field numbers are those of proto/prometheus/remote.proto and
 * proto/io/prometheus/write/v2/types.proto. What breaks the framing (a length past its message, an
 * unknown wire type) refuses the whole request; what is wrong with one series (a label that is not
 * UTF-8, a symbol reference out of range) is kept with the series, so only its samples are refused.
 */

export type Protocol = 'v1' | 'v2';

export interface DecodedSeries {
  /**
   * Flat `[name, value, ...]` as sent (order and emptiness not yet checked); undefined when
   * unreadable, or (1.0) not read yet: see `rawKey`.
   */
  labels: string[] | undefined;
  /**
   * 1.0: the bytes of the series' label fields, as a latin1 string: what the receiver finds a
   * series it has seen by, without reading the labels (`readLabels` reads them on a miss).
   */
  rawKey: string | undefined;
  labelsStart: number;
  labelsEnd: number;
  /** Why the series cannot be stored, when its labels could not be read. */
  invalid: string | undefined;
  /** Its samples: `count` of them from index `first` of the batch's columns. */
  first: number;
  count: number;
  /** Its native histogram samples: `histograms` of them from index `firstHistogram` of the batch's. */
  firstHistogram: number;
  histograms: number;
  /** The 2.0 release candidates' per-series created timestamp (ms); 0 when none. */
  createdMs: number;
  /** 2.0 metadata sent with the series, when its type is specified. */
  metadata: MetricMetadata | undefined;
}

/** The samples of a request in columns: a double in an object field would be an allocation of its own. */
export class SampleColumns {
  n = 0;
  values: Float64Array;
  times: Float64Array;
  starts: Float64Array;
  stale: Uint8Array;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.starts = new Float64Array(capacity);
    this.stale = new Uint8Array(capacity);
  }

  add(value: number, time: number, start: number, stale: boolean): void {
    if (this.n === this.values.length) this.grow();
    const i = this.n++;
    this.values[i] = value;
    this.times[i] = time;
    this.starts[i] = start;
    this.stale[i] = stale ? 1 : 0;
  }

  private grow(): void {
    const size = Math.max(64, this.values.length * 2);
    const values = new Float64Array(size);
    const times = new Float64Array(size);
    const starts = new Float64Array(size);
    const stale = new Uint8Array(size);
    values.set(this.values);
    times.set(this.times);
    starts.set(this.starts);
    stale.set(this.stale);
    this.values = values;
    this.times = times;
    this.starts = starts;
    this.stale = stale;
  }
}

export interface WriteBatch {
  protocol: Protocol;
  /** The decompressed body, for reading 1.0 labels when they are needed. */
  body: Buffer;
  series: DecodedSeries[];
  samples: SampleColumns;
  /** Native histogram samples, few next to floats, as objects. */
  histograms: HistogramSample[];
  /** 1.0's metadata list, by metric family name. */
  metadata: [string, MetricMetadata][];
  exemplars: number;
}

/** Metadata's MetricType enum (the same numbers in 1.0 and 2.0) as Prometheus's type names. */
const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

const V1_MESSAGE = 'prometheus.WriteRequest';
const V2_MESSAGE = 'io.prometheus.write.v2.Request';

/** Series (or 2.0 top-level fields) decoded between two places where sliced decoding may pause. */
const PER_PAUSE = 64;

/** Decodes a request without pausing (in-process use); throws UserError when it is malformed. */
export function decodeWriteRequest(body: Buffer, protocol: Protocol): WriteBatch {
  return runToEnd(decodeSlices(body, protocol));
}

/** decodeWriteRequest as sliced work, so a large request does not hold the event loop from KEDA's calls. */
export function decodeSlices(body: Buffer, protocol: Protocol): Sliced<WriteBatch> {
  return protocol === 'v1' ? decodeV1(body) : decodeV2(body);
}

function newBatch(protocol: Protocol, body: Buffer): WriteBatch {
  // Sized for a sample every 32 bytes of series (1.0 senders send most series with one sample).
  return { protocol, body, series: [], samples: new SampleColumns(Math.max(64, body.length >> 5)), histograms: [], metadata: [], exemplars: 0 };
}

function newSeries(batch: WriteBatch): DecodedSeries {
  return {
    labels: [],
    rawKey: undefined,
    labelsStart: 0,
    labelsEnd: 0,
    invalid: undefined,
    first: batch.samples.n,
    count: 0,
    firstHistogram: batch.histograms.length,
    histograms: 0,
    createdMs: 0,
    metadata: undefined,
  };
}

function metricType(n: number): string {
  return METRIC_TYPES[n] ?? 'unknown';
}

function* decodeV1(body: Buffer): Sliced<WriteBatch> {
  const r = new WireReader(body, V1_MESSAGE);
  const batch = newBatch('v1', body);
  const end = body.length;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === LEN) {
      batch.series.push(v1Series(r, r.len(end), batch));
      if (batch.series.length % PER_PAUSE === 0) yield;
    } else if (field === 3 && (tag & 7) === LEN) v1Metadata(r, r.len(end), batch);
    else r.skip(tag & 7, end, field);
  }
  return batch;
}

/**
 * A 1.0 TimeSeries. Its labels are only located here when their fields are contiguous (as every
 * sender writes them): most series were seen before, and finding them by their bytes saves
 * reading a dozen strings a sample.
 */
function v1Series(r: WireReader, end: number, batch: WriteBatch): DecodedSeries {
  const series = newSeries(batch);
  let labelsStart = -1;
  let labelsEnd = -1;
  let contiguous = true;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.tag(end);
    const field = tag >>> 3;
    if ((tag & 7) !== LEN) {
      r.skip(tag & 7, end, field);
      continue;
    }
    const stop = r.len(end);
    if (field === 1) {
      if (labelsStart === -1) labelsStart = at;
      else if (labelsEnd !== at) contiguous = false;
      labelsEnd = stop;
    } else if (field === 2) sample(r, stop, batch.samples);
    else if (field === 3) batch.exemplars++;
    else if (field === 4) batch.histograms.push(readHistogram(r, stop));
    r.pos = stop;
  }
  series.count = batch.samples.n - series.first;
  series.histograms = batch.histograms.length - series.firstHistogram;
  if (labelsStart === -1) return series;
  if (contiguous) {
    series.labels = undefined;
    series.rawKey = batch.body.toString('latin1', labelsStart, labelsEnd);
    series.labelsStart = labelsStart;
    series.labelsEnd = labelsEnd;
  } else {
    readV1Labels(r, labelsStart, end, series);
  }
  return series;
}

/** Reads a 1.0 series' label fields from `start` (other fields between them are passed over). */
function readV1Labels(r: WireReader, start: number, end: number, series: DecodedSeries): void {
  series.labels = [];
  r.pos = start;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === LEN) {
      const stop = r.len(end);
      v1Label(r, stop, series);
      r.pos = stop;
    } else r.skip(tag & 7, end, field);
  }
}

/** The labels of a 1.0 series located by v1Series, read now (its cache missed); sets `invalid` when they cannot be. */
export function readLabels(batch: WriteBatch, series: DecodedSeries): string[] | undefined {
  if (series.rawKey === undefined || series.labels !== undefined) return series.labels;
  readV1Labels(new WireReader(batch.body, V1_MESSAGE), series.labelsStart, series.labelsEnd, series);
  return series.labels;
}

function v1Label(r: WireReader, end: number, series: DecodedSeries): void {
  let name: string | undefined = '';
  let value: string | undefined = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === LEN) name = r.string(end);
    else if (field === 2 && (tag & 7) === LEN) value = r.string(end);
    else r.skip(tag & 7, end, field);
  }
  if (series.labels === undefined) return;
  if (name === undefined || value === undefined) {
    series.labels = undefined;
    series.invalid = `a label ${name === undefined ? 'name' : `${name} value`} is not valid UTF-8`;
    return;
  }
  series.labels.push(name, value);
}

/** A Sample of either version: value 1, timestamp 2, and (2.0) start_timestamp 3. */
function sample(r: WireReader, end: number, samples: SampleColumns): void {
  let value = 0;
  let stale = false;
  let time = 0;
  let start = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === I64) {
      const at = r.fixed64(end);
      value = r.double(at);
      stale = r.staleNaN(at);
    } else if (field === 2 && (tag & 7) === VARINT) time = r.int64(end);
    else if (field === 3 && (tag & 7) === VARINT) start = r.int64(end);
    else r.skip(tag & 7, end, field);
  }
  samples.add(value, time, start, stale);
}

function v1Metadata(r: WireReader, end: number, batch: WriteBatch): void {
  let type = 0;
  let family: string | undefined = '';
  let help: string | undefined = '';
  let unit: string | undefined = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === VARINT) type = r.varint(end);
    else if (field === 2 && wire === LEN) family = r.string(end);
    else if (field === 4 && wire === LEN) help = r.string(end);
    else if (field === 5 && wire === LEN) unit = r.string(end);
    else r.skip(wire, end, field);
  }
  // Metadata is advisory: an entry that cannot be read is dropped, its samples are not.
  if (family === undefined || family === '' || help === undefined || unit === undefined) return;
  batch.metadata.push([family, { type: metricType(type), help, unit }]);
}

function* decodeV2(body: Buffer): Sliced<WriteBatch> {
  const r = new WireReader(body, V2_MESSAGE);
  const batch = newBatch('v2', body);
  const end = body.length;
  // Series refer to the symbol table, which the wire may carry after them: read it first.
  const symbols: (string | undefined)[] = [];
  const seriesAt: number[] = [];
  let fields = 0;
  while (r.pos < end) {
    if (++fields % PER_PAUSE === 0) yield;
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 4 && (tag & 7) === LEN) symbols.push(r.string(end));
    else if (field === 5 && (tag & 7) === LEN) {
      const stop = r.len(end);
      seriesAt.push(r.pos, stop);
      r.pos = stop;
    } else r.skip(tag & 7, end, field);
  }
  if (seriesAt.length > 0 && symbols[0] !== '') {
    throw r.error(`the symbol table must start with the empty string, it starts with ${JSON.stringify(symbols[0] ?? null)}`);
  }
  for (let i = 0; i < seriesAt.length; i += 2) {
    r.pos = seriesAt[i]!;
    batch.series.push(v2Series(r, seriesAt[i + 1]!, batch, symbols));
    if (batch.series.length % PER_PAUSE === 0) yield;
  }
  return batch;
}

function v2Series(r: WireReader, end: number, batch: WriteBatch, symbols: readonly (string | undefined)[]): DecodedSeries {
  const series = newSeries(batch);
  const refs: number[] = [];
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === LEN) {
      const stop = r.len(end);
      while (r.pos < stop) refs.push(r.varint(stop));
    } else if (field === 1 && wire === VARINT) refs.push(r.varint(end));
    else if (field === 2 && wire === LEN) {
      const stop = r.len(end);
      sample(r, stop, batch.samples);
      r.pos = stop;
    } else if (field === 3 && wire === LEN) {
      const stop = r.len(end);
      batch.histograms.push(readHistogram(r, stop));
      r.pos = stop;
    } else if (field === 4 && wire === LEN) {
      batch.exemplars++;
      r.pos = r.len(end);
    } else if (field === 5 && wire === LEN) series.metadata = v2Metadata(r, r.len(end), symbols);
    else if (field === 6 && wire === VARINT) series.createdMs = r.int64(end);
    else r.skip(wire, end, field);
  }
  series.count = batch.samples.n - series.first;
  series.histograms = batch.histograms.length - series.firstHistogram;
  resolveLabels(series, refs, symbols);
  return series;
}

function resolveLabels(series: DecodedSeries, refs: readonly number[], symbols: readonly (string | undefined)[]): void {
  if (refs.length % 2 !== 0) {
    series.labels = undefined;
    series.invalid = `labels_refs has ${refs.length} entries, not a whole number of name/value pairs`;
    return;
  }
  const labels = series.labels!;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    if (ref >= symbols.length) {
      series.labels = undefined;
      series.invalid = `labels_refs refers to symbol ${ref}, past the end of the ${symbols.length}-entry symbol table`;
      return;
    }
    const s = symbols[ref];
    if (s === undefined) {
      series.labels = undefined;
      series.invalid = `labels_refs refers to symbol ${ref}, which is not valid UTF-8`;
      return;
    }
    labels.push(s);
  }
}

function v2Metadata(r: WireReader, end: number, symbols: readonly (string | undefined)[]): MetricMetadata | undefined {
  let type = 0;
  let helpRef = 0;
  let unitRef = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === VARINT) type = r.varint(end);
    else if (field === 3 && wire === VARINT) helpRef = r.varint(end);
    else if (field === 4 && wire === VARINT) unitRef = r.varint(end);
    else r.skip(wire, end, field);
  }
  if (type === 0) return undefined;
  const help = symbols[helpRef];
  const unit = symbols[unitRef];
  // Metadata is advisory: references that do not resolve drop it, not the samples.
  if (help === undefined || unit === undefined) return undefined;
  return { type: metricType(type), help, unit };
}
