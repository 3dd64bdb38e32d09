import { crc32 } from 'node:zlib';
import type { Labels } from '../tsdb/labels.js';
import type { Series } from '../tsdb/series.js';
import type { Tsdb } from '../tsdb/db.js';
import { ByteReader, ByteWriter, FormatError } from './bytes.js';
import type { FloatHistogram } from '../tsdb/float-histogram.js';
import { readHistogram, readHistogramSamples, writeHistogram, writeHistogramSamples } from './histogram-format.js';

/**
 * The snapshot file, version 2. It describes series, samples and state in terms of their meaning
 * (label sets, timestamps, values, flags), never in terms of the store's memory layout, so the
 * store can change without the format changing.
 *
 *     header (24 bytes): magic "KOSSNAP1", u32 LE version, u32 LE CRC-32 of the body, f64 LE body length
 *     body: records, each a tag byte then its fields, ending with END:
 *       SETTINGS  varint n, n × (name, value)             first; settings that change what a series means
 *       COVERAGE  f64 written-at ms, varint n, n × (f64 from ms, f64 to ms)
 *       SERIES    varint label pairs, pairs × (name, value), u8 flags, [alias], varint samples,
 *                 timestamps, values, [stale bitmap], [start-time runs], [delta run],
 *                 [native histogram samples (histogram-format.ts)], [histogram delta run]
 *       METADATA  metric name, type, unit, help
 *       END
 *
 * Strings are table references (see ByteWriter.string). Timestamps are delta-of-delta zigzag
 * varints (raw doubles when some is not a whole millisecond), values XOR-compressed doubles,
 * start times runs of (first sample index, start ms).
 *
 * Version 1 is version 2 without native histograms: a build writing it stored none, so its
 * files are read as they are, as written under `--exponential-histograms classic`
 * (SETTINGS_BEFORE_THEY_WERE_WRITTEN).
 */

export const MAGIC = Buffer.from('KOSSNAP1', 'latin1');
export const FORMAT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
export const HEADER_BYTES = 24;

const enum Tag {
  End = 0,
  Settings = 1,
  Coverage = 2,
  Series = 3,
  Metadata = 4,
}

const enum SeriesFlag {
  Alias = 1 << 0,
  Stale = 1 << 1,
  StartTimes = 1 << 2,
  Delta = 1 << 3,
  RawTimestamps = 1 << 4,
  Histograms = 1 << 5,
  HistogramDelta = 1 << 6,
}

/** Timestamps up to this size fit a delta-of-delta zigzag varint with room to spare. */
const MAX_VARINT_TIMESTAMP = 2 ** 50;

/** The running total of one delta series (what src/otlp/translate/delta.ts keeps). */
export interface DeltaRun {
  lastMs: number;
  total: number;
  startMs: number;
}

/** The running total of one series of delta exponential histograms. */
export interface HistogramDeltaRun {
  lastMs: number;
  total: FloatHistogram;
  startMs: number;
}

/** Where delta → cumulative totals live: the OTLP receiver. */
export interface DeltaRuns {
  deltaRun(series: Series): DeltaRun | undefined;
  restoreDeltaRun(series: Series, run: DeltaRun): void;
  histogramDeltaRun(series: Series): HistogramDeltaRun | undefined;
  restoreHistogramDeltaRun(series: Series, run: HistogramDeltaRun): void;
}

/** What a snapshot is taken of, and restored into. */
export interface SnapshotTarget {
  tsdb: Tsdb;
  deltas?: DeltaRuns;
  /** Settings that change what a series means (name translation, promoted attributes); a snapshot from other settings is refused. */
  settings: Readonly<Record<string, string>>;
}

/** Why a snapshot file was not used. */
export type RefusalReason = 'unreadable' | 'truncated' | 'corrupt' | 'version' | 'settings' | 'malformed';

export class SnapshotRefused extends Error {
  override name = 'SnapshotRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export function header(bodyCrc: number, bodyBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(FORMAT_VERSION, 8);
  h.writeUInt32LE(bodyCrc >>> 0, 12);
  h.writeDoubleLE(bodyBytes, 16);
  return h;
}

/** The checked body of a snapshot file, or SnapshotRefused saying what is wrong with it. */
export function checkedBody(file: Buffer): Buffer {
  if (file.length < HEADER_BYTES) throw new SnapshotRefused('truncated', `${file.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (!file.subarray(0, 8).equals(MAGIC)) throw new SnapshotRefused('corrupt', 'not a snapshot file (bad magic bytes)');
  const version = file.readUInt32LE(8);
  if (!READABLE_VERSIONS.includes(version))
    throw new SnapshotRefused('version', `format version ${version}, this build reads ${READABLE_VERSIONS.join(' and ')}`);
  const bodyBytes = file.readDoubleLE(16);
  const body = file.subarray(HEADER_BYTES);
  if (body.length < bodyBytes) throw new SnapshotRefused('truncated', `body has ${body.length} of its ${bodyBytes} bytes`);
  if (body.length !== bodyBytes) throw new SnapshotRefused('corrupt', `body has ${body.length} bytes, the header says ${bodyBytes}`);
  const crc = crc32(body);
  if (crc !== file.readUInt32LE(12)) throw new SnapshotRefused('corrupt', 'checksum mismatch');
  return body;
}

/** Reusable per-series buffers of the encoder and decoder. */
class Scratch {
  ts = new Float64Array(64);
  vs = new Float64Array(64);
  fit(n: number): void {
    if (this.ts.length >= n) return;
    const size = Math.max(n, 2 * this.ts.length);
    this.ts = new Float64Array(size);
    this.vs = new Float64Array(size);
  }
}

/**
 * Writes the body into `w`, pausing (yield) after each series so the caller can hand the event
 * loop back. Each series is written whole within one step, from the store as it is at that
 * step: samples arriving between steps are in the snapshot if their series comes later, and in
 * the next one otherwise. The coverage it records ends at `atMs`, when the write began, which
 * every series written holds in full.
 */
export function* encodeBody(target: SnapshotTarget, w: ByteWriter, atMs: number): Generator<void, void, void> {
  const { tsdb, deltas } = target;
  const settings = Object.entries(target.settings);
  w.u8(Tag.Settings);
  w.varint(settings.length);
  for (const [name, value] of settings) {
    w.string(name);
    w.string(value);
  }
  const spans = [...tsdb.coverage.restored, { fromMs: tsdb.coverage.liveSinceMs, toMs: atMs }];
  w.u8(Tag.Coverage);
  w.f64(atMs);
  w.varint(spans.length);
  for (const s of spans) {
    w.f64(s.fromMs);
    w.f64(Math.min(s.toMs, atMs));
  }
  const scratch = new Scratch();
  for (const series of tsdb.allSeries()) {
    if (!series.live || (series.length === 0 && series.histograms === undefined)) continue;
    encodeSeries(w, series, deltas?.deltaRun(series), deltas?.histogramDeltaRun(series), scratch);
    yield;
  }
  for (const [name, m] of tsdb.metadata()) {
    w.u8(Tag.Metadata);
    w.string(name);
    w.string(m.type);
    w.string(m.unit);
    w.string(m.help);
  }
  w.u8(Tag.End);
}

function encodeSeries(w: ByteWriter, s: Series, delta: DeltaRun | undefined, hDelta: HistogramDeltaRun | undefined, scratch: Scratch): void {
  const n = s.length;
  scratch.fit(n);
  const { ts, vs } = scratch;
  let varintTimes = true;
  let stale = false;
  for (let i = 0; i < n; i++) {
    const t = s.timestampAt(i);
    ts[i] = t;
    vs[i] = s.valueAt(i);
    if (!Number.isInteger(t) || Math.abs(t) > MAX_VARINT_TIMESTAMP) varintTimes = false;
    if (s.isStaleAt(i)) stale = true;
  }
  const labels = s.labels;
  const histograms = s.histograms;
  w.u8(Tag.Series);
  w.varint(labels.length / 2);
  for (let i = 0; i < labels.length; i++) w.string(labels[i]!);
  const flags =
    (s.aliasName !== undefined ? SeriesFlag.Alias : 0) |
    (stale ? SeriesFlag.Stale : 0) |
    (s.hasStartTimes ? SeriesFlag.StartTimes : 0) |
    (delta !== undefined ? SeriesFlag.Delta : 0) |
    (varintTimes ? 0 : SeriesFlag.RawTimestamps) |
    (histograms !== undefined ? SeriesFlag.Histograms : 0) |
    (hDelta !== undefined ? SeriesFlag.HistogramDelta : 0);
  w.u8(flags);
  if (s.aliasName !== undefined) w.string(s.aliasName);
  w.varint(n);
  if (varintTimes) {
    let prev = 0;
    let prevDelta = 0;
    for (let i = 0; i < n; i++) {
      const d = ts[i]! - prev;
      w.zigzag(d - prevDelta);
      prev = ts[i]!;
      prevDelta = i === 0 ? 0 : d;
    }
  } else {
    for (let i = 0; i < n; i++) w.f64(ts[i]!);
  }
  w.xorDoubles(vs, n);
  if (stale) {
    for (let i = 0; i < n; i += 8) {
      let byte = 0;
      for (let b = 0; b < 8 && i + b < n; b++) if (s.isStaleAt(i + b)) byte |= 1 << b;
      w.u8(byte);
    }
  }
  if (s.hasStartTimes) {
    const runs: number[] = [];
    let current = 0;
    for (let i = 0; i < n; i++) {
      const st = s.startTimeAt(i);
      if (st === current) continue;
      runs.push(i, st);
      current = st;
    }
    w.varint(runs.length / 2);
    for (let r = 0; r < runs.length; r += 2) {
      w.varint(runs[r]!);
      w.f64(runs[r + 1]!);
    }
  }
  if (delta !== undefined) {
    w.f64(delta.lastMs);
    w.f64(delta.total);
    w.f64(delta.startMs);
  }
  if (histograms !== undefined) writeHistogramSamples(w, histograms);
  if (hDelta !== undefined) {
    w.f64(hDelta.lastMs);
    w.f64(hDelta.startMs);
    writeHistogram(w, hDelta.total);
  }
}

export interface RestoreResult {
  series: number;
  samples: number;
  /** Samples older than retention, not restored. */
  samplesExpired: number;
  /** Series the series limit refused. */
  seriesRejected: number;
  writtenAtMs: number;
}

/**
 * Restores a checked body into an empty store. Everything is read and checked before the store
 * sees a sample of a record; a malformed record (SnapshotRefused 'malformed') leaves the store
 * cleared, never half-filled. Samples older than `minT` are dropped.
 */
export function restoreBody(body: Buffer, target: SnapshotTarget, minT: number): RestoreResult {
  try {
    return restoreRecords(new ByteReader(body), target, minT);
  } catch (e) {
    target.tsdb.clear();
    if (e instanceof FormatError) throw new SnapshotRefused('malformed', e.message);
    throw e;
  }
}

/**
 * Settings a snapshot began to record after format 1, with the value every build before them ran
 * with: a file that does not name one was written under that value (builds before
 * `--exponential-histograms` converted exponential histograms to classic buckets).
 */
const SETTINGS_BEFORE_THEY_WERE_WRITTEN: Readonly<Record<string, string>> = { exponentialHistograms: 'classic' };

function restoreRecords(r: ByteReader, target: SnapshotTarget, minT: number): RestoreResult {
  const { tsdb } = target;
  const result: RestoreResult = { series: 0, samples: 0, samplesExpired: 0, seriesRejected: 0, writtenAtMs: 0 };
  if (r.u8() !== Tag.Settings) throw new FormatError('the body does not start with the settings record');
  const count = r.varint();
  const written = new Map<string, string>();
  for (let i = 0; i < count; i++) written.set(r.string(), r.string());
  for (const [name, value] of Object.entries(target.settings)) {
    const was = written.get(name) ?? SETTINGS_BEFORE_THEY_WERE_WRITTEN[name];
    if (was !== value) {
      throw new SnapshotRefused('settings', `written with ${name}=${JSON.stringify(was ?? '(unset)')}, running with ${name}=${JSON.stringify(value)}`);
    }
  }
  const spans: { fromMs: number; toMs: number }[] = [];
  const deltaRuns: DeltaRunsRead = { floats: [], histograms: [] };
  const scratch = new Scratch();
  for (;;) {
    const tag = r.u8();
    if (tag === Tag.End) break;
    switch (tag) {
      case Tag.Coverage: {
        result.writtenAtMs = r.f64();
        const n = r.varint();
        for (let i = 0; i < n; i++) spans.push({ fromMs: r.f64(), toMs: r.f64() });
        break;
      }
      case Tag.Series:
        restoreSeries(r, target, minT, scratch, result, deltaRuns);
        break;
      case Tag.Metadata:
        tsdb.setMetadata(r.string(), { type: r.string(), unit: r.string(), help: r.string() });
        break;
      default:
        throw new FormatError(`unknown record tag ${tag}`);
    }
  }
  if (!r.done) throw new FormatError('bytes after the end record');
  // Only a whole snapshot says anything about coverage or running totals.
  for (const span of spans) tsdb.coverage.addRestored(span);
  for (const [series, run] of deltaRuns.floats) target.deltas?.restoreDeltaRun(series, run);
  for (const [series, run] of deltaRuns.histograms) target.deltas?.restoreHistogramDeltaRun(series, run);
  return result;
}

/** Running totals read, given to the receiver once the whole snapshot was read. */
interface DeltaRunsRead {
  floats: [Series, DeltaRun][];
  histograms: [Series, HistogramDeltaRun][];
}

function restoreSeries(r: ByteReader, target: SnapshotTarget, minT: number, scratch: Scratch, result: RestoreResult, deltaRuns: DeltaRunsRead): void {
  const pairs = r.varint();
  const labels: string[] = new Array<string>(2 * pairs);
  for (let i = 0; i < 2 * pairs; i++) labels[i] = r.string();
  checkLabels(labels);
  const flags = r.u8();
  const alias = flags & SeriesFlag.Alias ? r.string() : undefined;
  const n = r.varint();
  scratch.fit(n);
  const { ts, vs } = scratch;
  if (flags & SeriesFlag.RawTimestamps) {
    for (let i = 0; i < n; i++) ts[i] = r.f64();
  } else {
    let prev = 0;
    let prevDelta = 0;
    for (let i = 0; i < n; i++) {
      const d = prevDelta + r.zigzag();
      ts[i] = prev + d;
      prev = ts[i]!;
      prevDelta = i === 0 ? 0 : d;
    }
  }
  for (let i = 1; i < n; i++) if (!(ts[i]! > ts[i - 1]!)) throw new FormatError(`timestamps of ${labels.join(',')} are not ascending`);
  r.xorDoubles(vs, n);
  const stale = flags & SeriesFlag.Stale ? r.bytes(Math.ceil(n / 8)) : undefined;
  let runs: number[] | undefined;
  if (flags & SeriesFlag.StartTimes) {
    runs = [];
    const count = r.varint();
    for (let i = 0; i < count; i++) {
      const at = r.varint();
      if (at >= n || (runs.length > 0 && at <= runs[runs.length - 2]!)) throw new FormatError('start-time runs out of order');
      runs.push(at, r.f64());
    }
  }
  const delta = flags & SeriesFlag.Delta ? { lastMs: r.f64(), total: r.f64(), startMs: r.f64() } : undefined;
  const hist = flags & SeriesFlag.Histograms ? readHistogramSamples(r) : undefined;
  const hDelta = flags & SeriesFlag.HistogramDelta ? { lastMs: r.f64(), startMs: r.f64(), total: readHistogram(r) } : undefined;

  const first = lowerBound(ts, n, minT);
  const hFirst = hist === undefined ? 0 : lowerBound(hist.ts, hist.ts.length, minT);
  const hn = hist?.ts.length ?? 0;
  result.samplesExpired += first + hFirst;
  if (first === n && hFirst === hn) return;
  const { tsdb } = target;
  const series = tsdb.getOrCreate(labels, alias);
  if (series === undefined) {
    result.seriesRejected++;
    return;
  }
  result.series++;
  let run = 0;
  let st = 0;
  let h = hFirst;
  for (let i = 0; i < n; i++) {
    while (runs !== undefined && run < runs.length && runs[run]! <= i) {
      st = runs[run + 1]!;
      run += 2;
    }
    if (i < first) continue;
    // Floats and histograms go in in time order, so neither is refused as out of order behind the other.
    for (; h < hn && hist!.ts[h]! < ts[i]!; h++) tsdb.appendHistogram(series, hist!.ts[h]!, hist!.hs[h]!);
    const isStale = stale !== undefined && (stale[i >>> 3]! & (1 << (i & 7))) !== 0;
    tsdb.append(series, ts[i]!, vs[i]!, isStale, st);
  }
  for (; h < hn; h++) tsdb.appendHistogram(series, hist!.ts[h]!, hist!.hs[h]!);
  result.samples += n - first + hn - hFirst;
  if (delta !== undefined) deltaRuns.floats.push([series, delta]);
  if (hDelta !== undefined) deltaRuns.histograms.push([series, hDelta]);
}

/** Label pairs as the store keeps them: names ascending, no empty value. */
function checkLabels(labels: Labels): void {
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i + 1] === '' || (i > 0 && !(labels[i - 2]! < labels[i]!)))
      throw new FormatError(`label set ${labels.join(',')} is not sorted or has an empty value`);
  }
}

function lowerBound(ts: Float64Array | readonly number[], n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
