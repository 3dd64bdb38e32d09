/** 2^32 ns is 4294 ms and 967,296 ns. */
const MS_IN_2_32_NS = 4294;
const NS_LEFT_IN_2_32_NS = 967_296;

/**
 * Unsigned 64-bit nanoseconds, as their high and low 32-bit halves, to whole milliseconds,
 * exactly. Multiplying the high half by 2^32 / 1e6 in floating point lands just below a whole
 * millisecond for many times (…082 ms came out …081.9998, stored as …081), so the sum is split
 * into whole milliseconds and a remainder below 2^53 that divides exactly.
 */
export function nanosToMs(high: number, low: number): number {
  const rest = high * NS_LEFT_IN_2_32_NS + low;
  const restNs = rest % 1e6;
  return high * MS_IN_2_32_NS + (rest - restNs) / 1e6;
}

/**
 * The fixed64 nanoseconds at `at` in `view` as whole milliseconds, written to `out[index]`: the
 * number stays unboxed, where returned from a call it would be a heap number a time.
 */
export function putNanosAsMs(view: DataView, at: number, out: Float64Array, index: number): void {
  out[index] = nanosToMs(view.getUint32(at + 4, true), view.getUint32(at, true));
}

/**
 * Decimal nanoseconds (OTLP/JSON's integers, as text or as a number) to whole milliseconds; the
 * text is cut, so no precision is lost. A negative time is one no fixed64 can hold: NaN, which
 * translation rejects point by point.
 */
export function decimalNanosToMs(v: string | number): number {
  if (typeof v === 'number') return v < 0 ? NaN : Math.floor(v / 1e6);
  if (v.startsWith('-')) return NaN;
  return v.length > 6 ? Number(v.slice(0, -6)) : 0;
}
