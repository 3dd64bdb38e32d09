import type { ChunkPool } from './chunk-pool.js';
import { FREED_SLOT, type SeriesColumns } from './series-columns.js';
import { labelsEqual, labelsGet, METRIC_NAME, type Labels } from './labels.js';
import type { Posting, Postings } from './postings.js';
import type { FloatHistogram } from './float-histogram.js';
import { HistogramLane } from './histogram-lane.js';
import type { HistogramSamples } from './histogram-samples.js';
import { StartTimes } from './start-times.js';
import {
  appendSample,
  appendSamples,
  chunkBytes,
  chunkCount,
  chunkLastValue,
  chunkMaxT,
  chunkMinT,
  chunkPrev,
  decodeChunk,
  freeChunk,
  MAX_SAMPLES,
  setChunkPrev,
} from './xor-chunk.js';

/** What happened to one appended sample. */
export const enum AppendStatus {
  Ok,
  /** A sample with the same timestamp was there; the new value replaced it. */
  Duplicate,
  /** Older than the series' newest sample by more than the out-of-order window; dropped. */
  OutOfOrder,
  /** Older than retention; dropped. */
  TooOld,
}

// One series' samples decoded whole, for reads by index: a query step, a snapshot and the scaler
// read one series at a time, so one decoded series shared by all serves them at the cost of one
// decode each, and no series holds decoded samples of its own.
let cached: Series | undefined;
let cacheTs = new Float64Array(64);
let cacheVs = new Float64Array(64);
let cacheStale = new Uint8Array(64);
/** The series of the last window read: a second window of the same series decodes it whole. */
let lastWindowed: Series | undefined;
/** Chunk addresses of one read, newest first. */
let chain = new Float64Array(16);
/** Samples of one chunk, for trimming. */
const chunkTs = new Float64Array(MAX_SAMPLES);
const chunkVs = new Float64Array(MAX_SAMPLES);

/**
 * One series' samples in time order, compressed in chunks (see xor-chunk.ts) held in the
 * database's shared pool, up to `maxCapacity` samples, past which the oldest goes. The newest
 * sample, which appends and instant queries at "now" read, comes from the open chunk's header
 * without decoding. Staleness markers are a sorted list of their timestamps: they are rare, and
 * V8 does not promise to keep a NaN's payload bits, so Prometheus's StaleNaN value could not be
 * told from an ordinary NaN.
 */
export class Series {
  /** The series' place in the database's columns, FREED_SLOT once the database has freed it. */
  private slot: number;
  /**
   * The label set as the numbers of its pairs in the postings, one UTF-16 unit each below 2^15
   * and two above: a string of a few bytes a pair, where an array of the strings cost 8 bytes a
   * string and 48 of its own. Once read twice, the label set itself, until the next retention
   * pass (compact()): queries read the labels of the series they select several times each, and
   * sort them by keys cached by label set. A freed series keeps its labels themselves,
   * as the numbers may then name other pairs.
   */
  private pairs: string | Labels;

  constructor(
    labels: Labels,
    readonly aliasName: string | undefined,
    private readonly cols: SeriesColumns<Series>,
  ) {
    this.slot = cols.alloc(this);
    this.pairs = encodePairs(labels, cols.postings);
  }

  /**
   * The label set, built from the pair numbers; kept from the second read after a retention pass
   * on, so that a query's reads share it and a snapshot's single read leaves nothing behind.
   */
  get labels(): Labels {
    const pairs = this.pairs;
    if (typeof pairs !== 'string') return pairs;
    const postings = this.cols.postings;
    let n = pairs.length;
    for (let i = 0; i < pairs.length; i++) if (pairs.charCodeAt(i) >= 0x8000) n--;
    const out = new Array<string>(2 * n);
    for (let i = 0, k = 0; i < pairs.length; i++, k += 2) {
      let id = pairs.charCodeAt(i);
      if (id >= 0x8000) id = ((id & 0x7fff) << 15) | pairs.charCodeAt(++i);
      const p = postings.pair(id);
      out[k] = p.name;
      out[k + 1] = p.value;
    }
    const reads = this.cols.reads;
    if (reads[this.slot] === 0) reads[this.slot] = 1;
    else if (this.slot !== FREED_SLOT) this.pairs = out;
    return out;
  }

  /** Goes back to the pair numbers if the label set was kept; the database's retention pass calls it. */
  compact(): void {
    const pairs = this.pairs;
    if (this.slot === FREED_SLOT) return;
    this.cols.reads[this.slot] = 0;
    if (typeof pairs !== 'string') this.pairs = encodePairs(pairs, this.cols.postings);
  }

  /** The value of one label, '' when absent, without building the label set. */
  labelValue(name: string): string {
    const pairs = this.pairs;
    if (typeof pairs !== 'string') return labelsGet(pairs, name);
    const postings = this.cols.postings;
    for (let i = 0; i < pairs.length; i++) {
      let id = pairs.charCodeAt(i);
      if (id >= 0x8000) id = ((id & 0x7fff) << 15) | pairs.charCodeAt(++i);
      const p = postings.pair(id);
      if (p.name === name) return p.value;
    }
    return '';
  }

  /** True when the series' label set is `labels`, without building it. */
  hasLabels(labels: Labels): boolean {
    const pairs = this.pairs;
    if (typeof pairs !== 'string') return labelsEqual(pairs, labels);
    const postings = this.cols.postings;
    let k = 0;
    for (let i = 0; i < pairs.length; i++, k += 2) {
      let id = pairs.charCodeAt(i);
      if (id >= 0x8000) id = ((id & 0x7fff) << 15) | pairs.charCodeAt(++i);
      const p = postings.pair(id);
      if (k + 1 >= labels.length || p.name !== labels[k] || p.value !== labels[k + 1]) return false;
    }
    return k === labels.length;
  }

  /** The postings of the series' label pairs, in label order. */
  postingsOf(): Posting<Series>[] {
    const pairs = this.pairs;
    const postings = this.cols.postings;
    const out: Posting<Series>[] = [];
    if (typeof pairs !== 'string') {
      for (let i = 0; i < pairs.length; i += 2) out.push(postings.get(pairs[i]!, pairs[i + 1]!)!);
      return out;
    }
    for (let i = 0; i < pairs.length; i++) {
      let id = pairs.charCodeAt(i);
      if (id >= 0x8000) id = ((id & 0x7fff) << 15) | pairs.charCodeAt(++i);
      out.push(postings.pair(id));
    }
    return out;
  }

  /** A number no other live series of the database has. */
  get id(): number {
    return this.slot;
  }

  /** False once the database has freed the series; holders of a cached reference must look it up again. */
  get live(): boolean {
    return this.slot !== FREED_SLOT;
  }

  /** The series' metric name, read from its pairs without building the label set. */
  get metricName(): string {
    return this.labelValue(METRIC_NAME);
  }

  private get pool(): ChunkPool {
    return this.cols.pool;
  }

  private get maxCapacity(): number {
    return this.cols.maxCapacity;
  }

  private get open(): number {
    return this.cols.open[this.slot]!;
  }

  private set open(addr: number) {
    this.cols.open[this.slot] = addr;
  }

  private get len(): number {
    return this.cols.len[this.slot]!;
  }

  private set len(n: number) {
    this.cols.len[this.slot] = n;
  }

  private get skip(): number {
    return this.cols.skip[this.slot]!;
  }

  private set skip(n: number) {
    this.cols.skip[this.slot] = n;
  }

  private get staleTimes(): number[] | undefined {
    const stale = this.cols.stale;
    return stale.size === 0 ? undefined : stale.get(this.slot);
  }

  private set staleTimes(list: number[] | undefined) {
    if (list === undefined) this.cols.stale.delete(this.slot);
    else this.cols.stale.set(this.slot, list);
  }

  /**
   * Only series that ever received a start time have one. A number: every sample has that start
   * time, the steady state of a counter, which costs no record of runs.
   */
  private get starts(): StartTimes | number | undefined {
    const runs = this.cols.runs;
    const found = runs.size === 0 ? undefined : runs.get(this.slot);
    if (found !== undefined) return found;
    const st = this.cols.start[this.slot]!;
    return st === 0 ? undefined : st;
  }

  private set starts(starts: StartTimes | number | undefined) {
    if (starts instanceof StartTimes) {
      this.cols.runs.set(this.slot, starts);
      this.cols.start[this.slot] = 0;
    } else {
      this.cols.runs.delete(this.slot);
      this.cols.start[this.slot] = starts ?? 0;
    }
  }

  /** Frees the series' chunks and its slot: the database calls it when it forgets the series. */
  free(): void {
    if (this.slot === FREED_SLOT) return;
    this.pairs = this.labels;
    this.release();
    this.lane?.free();
    this.cols.free(this.slot);
    this.slot = FREED_SLOT;
  }

  get length(): number {
    return this.len;
  }

  /** The series' native histogram samples, if it has any. */
  get histograms(): HistogramSamples | undefined {
    return this.lane?.view();
  }

  private get lane(): HistogramLane | undefined {
    const h = this.cols.histograms;
    return h.size === 0 ? undefined : h.get(this.slot);
  }

  /** Stores a native histogram sample. A histogram and a float at one time are both kept; a query reads the float. */
  appendHistogram(t: number, h: FloatHistogram, outOfOrderWindowMs: number): AppendStatus {
    let lane = this.lane;
    const newest = Math.max(this.len > 0 ? this.maxTime : -Infinity, lane?.lastT ?? -Infinity);
    if (newest - t > outOfOrderWindowMs) return AppendStatus.OutOfOrder;
    if (lane === undefined) {
      lane = new HistogramLane(this.pool);
      this.cols.histograms.set(this.slot, lane);
    }
    return lane.put(t, withHint(h, t, lane, this.len > 0 ? this.maxTime : -Infinity)) ? AppendStatus.Duplicate : AppendStatus.Ok;
  }

  timestampAt(i: number): number {
    if (i === this.len - 1) return chunkMaxT(this.pool, this.open);
    this.decoded();
    return cacheTs[i]!;
  }

  valueAt(i: number): number {
    if (i === this.len - 1) return chunkLastValue(this.pool, this.open);
    this.decoded();
    return cacheVs[i]!;
  }

  isStaleAt(i: number): boolean {
    if (this.staleTimes === undefined) return false;
    if (i === this.len - 1) return this.staleTimes[this.staleTimes.length - 1] === this.maxTime;
    this.decoded();
    return cacheStale[i] === 1;
  }

  /** Timestamp of the newest sample, -Infinity when empty. */
  get maxTime(): number {
    return this.len === 0 ? -Infinity : chunkMaxT(this.pool, this.open);
  }

  /** First index whose timestamp is >= t, or length. */
  lowerBound(t: number): number {
    if (t > this.maxTime) return this.len;
    this.decoded();
    return bisect(t, this.len, false);
  }

  /** First index whose timestamp is > t, or length. */
  upperBound(t: number): number {
    if (t >= this.maxTime) return this.len;
    this.decoded();
    return bisect(t, this.len, true);
  }

  /**
   * Adds a sample. In-order samples are the fast path; a sample up to `outOfOrderWindowMs` older
   * than the newest is inserted at its place; an equal timestamp overwrites.
   */
  append(t: number, v: number, isStale: boolean, outOfOrderWindowMs: number): AppendStatus {
    const newest = this.maxTime;
    if (t > newest) {
      this.push(t, v, isStale);
      return AppendStatus.Ok;
    }
    if (newest - t > outOfOrderWindowMs) return AppendStatus.OutOfOrder;
    // A sample sent again (a retried request) changes nothing, and the newest is checked without decoding.
    if (t === newest && this.isSameAt(this.len - 1, v, isStale)) return AppendStatus.Duplicate;
    const at = this.lowerBound(t);
    if (at < this.len && cacheTs[at] === t) {
      if (this.isSameAt(at, v, isStale)) return AppendStatus.Duplicate;
      cacheVs[at] = v;
      this.setStale(t, isStale);
      this.rewrite(this.len);
      return AppendStatus.Duplicate;
    }
    if (at === 0 && this.len === this.maxCapacity) return AppendStatus.OutOfOrder;
    const full = this.len === this.maxCapacity;
    ensureCache(this.len + 1);
    // Full: the oldest sample makes room, so everything before `at` moves down one.
    const from = full ? 1 : 0;
    cacheTs.copyWithin(at + 1, at, this.len);
    cacheVs.copyWithin(at + 1, at, this.len);
    cacheTs[at] = t;
    cacheVs[at] = v;
    this.setStale(t, isStale);
    if (from === 1) this.setStale(cacheTs[0]!, false);
    this.rewrite(this.len + 1, from);
    if (full) this.trimStarts();
    return AppendStatus.Ok;
  }

  /** append() with the sample's start time in ms (0: none). */
  appendWithStart(t: number, v: number, isStale: boolean, outOfOrderWindowMs: number, st: number): AppendStatus {
    const status = this.append(t, v, isStale, outOfOrderWindowMs);
    // The usual case, the series' one start time again, read from its column: `starts` would
    // box the number on every sample.
    if (st !== 0 && this.cols.start[this.slot] === st) return status;
    if (status !== AppendStatus.OutOfOrder && (st !== 0 || this.starts !== undefined)) this.recordStart(t, st);
    return status;
  }

  /** True when some sample carries a start time; startTimeAt() is 0 everywhere otherwise. */
  get hasStartTimes(): boolean {
    const cols = this.cols;
    return cols.start[this.slot] !== 0 || (cols.runs.size !== 0 && cols.runs.has(this.slot));
  }

  /** Start time in ms of sample i, 0 when it has none. */
  startTimeAt(i: number): number {
    const starts = this.starts;
    if (starts === undefined) return 0;
    return typeof starts === 'number' ? starts : starts.at(this.timestampAt(i));
  }

  /** Start times of this series' samples at times ts[0..n) (ascending), written to out; true when all are the same. */
  startTimesFor(ts: Float64Array, n: number, out: Float64Array): boolean {
    const starts = this.starts;
    if (starts instanceof StartTimes) return starts.fill(ts, n, out);
    out.fill(starts ?? 0, 0, n);
    return true;
  }

  /**
   * Copies the non-stale samples with from < t <= to into `ts` and `vs` (each at least `length`
   * long) and returns how many. Only the chunks the window overlaps are decoded, straight into
   * the output; a range query reads windows of one series step after step, so its second window
   * decodes the series once into the shared cache and later ones copy from there.
   */
  copyWindow(from: number, to: number, ts: Float64Array, vs: Float64Array): number {
    if (this.len === 0) return 0;
    let n: number;
    if (cached !== this && lastWindowed !== this) {
      lastWindowed = this;
      n = this.decodeRange(from, to, ts, vs);
    } else {
      this.decoded();
      const lo = bisect(from, this.len, true);
      const hi = to >= this.maxTime ? this.len : bisect(to, this.len, true);
      n = 0;
      for (let i = lo; i < hi; i++, n++) {
        ts[n] = cacheTs[i]!;
        vs[n] = cacheVs[i]!;
      }
    }
    return this.staleTimes === undefined ? n : dropStale(this.staleTimes, ts, vs, n);
  }

  /** Drops samples older than minT; returns how many remain. */
  trimBefore(minT: number): number {
    const lane = this.lane;
    if (lane === undefined) return this.trimFloatsBefore(minT);
    if (lane.trimBefore(minT) === 0) this.cols.histograms.delete(this.slot);
    return this.trimFloatsBefore(minT) + lane.length;
  }

  private trimFloatsBefore(minT: number): number {
    if (this.len === 0) return 0;
    if (this.maxTime < minT) {
      this.release();
      return 0;
    }
    // Only the chunks up to the first that reaches minT are read, and that one only up to minT.
    const pool = this.pool;
    let k = this.collect(-Infinity, Infinity);
    let count = 0;
    while (k > 0) {
      const c = chain[--k]!;
      const skip = chunkPrev(pool, c) === 0 ? this.skip : 0;
      if (chunkMaxT(pool, c) < minT) {
        count += chunkCount(pool, c) - skip;
        continue;
      }
      if (chunkMinT(pool, c) >= minT) break;
      const n = decodeChunk(pool, c, skip, -Infinity, minT, chunkTs, chunkVs, 0);
      count += n > 0 && chunkTs[n - 1] === minT ? n - 1 : n;
      break;
    }
    if (count > 0) this.drop(count);
    return this.len;
  }

  /** Forgets every sample. */
  private release(): void {
    this.invalidate();
    this.freeChunks();
    this.len = 0;
    this.staleTimes = undefined;
    this.starts = undefined;
  }

  /** Approximate bytes held by the sample chunks and side records, for self-metrics. */
  get bufferBytes(): number {
    const starts = this.starts;
    let n = 8 * (this.staleTimes?.length ?? 0) + (starts instanceof StartTimes ? starts.byteLength : 0) + (this.lane?.bytes ?? 0);
    for (let c = this.open; c !== 0; c = chunkPrev(this.pool, c)) n += chunkBytes(this.pool, c);
    return n;
  }

  private isSameAt(i: number, v: number, isStale: boolean): boolean {
    return Object.is(this.valueAt(i), v) && this.isStaleAt(i) === isStale;
  }

  /** Timestamp of the oldest sample; the series is not empty. */
  private oldestTime(): number {
    if (cached === this) return cacheTs[0]!;
    let c = this.open;
    for (let prev = chunkPrev(this.pool, c); prev !== 0; prev = chunkPrev(this.pool, c)) c = prev;
    if (this.skip === 0) return chunkMinT(this.pool, c);
    decodeChunk(this.pool, c, this.skip, -Infinity, Infinity, chunkTs, chunkVs, 0, 1);
    return chunkTs[0]!;
  }

  /** Puts in `chain`, newest first, the chunks that can hold samples with from < t <= to; returns how many. */
  private collect(from: number, to: number): number {
    const pool = this.pool;
    let k = 0;
    for (let c = this.open; c !== 0; c = chunkPrev(pool, c)) {
      const minT = chunkMinT(pool, c);
      if (minT > to) continue;
      if (k === chain.length) {
        const grown = new Float64Array(2 * k);
        grown.set(chain);
        chain = grown;
      }
      chain[k++] = c;
      if (minT <= from) break;
    }
    return k;
  }

  /** Decodes the samples with from < t <= to into ts, vs; returns how many. */
  private decodeRange(from: number, to: number, ts: Float64Array, vs: Float64Array): number {
    const pool = this.pool;
    let k = this.collect(from, to);
    let n = 0;
    while (k > 0) {
      const c = chain[--k]!;
      n = decodeChunk(pool, c, chunkPrev(pool, c) === 0 ? this.skip : 0, from, to, ts, vs, n);
    }
    return n;
  }

  /** Makes the shared cache hold this series' samples. */
  private decoded(): void {
    if (cached === this) return;
    cached = undefined;
    ensureCache(this.len);
    this.decodeRange(-Infinity, Infinity, cacheTs, cacheVs);
    markStale(this.staleTimes, this.len);
    cached = this;
  }

  private invalidate(): void {
    if (cached === this) cached = undefined;
  }

  private push(t: number, v: number, isStale: boolean): void {
    if (this.len === this.maxCapacity) this.drop(1);
    this.invalidate();
    this.open = appendSample(this.pool, this.open, t, v);
    this.len++;
    if (isStale) (this.staleTimes ??= []).push(t);
  }

  /** Forgets the oldest `count` samples. */
  private drop(count: number): void {
    const pool = this.pool;
    this.invalidate();
    this.len -= count;
    // Counted here, not in the column: it may pass what a chunk holds until the loop frees whole chunks.
    let skip = this.skip + count;
    // Whole chunks of forgotten samples are freed, oldest first.
    for (;;) {
      let newer = 0;
      let oldest = this.open;
      for (let prev = chunkPrev(pool, oldest); prev !== 0; prev = chunkPrev(pool, oldest)) {
        newer = oldest;
        oldest = prev;
      }
      const count = chunkCount(pool, oldest);
      if (skip < count) break;
      skip -= count;
      freeChunk(pool, oldest);
      if (newer === 0) {
        this.open = 0;
        break;
      }
      setChunkPrev(pool, newer, 0);
    }
    this.skip = skip;
    // The open chunk as the oldest is never freed by the loop above while it is appended to: it is re-encoded once half of it is forgotten.
    if (this.len > 0 && this.skip * 2 >= this.len && chunkPrev(pool, this.open) === 0) {
      this.decoded();
      this.rewrite(this.len);
    }
    this.trimStale();
    this.trimStarts();
  }

  /** Re-encodes the series from cache[from, from + count), which holds its samples after a change. */
  private rewrite(count: number, from = 0): void {
    this.freeChunks();
    this.open = appendSamples(this.pool, this.open, cacheTs, cacheVs, from, count);
    this.len = count - from;
    if (from > 0) {
      cacheTs.copyWithin(0, from, count);
      cacheVs.copyWithin(0, from, count);
    }
    markStale(this.staleTimes, this.len);
    cached = this;
  }

  /** Frees the chunks, keeping the side records. */
  private freeChunks(): void {
    for (let c = this.open; c !== 0;) {
      const prev = chunkPrev(this.pool, c);
      freeChunk(this.pool, c);
      c = prev;
    }
    this.open = 0;
    this.skip = 0;
  }

  private setStale(t: number, isStale: boolean): void {
    const list = this.staleTimes;
    if (list === undefined) {
      if (isStale) this.staleTimes = [t];
      return;
    }
    let i = 0;
    while (i < list.length && list[i]! < t) i++;
    const has = list[i] === t;
    if (isStale && !has) list.splice(i, 0, t);
    else if (!isStale && has) list.splice(i, 1);
    if (list.length === 0) this.staleTimes = undefined;
  }

  private trimStale(): void {
    const list = this.staleTimes;
    if (list === undefined) return;
    if (this.len === 0) {
      this.staleTimes = undefined;
      return;
    }
    const oldest = this.oldestTime();
    let drop = 0;
    while (drop < list.length && list[drop]! < oldest) drop++;
    if (drop === list.length) this.staleTimes = undefined;
    else if (drop > 0) list.splice(0, drop);
  }

  private recordStart(t: number, st: number): void {
    if (this.starts === undefined && this.len === 1) {
      this.starts = st;
      return;
    }
    if (typeof this.starts === 'number') {
      if (this.starts === st) return;
      // The first sample whose start differs: from here on, runs.
      const runs = new StartTimes();
      runs.set(this.oldestTime(), this.starts, undefined);
      this.starts = runs;
    }
    this.starts ??= new StartTimes();
    const newest = t === this.maxTime;
    if (newest && this.starts.last === st) {
      // The steady state: the newest sample continues the newest run. Only a full series
      // evicts, and only extra runs or a run of unknown starts are worth trimming then.
      if (this.len === this.maxCapacity && (this.starts.runs > 1 || st === 0)) this.trimStarts();
      return;
    }
    let nextT: number | undefined;
    if (!newest) {
      const at = this.lowerBound(t);
      if (at + 1 < this.len) nextT = this.timestampAt(at + 1);
    }
    this.starts.set(t, st, nextT);
    this.trimStarts();
  }

  /** Runs of evicted or trimmed samples go; so does the whole record once no sample has a start time. */
  private trimStarts(): void {
    if (this.len === 0) this.starts = undefined;
    else if (this.starts instanceof StartTimes && !this.starts.trimBefore(this.oldestTime())) this.starts = undefined;
  }
}

/** The pair numbers of a label set (see Series.pairs), its pairs interned. */
function encodePairs(labels: Labels, postings: Postings<Series>): string {
  const units: number[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    const id = postings.intern(labels[i]!, labels[i + 1]!).id;
    if (id < 0x8000) units.push(id);
    else units.push(0x8000 | (id >>> 15), id & 0x7fff);
  }
  return String.fromCharCode(...units);
}

/** Makes the cache hold at least n samples; its timestamps and values are kept. */
function ensureCache(n: number): void {
  if (cacheTs.length >= n) return;
  const size = Math.max(n, 2 * cacheTs.length);
  const ts = new Float64Array(size);
  const vs = new Float64Array(size);
  ts.set(cacheTs);
  vs.set(cacheVs);
  cacheTs = ts;
  cacheVs = vs;
  cacheStale = new Uint8Array(size);
}

/**
 * A counter histogram appended without a hint gets the one Prometheus's head chunks give it:
 * `not_reset` when it follows a counter histogram (no float between) and no bucket fell, else
 * `unknown` (a reset starts a new chunk, whose first sample reads as unknown).
 */
function withHint(h: FloatHistogram, t: number, lane: HistogramLane, newestFloat: number): FloatHistogram {
  const prev = lane.last;
  if (h.counterResetHint !== 'unknown' || prev === undefined) return h;
  const prevT = lane.lastT;
  // Only a histogram appended after the newest sample continues it; one written out of order stays unknown.
  if (t <= prevT || newestFloat > prevT || prev.counterResetHint === 'gauge' || h.detectReset(prev)) return h;
  const hinted = h.copy();
  hinted.counterResetHint = 'not_reset';
  return hinted;
}

/** Flags the cached samples [0, n) whose times are in `staleTimes`, which may still hold times of samples just dropped. */
function markStale(staleTimes: readonly number[] | undefined, n: number): void {
  if (staleTimes === undefined) return;
  cacheStale.fill(0, 0, n);
  for (const t of staleTimes) {
    const i = bisect(t, n, false);
    if (i < n && cacheTs[i] === t) cacheStale[i] = 1;
  }
}

/** First index in cacheTs[0, n) whose timestamp is > t (`after`) or >= t, or n. */
function bisect(t: number, n: number, after: boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = cacheTs[mid]!;
    if (m < t || (after && m === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Removes the staleness markers (timestamps in `stale`, sorted) from the n samples in ts, vs; returns how many remain. */
function dropStale(stale: readonly number[], ts: Float64Array, vs: Float64Array, n: number): number {
  let k = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    while (j < stale.length && stale[j]! < t) j++;
    if (j < stale.length && stale[j] === t) continue;
    ts[k] = t;
    vs[k++] = vs[i]!;
  }
  return k;
}
