import { describe, expect, it } from 'vitest';
import { FloatHistogram } from '../../../src/tsdb/float-histogram.js';
import { nativeFraction, nativeQuantile, nativeStdvar } from '../../../src/promql/functions/native-histogram.js';

// Schema 0, bucket 1: observations in (1, 2].
const oneBucket = new FloatHistogram({ count: 4, sum: 6, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [4] });

describe('native histogram estimates', () => {
  it('interpolates exponentially inside an exponential bucket', () => {
    expect(nativeQuantile(0.5, oneBucket).value).toBeCloseTo(Math.SQRT2, 12);
    expect(nativeQuantile(0, oneBucket).value).toBe(1);
    expect(nativeQuantile(1, oneBucket).value).toBe(2);
    expect(nativeFraction(1, Math.SQRT2, oneBucket)).toBeCloseTo(0.5, 12);
  });

  it('interpolates linearly in custom buckets, the lowest starting at 0', () => {
    const h = new FloatHistogram({ schema: -53, customValues: [1, 5], count: 4, sum: 5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [2, 2] });
    expect(nativeQuantile(0.25, h).value).toBeCloseTo(0.5, 12);
    expect(nativeQuantile(0.75, h).value).toBeCloseTo(3, 12);
    expect(nativeFraction(0, 3, h)).toBeCloseTo(0.75, 12);
  });

  it('counts a rank in the upper half down from the top, so a median between two buckets is the upper one’s lower bound', () => {
    // Buckets (-1, -0.5] and (0.5, 1], 4 observations each: the median lies in the gap between them.
    const bucketZero = [{ offset: 0, length: 1 }];
    const h = new FloatHistogram({ count: 8, sum: 0, positiveSpans: bucketZero, positiveBuckets: [4], negativeSpans: bucketZero, negativeBuckets: [4] });
    expect(nativeQuantile(0.5, h).value).toBe(0.5);
    expect(nativeQuantile(0.4999, h).value).toBeCloseTo(-0.5, 3);
  });

  it('returns the edges for quantiles out of range and NaN for an empty histogram', () => {
    expect(nativeQuantile(-1, oneBucket).value).toBe(-Infinity);
    expect(nativeQuantile(2, oneBucket).value).toBe(Infinity);
    expect(nativeQuantile(0.5, new FloatHistogram()).value).toBeNaN();
  });

  it('says when NaN observations void a quantile above every bucket', () => {
    const h = new FloatHistogram({ count: 5, sum: NaN, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [4] });
    expect(nativeQuantile(0.9, h)).toEqual({ value: NaN, nanObservations: 'void' });
    expect(nativeQuantile(0.5, h).nanObservations).toBe('skewed');
  });

  it('narrows the zero bucket to the side that has observations', () => {
    const h = new FloatHistogram({ zeroThreshold: 1, zeroCount: 2, count: 2 });
    expect(nativeQuantile(0.5, h).value).toBe(0);
    const pos = new FloatHistogram({ zeroThreshold: 0.5, zeroCount: 2, count: 4, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] });
    expect(nativeQuantile(0.25, pos).value).toBeCloseTo(0.25, 12);
  });

  it('estimates the variance from the buckets’ geometric midpoints', () => {
    // Two buckets, (1, 2] and (2, 4]: midpoints √2 and √8, mean 2.
    const h = new FloatHistogram({ count: 2, sum: 4, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 1] });
    const expected = ((Math.SQRT2 - 2) ** 2 + (Math.sqrt(8) - 2) ** 2) / 2;
    expect(nativeStdvar(h)).toBeCloseTo(expected, 12);
  });
});
