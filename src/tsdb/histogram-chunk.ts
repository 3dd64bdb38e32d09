import { bitsAt, BitCursor, chainBytes, freeChain, fromWords, gather, hiWord, loWord, NO_WINDOW, readXor, wordAt, writeXor } from './bit-chain.js';
import { offsetOf, slabOf, type ChunkPool } from './chunk-pool.js';
import { COUNTER_RESET_HINTS, FloatHistogram, type BucketSpan } from './float-histogram.js';
import { appendSample, chunkCount, chunkTakes } from './xor-chunk.js';

/**
 * Chunks of native histogram samples, coded the way Prometheus's head codes its histogram chunks:
 * what does not change from sample to sample (schema, zero threshold, custom bounds, the span
 * layout) is written once at the chunk's start, and each sample's count, zero count, sum and
 * buckets against the sample before. Integer counts (OTLP's cumulative ones) are written as
 * deltas in variable-width buckets, a bucket that did not move in one bit; float counts and every
 * sum as the XOR of their bits with the previous value's, as the float chunks write values. A
 * change of layout, or between integer and float counts, starts a new chunk.
 *
 * A chunk is two chains of pool blocks: the samples' timestamps in a float chunk of their own
 * (xor-chunk.ts, delta-of-delta, every value 0, which costs one bit), and the histograms'
 * stream. A query finds its window by timestamps without reading a bucket, and decodes only the
 * chunks the window reaches. Chunks are cut at about 1 KiB of stream, as Prometheus cuts its
 * histogram chunks, so that reading the newest samples decodes few older ones.
 */

// Offset 0, every block: NEXT (bit-chain.ts), the stream's next block.
const PREV = 4; // u32: the next older chunk, 0 for none
const TAIL = 8; // u32: the stream's last block, where appends write
const BITS = 12; // u32: stream bits written
const TIMES = 16; // u32: the float chunk holding the samples' timestamps
const HEADER = 20;
/** Stream bits past which the next sample starts a new chunk, once the chunk holds MIN_SAMPLES. */
const TARGET_BITS = 8 * 128;
/** Fewer samples than this in a chunk would spend more on its header, layout and first sample than its deltas. */
const MIN_SAMPLES = 8;

/** Field numbers: the counts and the sum, then the positive buckets and the negative ones. */
const COUNT = 0;
const ZERO = 1;
const SUM = 2;
const BUCKETS = 3;

/** What appending to a series' open chunk carries from one sample to the next besides the sample itself. */
export interface HistogramAppendState {
  /** The open chunk codes counts as integer deltas rather than XORs. */
  integer: boolean;
  /** The XOR windows of the open chunk's fields: leading and trailing zeros at 2 × field. */
  win: Uint8Array;
}

function view(pool: ChunkPool, addr: number): DataView {
  return pool.views[slabOf(addr)]!;
}

export function histogramChunkPrev(pool: ChunkPool, addr: number): number {
  return view(pool, addr).getUint32(offsetOf(addr) + PREV, true);
}

export function setHistogramChunkPrev(pool: ChunkPool, addr: number, prev: number): void {
  view(pool, addr).setUint32(offsetOf(addr) + PREV, prev, true);
}

/** The float chunk of the chunk's timestamps: its count, first and last time are the histogram chunk's. */
export function histogramChunkTimes(pool: ChunkPool, addr: number): number {
  return view(pool, addr).getUint32(offsetOf(addr) + TIMES, true);
}

/** Returns the chunk's blocks, its timestamps' included, to the pool. */
export function freeHistogramChunk(pool: ChunkPool, addr: number): void {
  freeChain(pool, histogramChunkTimes(pool, addr));
  freeChain(pool, addr);
}

/** Bytes held by the chunk's blocks, its timestamps' included. */
export function histogramChunkBytes(pool: ChunkPool, addr: number): number {
  return chainBytes(pool, histogramChunkTimes(pool, addr)) + chainBytes(pool, addr);
}

const cursor = new BitCursor();

/**
 * Appends h at t (after every sample of the open chunk `open`, 0 when the series has none, whose
 * newest sample is `last`). Returns the open chunk afterwards: the same, or a new one linked to it.
 */
export function appendHistogramSample(
  pool: ChunkPool,
  open: number,
  t: number,
  h: FloatHistogram,
  last: FloatHistogram | undefined,
  state: HistogramAppendState,
): number {
  let addr = open;
  if (
    open === 0 ||
    last === undefined ||
    isFull(pool, open) ||
    !chunkTakes(pool, histogramChunkTimes(pool, open), t) ||
    hasIntegerCounts(h) !== state.integer ||
    !sameLayout(h, last)
  ) {
    addr = pool.alloc();
    const v = view(pool, addr);
    v.setUint32(offsetOf(addr) + PREV, open, true);
    v.setUint32(offsetOf(addr) + TAIL, addr, true);
    v.setUint32(offsetOf(addr) + TIMES, appendSample(pool, 0, t, 0), true);
    state.integer = hasIntegerCounts(h);
    // Integer counts are no XORs: only the sum has a window then.
    const windows = 2 * (state.integer ? BUCKETS : BUCKETS + h.positiveBuckets.length + h.negativeBuckets.length);
    if (state.win.length !== windows) state.win = new Uint8Array(windows);
    state.win.fill(NO_WINDOW);
    last = undefined;
  } else {
    appendSample(pool, histogramChunkTimes(pool, addr), t, 0);
  }
  const v = view(pool, addr);
  const off = offsetOf(addr);
  let bits = v.getUint32(off + BITS, true);
  cursor.seek(pool, addr, v.getUint32(off + TAIL, true), bits, HEADER);
  if (last === undefined) bits += writeLayout(h, state.integer);
  bits += writeSample(h, last, state);
  v.setUint32(off + TAIL, cursor.blockAddr, true);
  v.setUint32(off + BITS, bits, true);
  return addr;
}

function isFull(pool: ChunkPool, addr: number): boolean {
  return view(pool, addr).getUint32(offsetOf(addr) + BITS, true) >= TARGET_BITS && chunkCount(pool, histogramChunkTimes(pool, addr)) >= MIN_SAMPLES;
}

/** Counts that are all whole numbers a double holds exactly are coded as deltas. */
function hasIntegerCounts(h: FloatHistogram): boolean {
  if (!Number.isSafeInteger(h.count) || !Number.isSafeInteger(h.zeroCount)) return false;
  for (const b of h.positiveBuckets) if (!Number.isSafeInteger(b)) return false;
  for (const b of h.negativeBuckets) if (!Number.isSafeInteger(b)) return false;
  return true;
}

/** True when a and b share what a chunk writes once. */
function sameLayout(a: FloatHistogram, b: FloatHistogram): boolean {
  return (
    Object.is(a.schema, b.schema) &&
    Object.is(a.zeroThreshold, b.zeroThreshold) &&
    a.positiveBuckets.length === b.positiveBuckets.length &&
    a.negativeBuckets.length === b.negativeBuckets.length &&
    sameSpans(a.positiveSpans, b.positiveSpans) &&
    sameSpans(a.negativeSpans, b.negativeSpans) &&
    (a.customValues === b.customValues || (a.customValues.length === b.customValues.length && a.customValues.every((x, i) => Object.is(x, b.customValues[i]))))
  );
}

function sameSpans(a: readonly BucketSpan[], b: readonly BucketSpan[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i]!.offset, b[i]!.offset) || !Object.is(a[i]!.length, b[i]!.length)) return false;
  return true;
}

function writeLayout(h: FloatHistogram, integer: boolean): number {
  const w = cursor;
  w.write(integer ? 1 : 0, 1);
  let bits = 1 + writeNumber(h.schema, 0) + writeRaw(h.zeroThreshold) + writeNumber(h.customValues.length, 0);
  for (const c of h.customValues) bits += writeRaw(c);
  return bits + writeSpans(h.positiveSpans, h.positiveBuckets.length) + writeSpans(h.negativeSpans, h.negativeBuckets.length);
}

/** The spans and the number of buckets, which is theirs in a well-formed histogram but is kept as given. */
function writeSpans(spans: readonly BucketSpan[], buckets: number): number {
  let bits = writeNumber(spans.length, 0);
  for (const s of spans) bits += writeNumber(s.offset, 0) + writeNumber(s.length, 0);
  return bits + writeNumber(buckets, 0);
}

/** One sample against the one before in the chunk, or against zero and its own previous bucket when it is the first. */
function writeSample(h: FloatHistogram, last: FloatHistogram | undefined, state: HistogramAppendState): number {
  const w = cursor;
  const hint = COUNTER_RESET_HINTS.indexOf(h.counterResetHint);
  let bits: number;
  if (last === undefined) {
    w.write(hint, 2);
    bits = 2;
  } else if (h.counterResetHint === last.counterResetHint) {
    w.write(0, 1);
    bits = 1;
  } else {
    w.write(0b100 | hint, 3);
    bits = 3;
  }
  const { integer, win } = state;
  bits += writeCount(h.count, last?.count ?? 0, integer, win, COUNT);
  bits += writeCount(h.zeroCount, last?.zeroCount ?? 0, integer, win, ZERO);
  bits += writeXorOf(h.sum, last?.sum ?? 0, win, SUM);
  bits += writeBuckets(h.positiveBuckets, last?.positiveBuckets, integer, win, BUCKETS);
  bits += writeBuckets(h.negativeBuckets, last?.negativeBuckets, integer, win, BUCKETS + h.positiveBuckets.length);
  return bits;
}

function writeBuckets(buckets: readonly number[], prev: readonly number[] | undefined, integer: boolean, win: Uint8Array, field: number): number {
  let bits = 0;
  for (let i = 0; i < buckets.length; i++) {
    const before = prev !== undefined ? prev[i]! : i === 0 ? 0 : buckets[i - 1]!;
    bits += writeCount(buckets[i]!, before, integer, win, field + i);
  }
  return bits;
}

function writeCount(value: number, prev: number, integer: boolean, win: Uint8Array, field: number): number {
  return integer ? writeNumber(value, prev) : writeXorOf(value, prev, win, field);
}

function writeXorOf(value: number, prev: number, win: Uint8Array, field: number): number {
  return writeXor(cursor, hiWord(value), loWord(value), hiWord(prev), loWord(prev), win, 2 * field);
}

function writeRaw(value: number): number {
  cursor.write(hiWord(value), 32);
  cursor.write(loWord(value), 32);
  return 64;
}

/**
 * `value` as its difference from `prev` when that is an int32 that adds back to exactly `value`
 * (NaN never does, nor -0 unless prev is -0 too): `0` for none, else a prefix of ones ended by a zero choosing 4, 7, 12,
 * 20 or 32 bits of two's complement; `111111` and the 64 bits of the value when it is no such
 * difference. Returns the bits written.
 */
function writeNumber(value: number, prev: number): number {
  const w = cursor;
  const d = value - prev;
  // A zero difference means the very value before, so that a reader can pass unchanged fields by.
  if (d !== (d | 0) || !Object.is(d === 0 ? prev : prev + d, value)) {
    w.write(0b111111, 6);
    return 6 + writeRaw(value);
  }
  if (d === 0) {
    w.write(0, 1);
    return 1;
  }
  if (d >= -8 && d < 8) {
    w.write(0b100000 | (d & 0xf), 6);
    return 6;
  }
  if (d >= -64 && d < 64) {
    w.write(0b110, 3);
    w.write(d, 7);
    return 10;
  }
  if (d >= -2048 && d < 2048) {
    w.write(0b1110, 4);
    w.write(d, 12);
    return 16;
  }
  if (d >= -(1 << 19) && d < 1 << 19) {
    w.write(0b11110, 5);
    w.write(d, 20);
    return 25;
  }
  w.write(0b111110, 6);
  w.write(d, 32);
  return 38;
}

/** The reading position in the gathered stream. */
let pos = 0;
let words: DataView = new DataView(new ArrayBuffer(8));

const decoded = new Float64Array(1);

/** What writeNumber wrote against `prev`. */
function readNumber(prev: number): number {
  pos = readDelta(words, pos, decoded, 0, prev);
  return decoded[0]!;
}

function readRaw(): number {
  const value = fromWords(wordAt(words, pos, 32), wordAt(words, pos + 32, 32));
  pos += 64;
  return value;
}

function readSpans(): { spans: BucketSpan[]; buckets: number } {
  const spans: BucketSpan[] = [];
  for (let n = readNumber(0); n > 0; n--) spans.push({ offset: readNumber(0), length: readNumber(0) });
  return { spans, buckets: readNumber(0) };
}

/** Decoding state a field: the previous value as a number (integer counts) and as bits (XOR), and the XOR window. */
let prevNum = new Float64Array(64);
let prevBits = new Int32Array(128);
let prevWin = new Uint8Array(128);

/**
 * Decodes the first `count` samples of the chunk and puts those from index `from` on in
 * out[base + i - from]: the samples before `from` are read, as each is coded against the one
 * before, but no histogram is made of them. Samples of one chunk share its spans and bounds.
 */
export function decodeHistogramChunk(pool: ChunkPool, addr: number, count: number, from: number, out: FloatHistogram[], base: number): void {
  const v = view(pool, addr);
  words = gather(pool, addr, v.getUint32(offsetOf(addr) + BITS, true), HEADER);
  pos = 1;
  const integer = words.getInt8(0) < 0;
  const schema = readNumber(0);
  const zeroThreshold = readRaw();
  const customValues: number[] = [];
  for (let n = readNumber(0); n > 0; n--) customValues.push(readRaw());
  const positive = readSpans();
  const negative = readSpans();
  const fields = BUCKETS + positive.buckets + negative.buckets;
  if (prevNum.length < fields) {
    prevNum = new Float64Array(2 * fields);
    prevBits = new Int32Array(4 * fields);
    prevWin = new Uint8Array(4 * fields);
  }
  const num = prevNum;
  const bits = prevBits;
  const win = prevWin;
  num.fill(0, 0, fields);
  bits.fill(0, 0, 2 * fields);
  win.fill(NO_WINDOW, 0, 2 * fields);
  const firstNegative = BUCKETS + positive.buckets;
  // The samples' reads are written out with a local position rather than the helpers above: this loop is a query's cost a bucket.
  let at = pos;
  let hint = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      hint = bitsAt(words, at, 2);
      at += 2;
    } else if (words.getInt32(at >>> 3) << (at & 7) >= 0) {
      at += 1;
    } else {
      hint = bitsAt(words, at + 1, 2);
      at += 3;
    }
    if (integer) {
      at = readDelta(words, at, num, COUNT, num[COUNT]!);
      at = readDelta(words, at, num, ZERO, num[ZERO]!);
      at = readXor(words, at, win, 2 * SUM, bits, 2 * SUM);
      if (i === 0) {
        // The first sample's buckets are each coded against the bucket before it.
        for (let f = BUCKETS; f < fields; f++) at = readDelta(words, at, num, f, f === BUCKETS || f === firstNegative ? 0 : num[f - 1]!);
      } else {
        for (let f = BUCKETS; f < fields;) {
          const run = unchanged(words, at, fields - f);
          if (run > 0) {
            at += run;
            f += run;
          } else {
            at = readDelta(words, at, num, f, num[f]!);
            f++;
          }
        }
      }
    } else if (i === 0) {
      for (let f = 0; f < fields; f++) {
        if (f > BUCKETS && f !== firstNegative) {
          bits[2 * f] = bits[2 * f - 2]!;
          bits[2 * f + 1] = bits[2 * f - 1]!;
        }
        at = readXor(words, at, win, 2 * f, bits, 2 * f);
      }
    } else {
      for (let f = 0; f < fields;) {
        const run = unchanged(words, at, fields - f);
        if (run > 0) {
          at += run;
          f += run;
        } else {
          at = readXor(words, at, win, 2 * f, bits, 2 * f);
          f++;
        }
      }
    }
    if (i < from) continue;
    const positiveBuckets = bucketsOf(BUCKETS, firstNegative, integer);
    const negativeBuckets = bucketsOf(firstNegative, fields, integer);
    out[base + i - from] = new FloatHistogram({
      schema,
      zeroThreshold,
      zeroCount: valueOf(ZERO, integer),
      count: valueOf(COUNT, integer),
      sum: valueOf(SUM, integer),
      positiveSpans: positive.spans,
      positiveBuckets,
      negativeSpans: negative.spans,
      negativeBuckets,
      customValues,
      counterResetHint: COUNTER_RESET_HINTS[hint]!,
    });
  }
}

/**
 * How many of the next (at most `left`) fields, from bit `at`, are unchanged from the sample
 * before: each is one 0 bit, delta or XOR alike, so a run of them is passed at once. 25 bits of
 * the word read are the stream's whatever the bit offset.
 */
function unchanged(words: DataView, at: number, left: number): number {
  const word = words.getInt32(at >>> 3) << (at & 7);
  if (word < 0) return 0;
  return Math.min(Math.clz32(word), 25, left);
}

/** What writeNumber wrote at bit `at` against `prev`, into into[f]; returns the bit after it. */
function readDelta(words: DataView, at: number, into: Float64Array, f: number, prev: number): number {
  const word = words.getInt32(at >>> 3) << (at & 7);
  if (word >= 0) {
    into[f] = prev;
    return at + 1;
  }
  if ((word & 0x40000000) === 0) {
    into[f] = prev + ((word << 2) >> 28);
    return at + 6;
  }
  if ((word & 0x20000000) === 0) {
    into[f] = prev + ((word << 3) >> 25);
    return at + 10;
  }
  if ((word & 0x10000000) === 0) {
    into[f] = prev + ((word << 4) >> 20);
    return at + 16;
  }
  if ((word & 0x08000000) === 0) {
    into[f] = prev + ((word << 5) >> 12);
    return at + 25;
  }
  if ((word & 0x04000000) === 0) {
    into[f] = prev + wordAt(words, at + 6, 32);
    return at + 38;
  }
  into[f] = fromWords(wordAt(words, at + 6, 32), wordAt(words, at + 38, 32));
  return at + 70;
}

/** The decoded values of fields [from, to). */
function bucketsOf(from: number, to: number, integer: boolean): number[] {
  const out = new Array<number>(to - from);
  if (integer) for (let f = from; f < to; f++) out[f - from] = prevNum[f]!;
  else for (let f = from; f < to; f++) out[f - from] = fromWords(prevBits[2 * f]!, prevBits[2 * f + 1]!);
  return out;
}

/** The decoded value of field f. */
function valueOf(f: number, integer: boolean): number {
  return f === SUM || !integer ? fromWords(prevBits[2 * f]!, prevBits[2 * f + 1]!) : prevNum[f]!;
}
