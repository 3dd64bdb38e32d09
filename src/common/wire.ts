import { Buffer, isUtf8 } from 'node:buffer';
import { UserError } from './errors.js';

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
export const I32 = 5;
/** The staleness marker's bit pattern as its two 32-bit halves. */
const STALE_HIGH = 0x7ff00000;
const STALE_LOW = 2;
/** A varint of 64 bits takes at most 10 bytes of 7 bits. */
export const MAX_VARINT_BYTES = 10;

/**
 * A cursor over protobuf wire bytes, for the OTLP and remote-write decoders. Every read is bounded
 * by the end of the message it is in, so a length that points past it is an error, never a read
 * beyond.
 */
export class WireReader {
  pos = 0;
  readonly view: DataView;

  constructor(
    readonly buf: Buffer,
    private readonly message: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  error(what: string): Error {
    return this.newError(`invalid protobuf ${this.message}: ${what} at byte ${this.pos}`);
  }

  /** The error a malformed message raises; a decoder whose callers catch its own class overrides it. */
  protected newError(message: string): Error {
    return new UserError('BAD_DATA', message);
  }

  /** An unsigned varint up to 2^53 (tags, lengths, enums, uint32). */
  varint(end: number): number {
    let result = 0;
    let factor = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.varintByte(end);
      result += (b & 0x7f) * factor;
      if (b < 0x80) return result;
      factor *= 128;
    }
    throw this.varintTooLong();
  }

  /** The next byte of a varint, which must lie inside its message. */
  protected varintByte(end: number): number {
    if (this.pos >= end) throw this.error('a varint runs past the end of its message');
    return this.buf[this.pos++]!;
  }

  protected varintTooLong(): Error {
    return this.error(`a varint is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** A sint32 or sint64: its zigzag varint as the number it stands for (exact up to 2^53). */
  sint(end: number): number {
    const n = this.varint(end);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** A field's tag; field number 0 does not exist. */
  tag(end: number): number {
    const tag = this.varint(end);
    if (tag >>> 3 === 0) throw this.error('field number 0');
    return tag;
  }

  /** An int64 varint as a number: exact for millisecond timestamps, negative ones included. */
  int64(end: number): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.varintByte(end);
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw this.varintTooLong();
  }

  /** Where a length-delimited field that starts here ends. */
  len(end: number): number {
    const n = this.varint(end);
    const stop = this.pos + n;
    if (stop > end) throw this.error('a length-delimited field runs past the end of its message');
    return stop;
  }

  /** The offset of an 8-byte field, moving past it. */
  fixed64(end: number): number {
    const at = this.pos;
    if (at + 8 > end) throw this.error('a fixed64 field runs past the end of its message');
    this.pos = at + 8;
    return at;
  }

  /** The offset of a 4-byte field, moving past it. */
  fixed32(end: number): number {
    const at = this.pos;
    if (at + 4 > end) throw this.error('a fixed32 field runs past the end of its message');
    this.pos = at + 4;
    return at;
  }

  double(at: number): number {
    return this.view.getFloat64(at, true);
  }

  /** The fixed64 at `at` as a number (exact up to 2^53). */
  uint64(at: number): number {
    return this.view.getUint32(at + 4, true) * 4294967296 + this.view.getUint32(at, true);
  }

  /** The sfixed64 at `at` as a number (exact up to 2^53). */
  sfixed64(at: number): number {
    return this.view.getInt32(at + 4, true) * 4294967296 + this.view.getUint32(at, true);
  }

  /** Whether the double at `at` is Prometheus's staleness marker, the NaN 0x7ff0000000000002 (other NaNs are values). */
  staleNaN(at: number): boolean {
    return this.high32(at) === STALE_HIGH && this.low32(at) === STALE_LOW;
  }

  /** The 64 bits at `at` as two 32-bit halves, for telling special NaNs apart. */
  private low32(at: number): number {
    return this.view.getUint32(at, true);
  }

  private high32(at: number): number {
    return this.view.getUint32(at + 4, true);
  }

  /** A string field; undefined when its bytes are not valid UTF-8. */
  string(end: number): string | undefined {
    const stop = this.len(end);
    const start = this.pos;
    this.pos = stop;
    return isUtf8(this.buf.subarray(start, stop)) ? this.buf.toString('utf8', start, stop) : undefined;
  }

  skip(wireType: number, end: number, field: number): void {
    switch (wireType) {
      case VARINT:
        this.varint(end);
        return;
      case I64:
        this.fixed64(end);
        return;
      case LEN:
        this.pos = this.len(end);
        return;
      case I32:
        this.fixed32(end);
        return;
      case START_GROUP:
        for (;;) {
          const tag = this.varint(end);
          if ((tag & 7) === END_GROUP) {
            if (tag >>> 3 !== field) throw this.error(`mismatched end of group ${field}`);
            return;
          }
          this.skip(tag & 7, end, tag >>> 3);
        }
      default:
        throw this.error(`wire type ${wireType} of field ${field} is not a protobuf wire type`);
    }
  }
}
