import { BLOCK_BYTES, offsetOf, slabOf, type ChunkPool } from './chunk-pool.js';

/**
 * A chunk's bit stream across a chain of pool blocks, and the XOR coding of a 64-bit value
 * against the one before it: what the float chunks (xor-chunk.ts) and the native histogram chunks
 * (histogram-chunk.ts) both write with. Every block of a chain starts with the u32 address of the
 * next (0 for none); the first block also holds the chunk's header, `header` bytes from its start,
 * and the stream follows it.
 */

/** u32, every block: the chain's next block, 0 for none. */
export const NEXT = 0;

/** Marks an XOR window that no value has set yet: the next changed value writes its own. */
export const NO_WINDOW = 0xff;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** u32[HI] is the word holding the sign and exponent (little-endian hosts, as every Node platform). */
const HI = 1;
const LO = 0;

/** The high word of a number's bits. */
export function hiWord(value: number): number {
  f64[0] = value;
  return u32[HI]!;
}

/** The low word of a number's bits. */
export function loWord(value: number): number {
  f64[0] = value;
  return u32[LO]!;
}

/** The number with bits (hi, lo), NaN payloads kept. */
export function fromWords(hi: number, lo: number): number {
  u32[HI] = hi;
  u32[LO] = lo;
  return f64[0]!;
}

/** Returns the chain's blocks to the pool; returns how many. */
export function freeChain(pool: ChunkPool, addr: number): number {
  let n = 0;
  while (addr !== 0) {
    const next = pool.views[slabOf(addr)]!.getUint32(offsetOf(addr) + NEXT, true);
    pool.free(addr);
    addr = next;
    n++;
  }
  return n;
}

/** Bytes held by the chain's blocks. */
export function chainBytes(pool: ChunkPool, addr: number): number {
  let n = 0;
  for (; addr !== 0; addr = pool.views[slabOf(addr)]!.getUint32(offsetOf(addr) + NEXT, true)) n += BLOCK_BYTES;
  return n;
}

/** Payload bits of a chain's first block under a header of `header` bytes. */
function firstBits(header: number): number {
  return (BLOCK_BYTES - header) * 8;
}

/** Payload bits of each later block. */
const LATER_BITS = (BLOCK_BYTES - 4) * 8;

/** Where appends write in a chunk's bit stream, which runs across its blocks. */
export class BitCursor {
  pool!: ChunkPool;
  bytes: Uint8Array = new Uint8Array(0);
  /** Address of the current block, and its offset in `bytes`. */
  blockAddr = 0;
  block = 0;
  /** The byte being written, and how many of its bits are done. */
  at = 0;
  used = 0;
  end = 0;

  /** At bit `bits` of the chunk `addr` with a header of `header` bytes, whose last block is `tail`. */
  seek(pool: ChunkPool, addr: number, tail: number, bits: number, header: number): void {
    this.pool = pool;
    const first = firstBits(header);
    const target = bits < first || tail === addr ? addr : tail;
    this.blockAddr = target;
    this.bytes = pool.slabs[slabOf(target)]!;
    this.block = offsetOf(target);
    this.end = this.block + BLOCK_BYTES;
    if (target === addr) {
      this.at = this.block + header + (bits >>> 3);
    } else {
      const inner = (bits - first) % LATER_BITS;
      this.at = inner === 0 ? this.end : this.block + 4 + (inner >>> 3);
    }
    this.used = bits & 7;
  }

  private enter(addr: number): void {
    this.blockAddr = addr;
    this.bytes = this.pool.slabs[slabOf(addr)]!;
    this.block = offsetOf(addr);
    this.at = this.block + 4;
    this.end = this.block + BLOCK_BYTES;
  }

  /** Writes the low n (at most 32) bits of value. */
  write(value: number, n: number): void {
    for (;;) {
      if (this.at === this.end) this.grow();
      const free = 8 - this.used;
      if (n < free) {
        this.bytes[this.at]! |= (value & ((1 << n) - 1)) << (free - n);
        this.used += n;
        return;
      }
      n -= free;
      this.bytes[this.at++]! |= (value >>> n) & ((1 << free) - 1);
      this.used = 0;
      if (n === 0) return;
    }
  }

  /** Links a new block after the current one and moves to it. */
  private grow(): void {
    const next = this.pool.alloc();
    this.pool.views[slabOf(this.blockAddr)]!.setUint32(this.block + NEXT, next, true);
    this.enter(next);
  }
}

/**
 * Writes the XOR of the value (hi, lo) with the one before (prevHi, prevLo): one 0 bit when they
 * are equal; else `10` and the bits inside the window (win[k] leading and win[k + 1] trailing
 * zero bits) when the change fits it, or `11`, 5 bits of leading zeros, 6 of length and the
 * changed bits, which become the window. Returns the bits written.
 */
export function writeXor(w: BitCursor, hi: number, lo: number, prevHi: number, prevLo: number, win: Uint8Array, k: number): number {
  const xh = (hi ^ prevHi) >>> 0;
  const xl = (lo ^ prevLo) >>> 0;
  if ((xh | xl) === 0) {
    w.write(0, 1);
    return 1;
  }
  let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
  if (leading > 31) leading = 31;
  const trailing = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
  const wl = win[k]!;
  const wt = win[k + 1]!;
  if (wl !== NO_WINDOW && leading >= wl && trailing >= wt) {
    w.write(0b10, 2);
    writeField(w, xh, xl, wt, 64 - wl - wt);
    return 2 + 64 - wl - wt;
  }
  const significant = 64 - leading - trailing;
  w.write(0b11, 2);
  w.write(leading, 5);
  w.write(significant & 63, 6);
  writeField(w, xh, xl, trailing, significant);
  win[k] = leading;
  win[k + 1] = trailing;
  return 13 + significant;
}

/** Writes bits [shift, shift + count) of the 64-bit word (hi, lo). */
function writeField(w: BitCursor, hi: number, lo: number, shift: number, count: number): void {
  if (shift >= 32) {
    w.write(hi >>> (shift - 32), count);
    return;
  }
  const hiCount = shift + count - 32;
  if (hiCount > 0) {
    w.write(hi, hiCount);
    w.write(lo >>> shift, 32 - shift);
  } else {
    w.write(lo >>> shift, count);
  }
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** One chunk's payload, gathered from its blocks so that decoding reads whole words, not bits across blocks. */
let stream = new Uint8Array(4096);
let streamWords = new DataView(stream.buffer);

/**
 * Copies the `bits` payload bits of the chunk `addr` (header `header` bytes) into the shared
 * stream and returns it as words, valid until the next gather: the first block's bytes one by
 * one, later blocks' a word at a time, and eight zero bytes after.
 */
export function gather(pool: ChunkPool, addr: number, bits: number, header: number): DataView {
  const total = (bits + 7) >>> 3;
  if (stream.length < total + BLOCK_BYTES) {
    stream = new Uint8Array(2 * (total + BLOCK_BYTES));
    streamWords = new DataView(stream.buffer);
  }
  const bytes = pool.slabs[slabOf(addr)]!;
  let off = offsetOf(addr);
  let k = 0;
  for (let at = off + header, end = Math.min(off + BLOCK_BYTES, at + total); at < end;) stream[k++] = bytes[at++]!;
  let block = addr;
  const words = streamWords;
  while (k < total) {
    block = pool.views[slabOf(block)]!.getUint32(off + NEXT, true);
    const next = pool.views[slabOf(block)]!;
    off = offsetOf(block);
    for (let at = off + 4, end = off + BLOCK_BYTES; at < end && k < total; at += 4, k += 4) words.setInt32(k, next.getInt32(at));
  }
  stream.fill(0, total, total + 8);
  return words;
}

/** n (1 to 25) bits of the gathered words from bit `pos`. */
export function bitsAt(words: DataView, pos: number, n: number): number {
  return (words.getInt32(pos >>> 3) << (pos & 7)) >>> (32 - n);
}

/** n (1 to 32) bits of the gathered words from bit `pos`, as an int32 (the bits, not the unsigned number: it stays a small integer). */
export function wordAt(words: DataView, pos: number, n: number): number {
  return n <= 25 ? bitsAt(words, pos, n) : (bitsAt(words, pos, n - 16) << 16) | bitsAt(words, pos + n - 16, 16);
}

/**
 * Reads what writeXor wrote at bit `pos`: XORs the value held as words[j] (high) and words[j + 1]
 * (low) of `value` with it, keeping the window in win[k], win[k + 1]. Returns the bit after it.
 */
export function readXor(words: DataView, pos: number, win: Uint8Array, k: number, value: Int32Array, j: number): number {
  const word = words.getInt32(pos >>> 3) << (pos & 7);
  if (word >= 0) return pos + 1;
  if ((word & 0x40000000) !== 0) {
    win[k] = (word >>> 25) & 31;
    win[k + 1] = 64 - win[k]! - ((word >>> 19) & 63 || 64);
    pos += 13;
  } else {
    pos += 2;
  }
  const wl = win[k]!;
  const wt = win[k + 1]!;
  const bits = 64 - wl - wt;
  if (wt >= 32) {
    value[j]! ^= wordAt(words, pos, bits) << (wt - 32);
  } else if (wt + bits > 32) {
    value[j]! ^= wordAt(words, pos, wt + bits - 32);
    value[j + 1]! ^= wordAt(words, pos + wt + bits - 32, 32 - wt) << wt;
  } else {
    value[j + 1]! ^= wordAt(words, pos, bits) << wt;
  }
  return pos + bits;
}
