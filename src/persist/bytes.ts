/**
 * Growable byte output and its reader for the snapshot format: unsigned and zigzag varints
 * (arithmetic, so they hold any safe integer, not just 32 bits), little-endian doubles, and
 * strings through a table so a label value shared by thousands of series is written once.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly strings = new Map<string, number>();

  constructor(private readonly initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** Hands over what was written so far and starts an empty buffer; the string table is kept. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialBytes, this.pos));
    this.pos = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string by reference: 0 then the text the first time, its table index + 1 after. */
  string(s: string): void {
    const ref = this.strings.get(s);
    if (ref !== undefined) {
      this.varint(ref + 1);
      return;
    }
    this.strings.set(s, this.strings.size);
    this.varint(0);
    const text = textEncoder.encode(s);
    this.varint(text.length);
    this.bytes(text);
  }

  /**
   * A run of doubles, each as the XOR with the one before: unchanged bytes at either end are
   * counted in a control byte (high nibble leading, low nibble trailing) and not written. A
   * constant gauge costs one byte a sample, a counter stepping by whole numbers two or three.
   */
  xorDoubles(values: Float64Array, n: number): void {
    this.ensure(9 * n);
    const buf = this.buf;
    let pos = this.pos;
    let prevHi = 0;
    let prevLo = 0;
    for (let i = 0; i < n; i++) {
      f64[0] = values[i]!;
      const lo = u32[0]!;
      const hi = u32[1]!;
      const xHi = (hi ^ prevHi) >>> 0;
      const xLo = (lo ^ prevLo) >>> 0;
      prevHi = hi;
      prevLo = lo;
      if (xHi === 0 && xLo === 0) {
        buf[pos++] = 0x80;
        continue;
      }
      const lead = xHi !== 0 ? Math.clz32(xHi) >>> 3 : 4 + (Math.clz32(xLo) >>> 3);
      const trail = xLo !== 0 ? ctz32(xLo) >>> 3 : 4 + (ctz32(xHi) >>> 3);
      buf[pos++] = (lead << 4) | trail;
      // Bytes from most significant (index 7) down, skipping `lead` at the top and `trail` at the bottom.
      for (let b = 7 - lead; b >= trail; b--) buf[pos++] = b >= 4 ? (xHi >>> (8 * (b - 4))) & 0xff : (xLo >>> (8 * b)) & 0xff;
    }
    this.pos = pos;
  }
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class FormatError extends Error {
  override name = 'FormatError';
}

export class ByteReader {
  private pos = 0;
  private readonly strings: string[] = [];

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new FormatError(`record runs past the end at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new FormatError(`varint longer than 8 bytes at byte ${this.pos}`);
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const ref = this.varint();
    if (ref > 0) {
      const s = this.strings[ref - 1];
      if (s === undefined) throw new FormatError(`string reference ${ref} before its definition`);
      return s;
    }
    const n = this.varint();
    let s: string;
    try {
      s = textDecoder.decode(this.bytes(n));
    } catch {
      throw new FormatError(`string at byte ${this.pos - n} is not UTF-8`);
    }
    this.strings.push(s);
    return s;
  }

  xorDoubles(out: Float64Array, n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= buf.length) throw new FormatError(`values run past the end at byte ${pos}`);
      const control = buf[pos++]!;
      if (control !== 0x80) {
        const lead = control >>> 4;
        const trail = control & 0x0f;
        if (lead + trail > 7) throw new FormatError(`bad value control byte ${control} at byte ${pos - 1}`);
        if (pos + 8 - lead - trail > buf.length) throw new FormatError(`values run past the end at byte ${pos}`);
        let xHi = 0;
        let xLo = 0;
        for (let b = 7 - lead; b >= trail; b--) {
          const byte = buf[pos++]!;
          if (b >= 4) xHi |= byte << (8 * (b - 4));
          else xLo |= byte << (8 * b);
        }
        hi = (hi ^ xHi) >>> 0;
        lo = (lo ^ xLo) >>> 0;
      }
      u32[0] = lo;
      u32[1] = hi;
      out[i] = f64[0]!;
    }
    this.pos = pos;
  }
}
