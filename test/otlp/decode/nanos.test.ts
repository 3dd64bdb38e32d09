import { describe, expect, it } from 'vitest';
import { decimalNanosToMs, nanosToMs } from '../../../src/otlp/decode/nanos.js';

function halves(ns: bigint): [number, number] {
  return [Number(ns >> 32n), Number(ns & 0xffffffffn)];
}

describe('nanosToMs', () => {
  it('gives the exact whole millisecond where floating point lands just below it', () => {
    // 2^32/1e6 times the high half plus the low half over 1e6 is …081.9998 here.
    expect(nanosToMs(...halves(1796024718082n * 1_000_000n))).toBe(1796024718082);
  });

  // The old formula was wrong on a third of the milliseconds in this range.
  it('floors every nanosecond time to its millisecond, over a sweep of times and offsets', () => {
    const wrong: bigint[] = [];
    for (let ms = 1_796_024_700_000n; ms < 1_796_024_720_000n; ms += 7n) {
      for (const extra of [0n, 1n, 999_999n]) {
        const ns = ms * 1_000_000n + extra;
        if (nanosToMs(...halves(ns)) !== Number(ms)) wrong.push(ns);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('holds at the ends of the 64-bit range', () => {
    expect(nanosToMs(0, 0)).toBe(0);
    expect(nanosToMs(0xffffffff, 0xffffffff)).toBe(Number((2n ** 64n - 1n) / 1_000_000n));
  });
});

describe('decimalNanosToMs', () => {
  it('cuts decimal text to whole milliseconds without rounding through a double', () => {
    expect(decimalNanosToMs('1796024718082999999')).toBe(1796024718082);
    expect(decimalNanosToMs('999999')).toBe(0);
    expect(decimalNanosToMs(1_500_000)).toBe(1);
  });

  it('makes a negative time NaN, which translation rejects', () => {
    expect(decimalNanosToMs('-1')).toBeNaN();
    expect(decimalNanosToMs(-1)).toBeNaN();
  });
});
