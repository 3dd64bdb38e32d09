import { describe, expect, it } from 'vitest';
import { FloatHistogram } from '../../../src/tsdb/float-histogram.js';
import { trimHistogram } from '../../../src/promql/functions/histogram-trim.js';

// Schema 0: (1, 2]:4 and (2, 4]:8, a zero bucket [-0.5, 0.5]:2 and [-2, -1):2.
const h = (): FloatHistogram =>
  new FloatHistogram({
    count: 16,
    sum: 20,
    zeroThreshold: 0.5,
    zeroCount: 2,
    positiveSpans: [{ offset: 1, length: 2 }],
    positiveBuckets: [4, 8],
    negativeSpans: [{ offset: 1, length: 1 }],
    negativeBuckets: [2],
  });

describe('trimming a native histogram', () => {
  it('leaves its operand as it was: operands are shared between series and steps', () => {
    const input = h();
    const out = trimHistogram(input, 3, true);
    expect(out).not.toBe(input);
    expect(input.toString()).toBe(h().toString());
    expect(out.positiveBuckets[1]).toBeCloseTo((8 * Math.log(1.5)) / Math.LN2, 12);
  });

  it('returns the histogram itself, count and sum untouched, when the cut removes nothing', () => {
    const input = h();
    expect(trimHistogram(input, Infinity, true)).toBe(input);
    expect(trimHistogram(input, -2, false)).toBe(input);
  });

  it('drops the buckets the cut removes whole instead of keeping them empty', () => {
    const out = trimHistogram(h(), 2, false);
    expect(out.positiveSpans).toEqual([{ offset: 2, length: 1 }]);
    expect(out.negativeBuckets).toEqual([]);
    expect(out.zeroCount).toBe(0);
    expect(out.count).toBe(8);
    expect(out.sum).toBeCloseTo(8 * Math.sqrt(8), 12);
  });
});
