import type { Buffer } from 'node:buffer';
import type { EncodedBytes, EncodedKey } from './encoded-key.js';
import type { Attribute } from './attributes.js';

/** Builds the attributes a wire point left encoded, from its bytes in the request. */
export type AttributeReader = (buf: Buffer, start: number, end: number) => Attribute[];

/** Doubles a point in `times`: start time and time (ms), value. */
export const F = 3;
/** Integers a point in `ints`: flags, where its encoded attributes start and end in `buf`, and their hash (-1: none kept). */
export const I = 4;

/**
 * The gauge and sum points of one request in columns, shared by all its metrics (each holds a
 * range): no object a point, and a double in an object field would be a heap number of its own.
 * The columns are typed arrays, so a decoding worker hands them over without copying.
 *
 * A wire point's attributes stay encoded in the request's bytes, built only when the translator
 * asks (a series it has not seen); their bytes are the point's key. A JSON point's attributes are
 * built by its decoder and it has no key.
 */
export class NumberPoints implements EncodedBytes, EncodedKey {
  length = 0;
  times: Float64Array<ArrayBuffer>;
  ints: Int32Array<ArrayBuffer>;
  readonly view: DataView;
  /** Attributes given whole, by point (JSON): undefined where the point's are encoded. */
  private given: (Attribute[] | undefined)[] | undefined = undefined;
  /** Why a point cannot be stored although its request could be read, by point. */
  private invalid: Map<number, string> | undefined = undefined;
  /* The key of the point asked last (see key()): one object for all, so asking allocates nothing. */
  hash = 0;
  keyStart = 0;
  keyEnd = 0;

  constructor(
    readonly buf: Buffer,
    capacity: number,
    private readonly read: AttributeReader | undefined,
    columns?: { times: Float64Array<ArrayBuffer>; ints: Int32Array<ArrayBuffer>; length: number },
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.times = columns?.times ?? new Float64Array(F * Math.max(16, capacity));
    this.ints = columns?.ints ?? new Int32Array(I * Math.max(16, capacity));
    this.length = columns?.length ?? 0;
  }

  /**
   * A new point, all zero, its index returned: the decoder writes its fields into the columns
   * in place (doubles passed to a call would be boxed).
   */
  next(): number {
    const i = this.length;
    if (F * (i + 1) > this.times.length) this.grow();
    this.times.fill(0, F * i, F * i + F);
    this.ints.fill(0, I * i, I * i + I);
    this.length = i + 1;
    return i;
  }

  /** Adds a point with its attributes built (and why it cannot be stored, if so). */
  addBuilt(start: number, time: number, value: number, flags: number, attributes: Attribute[], invalidUtf8: string | undefined): void {
    const i = this.next();
    this.times[F * i] = start;
    this.times[F * i + 1] = time;
    this.times[F * i + 2] = value;
    this.ints[I * i] = flags;
    this.ints[I * i + 3] = -1;
    (this.given ??= [])[i] = attributes;
    if (invalidUtf8 !== undefined) (this.invalid ??= new Map()).set(i, invalidUtf8);
  }

  startTimeMs(i: number): number {
    return this.times[F * i]!;
  }

  /** Milliseconds since the epoch; 0 means not set, NaN a time the decoder could not represent. */
  timeMs(i: number): number {
    return this.times[F * i + 1]!;
  }

  value(i: number): number {
    return this.times[F * i + 2]!;
  }

  flags(i: number): number {
    return this.ints[I * i]! >>> 0;
  }

  attributes(i: number): Attribute[] {
    const given = this.given?.[i];
    if (given !== undefined) return given;
    const n = I * i;
    if (this.read === undefined || this.ints[n + 1] === this.ints[n + 2]) return [];
    return this.read(this.buf, this.ints[n + 1]!, this.ints[n + 2]!);
  }

  invalidUtf8(i: number): string | undefined {
    return this.invalid?.get(i);
  }

  /**
   * The key of point i's encoded attributes, or undefined when it has none: equal keys (within one
   * resource and metric) mean equal attributes. The same object each time, valid until the next call.
   */
  key(i: number): EncodedKey | undefined {
    const n = I * i;
    const hash = this.ints[n + 3]!;
    if (hash < 0) return undefined;
    this.keyStart = this.ints[n + 1]!;
    this.keyEnd = this.ints[n + 2]!;
    this.hash = hash;
    return this;
  }

  get keyBytes(): EncodedBytes {
    return this;
  }

  /** What a worker hands over: the columns' buffers move, the few built attributes are copied. */
  exported(): {
    times: Float64Array<ArrayBuffer>;
    ints: Int32Array<ArrayBuffer>;
    length: number;
    given?: (Attribute[] | undefined)[];
    invalid?: Map<number, string>;
  } {
    return { times: this.times, ints: this.ints, length: this.length, given: this.given, invalid: this.invalid };
  }

  /** The columns a worker handed over (none: the request had no gauge or sum), over the request's bytes it handed back. */
  static imported(buf: Buffer, read: AttributeReader, e: ReturnType<NumberPoints['exported']> | undefined): NumberPoints {
    const points = new NumberPoints(buf, 0, read, e);
    points.given = e?.given;
    points.invalid = e?.invalid;
    return points;
  }

  private grow(): void {
    const times = new Float64Array(2 * this.times.length);
    times.set(this.times);
    this.times = times;
    const ints = new Int32Array(2 * this.ints.length);
    ints.set(this.ints);
    this.ints = ints;
  }
}
