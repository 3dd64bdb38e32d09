import { BitCursor, gather, NO_WINDOW, wordAt, writeXor } from './bit-chain.js';
import { offsetOf, slabOf, type ChunkPool } from './chunk-pool.js';

/**
 * Gorilla-style chunks of samples, as Prometheus's head chunks: timestamps as delta-of-delta in
 * variable-width buckets, values XORed with the previous value and only the bits that changed
 * written. A chunk is a chain of pool blocks that grows a block at a time; a series' chunks are a
 * list linked from the newest (the open chunk, which appends extend) to the oldest.
 *
 * A chunk's first block holds a header with what appending needs (the last timestamp, delta and
 * value bits, the XOR window), so the open chunk's state costs no field of the series, and what
 * reading needs to skip a chunk without decoding it (its first and last timestamps, its count).
 * The header is kept to 41 bytes, the last timestamp a u32 span from the first and the delta an
 * int32: a series of a few dozen samples then fits two blocks where it needed three.
 */

// Offset 0, every block: NEXT (bit-chain.ts), the chunk's next block.
const PREV = 4; // u32: the next older chunk, 0 for none
const TAIL = 8; // u32: the chunk's last block, where appends write
const BITS = 12; // u16: payload bits written
const COUNT = 14; // u8: samples
const LEADING = 15; // u8: leading zeros of the XOR window, NO_WINDOW before the first
const TRAILING = 16; // u8: trailing zeros of the XOR window
const LAST_HI = 17; // u32: high word of the last value's bits
const LAST_LO = 21; // u32: low word
const LAST_DELTA = 25; // i32: the last timestamp delta, DELTA_UNKNOWN when it is no int32
const MIN_T = 29; // f64: first timestamp
const SPAN = 37; // u32: last timestamp − first, a whole number (a sample that would break that starts a new chunk)
const HEADER = 41;
/** The next sample after an unknown delta writes its timestamp whole, as the decoder then needs no delta. */
const DELTA_UNKNOWN = -0x80000000;
const MAX_SPAN = 2 ** 32;
/** As Prometheus: 120 samples, two hours at 1 minute, 20 minutes at 10 s. */
export const MAX_SAMPLES = 120;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** u32[HI] is the word holding the sign and exponent (little-endian hosts, as every Node platform). */
const HI = 1;
const LO = 0;

const cursor = new BitCursor();

function view(pool: ChunkPool, addr: number): DataView {
  return pool.views[slabOf(addr)]!;
}

export function chunkPrev(pool: ChunkPool, addr: number): number {
  return view(pool, addr).getUint32(offsetOf(addr) + PREV, true);
}

export function setChunkPrev(pool: ChunkPool, addr: number, prev: number): void {
  view(pool, addr).setUint32(offsetOf(addr) + PREV, prev, true);
}

export function chunkCount(pool: ChunkPool, addr: number): number {
  return view(pool, addr).getUint8(offsetOf(addr) + COUNT);
}

export function chunkMinT(pool: ChunkPool, addr: number): number {
  return view(pool, addr).getFloat64(offsetOf(addr) + MIN_T, true);
}

export function chunkMaxT(pool: ChunkPool, addr: number): number {
  const v = view(pool, addr);
  const off = offsetOf(addr);
  return v.getFloat64(off + MIN_T, true) + v.getUint32(off + SPAN, true);
}

/** True when a chunk starting at minT can hold a sample at t (>= minT): the span stays a whole u32. */
function spanFits(minT: number, t: number): boolean {
  const span = t - minT;
  return Number.isInteger(span) && span < MAX_SPAN && minT + span === t;
}

/** True when appendSample() would add a sample at t (>= its newest) to the chunk rather than start a new one. */
export function chunkTakes(pool: ChunkPool, addr: number, t: number): boolean {
  return chunkCount(pool, addr) < MAX_SAMPLES && spanFits(chunkMinT(pool, addr), t);
}

/** The value of the chunk's last sample. */
export function chunkLastValue(pool: ChunkPool, addr: number): number {
  const v = view(pool, addr);
  const off = offsetOf(addr);
  u32[HI] = v.getUint32(off + LAST_HI, true);
  u32[LO] = v.getUint32(off + LAST_LO, true);
  return f64[0]!;
}

/** A chunk's blocks go back to the pool, and are counted, as any chain's. */
export { chainBytes as chunkBytes, freeChain as freeChunk } from './bit-chain.js';

/**
 * Appends to one chunk with its header's state in fields: read once and written back once, however
 * many samples go in between (a series re-encoded after an out-of-order sample).
 */
class Encoder {
  private pool!: ChunkPool;
  /** The chunk being appended to. */
  addr = 0;
  count = 0;
  private view!: DataView;
  private off = 0;
  private bits = 0;
  /** The XOR window: leading and trailing zeros. */
  private readonly win = new Uint8Array(2);
  private lastHi = 0;
  private lastLo = 0;
  private lastDelta = 0;
  private minT = 0;
  private maxT = 0;

  /** Opens the chunk `open` for appending a sample at t, or a new one linked to it when it is 0, full, or its span cannot reach t. */
  open(pool: ChunkPool, open: number, t: number): void {
    this.pool = pool;
    if (open === 0 || chunkCount(pool, open) >= MAX_SAMPLES || !spanFits(chunkMinT(pool, open), t)) {
      const prev = open;
      open = pool.alloc();
      const v = view(pool, open);
      v.setUint32(offsetOf(open) + PREV, prev, true);
      v.setUint32(offsetOf(open) + TAIL, open, true);
      v.setUint8(offsetOf(open) + LEADING, NO_WINDOW);
    }
    const v = view(pool, open);
    const off = offsetOf(open);
    this.addr = open;
    this.view = v;
    this.off = off;
    this.count = v.getUint8(off + COUNT);
    this.bits = v.getUint16(off + BITS, true);
    this.win[0] = v.getUint8(off + LEADING);
    this.win[1] = v.getUint8(off + TRAILING);
    this.lastHi = v.getUint32(off + LAST_HI, true);
    this.lastLo = v.getUint32(off + LAST_LO, true);
    const delta = v.getInt32(off + LAST_DELTA, true);
    this.lastDelta = delta === DELTA_UNKNOWN ? NaN : delta;
    this.minT = v.getFloat64(off + MIN_T, true);
    this.maxT = this.minT + v.getUint32(off + SPAN, true);
    cursor.seek(pool, open, v.getUint32(off + TAIL, true), this.bits, HEADER);
  }

  /** True when the open chunk's span can reach a sample at t. */
  reaches(t: number): boolean {
    return this.count === 0 || spanFits(this.minT, t);
  }

  /** Writes the header back. */
  close(): void {
    const v = this.view;
    const off = this.off;
    v.setUint32(off + TAIL, cursor.blockAddr, true);
    v.setUint16(off + BITS, this.bits, true);
    v.setUint8(off + COUNT, this.count);
    v.setUint8(off + LEADING, this.win[0]!);
    v.setUint8(off + TRAILING, this.win[1]!);
    v.setUint32(off + LAST_HI, this.lastHi, true);
    v.setUint32(off + LAST_LO, this.lastLo, true);
    const delta = this.lastDelta;
    v.setInt32(off + LAST_DELTA, Number.isInteger(delta) && delta > DELTA_UNKNOWN && delta <= 0x7fffffff ? delta : DELTA_UNKNOWN, true);
    v.setFloat64(off + MIN_T, this.minT, true);
    v.setUint32(off + SPAN, this.maxT - this.minT, true);
  }

  add(t: number, value: number): void {
    const w = cursor;
    f64[0] = value;
    const hi = u32[HI]!;
    const lo = u32[LO]!;
    let written: number;
    if (this.count === 0) {
      this.minT = t;
      this.lastDelta = 0;
      w.write(hi, 32);
      w.write(lo, 32);
      written = 64;
    } else {
      const prevT = this.maxT;
      const lastDelta = this.lastDelta;
      const dod = t - prevT - lastDelta;
      // The buckets hold whole milliseconds that add back to exactly t; any other step is written whole.
      if (Number.isInteger(dod) && dod >= -(1 << 19) && dod < 1 << 19 && prevT + (lastDelta + dod) === t) {
        if (dod === 0) {
          w.write(0, 1);
          written = 1;
        } else if (dod >= -64 && dod < 64) {
          w.write(0b10, 2);
          w.write(dod & 0x7f, 7);
          written = 9;
        } else if (dod >= -8192 && dod < 8192) {
          w.write(0b110, 3);
          w.write(dod & 0x3fff, 14);
          written = 17;
        } else {
          w.write(0b1110, 4);
          w.write(dod & 0xfffff, 20);
          written = 24;
        }
        this.lastDelta = lastDelta + dod;
      } else {
        w.write(0b1111, 4);
        f64[0] = t;
        w.write(u32[HI]!, 32);
        w.write(u32[LO]!, 32);
        written = 68;
        this.lastDelta = t - prevT;
      }
      written += writeXor(w, hi, lo, this.lastHi, this.lastLo, this.win, 0);
    }
    this.maxT = t;
    this.lastHi = hi;
    this.lastLo = lo;
    this.count++;
    this.bits += written;
  }
}

const encoder = new Encoder();

/**
 * Appends a sample after the newest of the open chunk `open` (0: the series has none). Returns
 * the open chunk afterwards: the same, or a new chunk linked to it once it holds MAX_SAMPLES.
 */
export function appendSample(pool: ChunkPool, open: number, t: number, value: number): number {
  encoder.open(pool, open, t);
  encoder.add(t, value);
  encoder.close();
  return encoder.addr;
}

/** appendSample() of the samples ts[i], vs[i] for i in [from, to), in time order. */
export function appendSamples(pool: ChunkPool, open: number, ts: Float64Array, vs: Float64Array, from: number, to: number): number {
  if (from === to) return open;
  encoder.open(pool, open, ts[from]!);
  for (let i = from; i < to; i++) {
    if (encoder.count >= MAX_SAMPLES || !encoder.reaches(ts[i]!)) {
      encoder.close();
      encoder.open(pool, encoder.addr, ts[i]!);
    }
    encoder.add(ts[i]!, vs[i]!);
  }
  encoder.close();
  return encoder.addr;
}

/**
 * Decodes the chunk's samples after its first `skip` and with from < t <= to into ts and vs
 * from index n, stopping at index `limit`; returns the index after the last written.
 */
export function decodeChunk(
  pool: ChunkPool,
  addr: number,
  skip: number,
  from: number,
  to: number,
  ts: Float64Array,
  vs: Float64Array,
  n: number,
  limit = Infinity,
): number {
  const v = view(pool, addr);
  const off = offsetOf(addr);
  const count = v.getUint8(off + COUNT);
  let t = v.getFloat64(off + MIN_T, true);
  const words = gather(pool, addr, v.getUint16(off + BITS, true), HEADER);
  // The reads are written out here rather than called: this loop is every query's cost a sample.
  const bits64 = u32;
  const float = f64;
  let hi = words.getInt32(0);
  let lo = words.getInt32(4);
  let pos = 64;
  let delta = 0;
  let wl = 0;
  let wt = 0;
  for (let i = 0; ;) {
    if (t > to) return n;
    if (i >= skip && t > from) {
      bits64[HI] = hi;
      bits64[LO] = lo;
      ts[n] = t;
      vs[n++] = float[0]!;
      if (n === limit) return n;
    }
    if (++i === count) return n;
    let word = words.getInt32(pos >>> 3) << (pos & 7);
    if (word >= 0) {
      pos += 1;
    } else if ((word & 0x40000000) === 0) {
      delta += (word << 2) >> 25;
      pos += 9;
    } else if ((word & 0x20000000) === 0) {
      delta += (word << 3) >> 18;
      pos += 17;
    } else if ((word & 0x10000000) === 0) {
      delta += (word << 4) >> 12;
      pos += 24;
    } else {
      bits64[HI] = wordAt(words, pos + 4, 32);
      bits64[LO] = wordAt(words, pos + 36, 32);
      pos += 68;
      delta = float[0]! - t;
    }
    t += delta;
    word = words.getInt32(pos >>> 3) << (pos & 7);
    if (word >= 0) {
      pos += 1;
      continue;
    }
    if ((word & 0x40000000) !== 0) {
      wl = (word >>> 25) & 31;
      wt = 64 - wl - ((word >>> 19) & 63 || 64);
      pos += 13;
    } else {
      pos += 2;
    }
    const bits = 64 - wl - wt;
    if (wt >= 32) {
      hi ^= wordAt(words, pos, bits) << (wt - 32);
    } else if (wt + bits > 32) {
      hi ^= wordAt(words, pos, wt + bits - 32);
      lo ^= wordAt(words, pos + wt + bits - 32, 32 - wt) << wt;
    } else {
      lo ^= wordAt(words, pos, bits) << wt;
    }
    pos += bits;
  }
}
