import { describe, expect, it } from 'vitest';
import { FloatHistogram, MixedSchemasError } from '../../src/tsdb/float-histogram.js';

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('FloatHistogram', () => {
  it('adds histograms of different schemas at the coarser one, merging the finer buckets', () => {
    // Schema 1 buckets 1 and 2 are (1, √2] and (√2, 2]: together bucket 1 of schema 0, (1, 2].
    const fine = new FloatHistogram({ schema: 1, count: 2, sum: 3, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 1] });
    const coarse = new FloatHistogram({ schema: 0, count: 3, sum: 9, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 2] });
    const sum = fine.add(coarse);
    expect(sum.schema).toBe(0);
    expect(sum.count).toBe(5);
    expect(sum.sum).toBe(12);
    expect(sum.positive()).toEqual({ idx: [1, 2], cnt: [3, 2] });
    expect(sum.counterResetHint).toBe('unknown');
  });

  it('subtracts bucket by bucket and keeps empty buckets until compacted', () => {
    const a = new FloatHistogram({ count: 4, sum: 4, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 1] });
    const b = new FloatHistogram({ count: 2, sum: 2, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1] });
    const d = a.sub(b);
    expect(d.positiveBuckets).toEqual([0, 1, 1]);
    d.compact();
    expect(d.positiveSpans).toEqual([{ offset: 1, length: 2 }]);
    expect(d.positiveBuckets).toEqual([1, 1]);
  });

  it('moves buckets inside a wider zero bucket into its count', () => {
    const narrow = new FloatHistogram({ count: 3, positiveSpans: [{ offset: -1, length: 2 }], positiveBuckets: [1, 2] });
    const wide = new FloatHistogram({ zeroThreshold: 0.5, zeroCount: 1, count: 1 });
    const sum = narrow.add(wide);
    expect(sum.zeroThreshold).toBe(0.5);
    // Bucket -1 is (0.25, 0.5], inside [-0.5, 0.5].
    expect(sum.zeroCount).toBe(2);
    expect(sum.positive()).toEqual({ idx: [0], cnt: [2] });
  });

  it('refuses to add exponential and custom buckets', () => {
    const exp = new FloatHistogram({ count: 1 });
    const custom = new FloatHistogram({ schema: -53, customValues: [1], count: 1 });
    expect(() => exp.add(custom)).toThrow(MixedSchemasError);
  });

  it('reconciles custom buckets with different bounds to the bounds both have, and says so', () => {
    const a = new FloatHistogram({ schema: -53, customValues: [1, 5, 10], count: 3, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1] });
    const b = new FloatHistogram({ schema: -53, customValues: [5, 10], count: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1] });
    const notes = { reconciled: false };
    const sum = a.add(b, notes);
    expect(notes.reconciled).toBe(true);
    expect(sum.customValues).toEqual([5, 10]);
    expect(sum.positive()).toEqual({ idx: [0, 1], cnt: [3, 1] });
  });

  it('scales every count and the sum', () => {
    const h = new FloatHistogram({ zeroCount: 2, count: 4, sum: 8, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [2] }).mul(0.5);
    expect([h.zeroCount, h.count, h.sum, h.positiveBuckets[0]]).toEqual([1, 2, 4, 1]);
  });

  it('reduces resolution by merging neighbouring buckets, negative indexes included', () => {
    const h = new FloatHistogram({ schema: 2, count: 4, positiveSpans: [{ offset: -1, length: 4 }], positiveBuckets: [1, 1, 1, 1] });
    // At schema 0, indexes -1, 0 map to 0 and 1, 2 to 1.
    expect(h.reduceResolution(0).positive()).toEqual({ idx: [0, 1], cnt: [2, 2] });
  });

  it('detects a counter reset when a bucket falls, not when buckets only grow', () => {
    const prev = new FloatHistogram({ count: 2, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 1] });
    const grown = new FloatHistogram({ count: 3, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 1, 1] });
    const moved = new FloatHistogram({ count: 2, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 1] });
    expect(grown.detectReset(prev)).toBe(false);
    expect(moved.detectReset(prev)).toBe(true);
  });

  it('lists buckets with their bounds in value order', () => {
    const h = new FloatHistogram({
      zeroThreshold: 0.001,
      zeroCount: 1,
      count: 3,
      positiveSpans: [{ offset: 1, length: 1 }],
      positiveBuckets: [1],
      negativeSpans: [{ offset: 2, length: 1 }],
      negativeBuckets: [1],
    });
    expect(h.buckets()).toEqual([
      { lower: -4, upper: -2, count: 1, kind: 'negative' },
      { lower: -0.001, upper: 0.001, count: 1, kind: 'zero' },
      { lower: 1, upper: 2, count: 1, kind: 'positive' },
    ]);
  });

  it('compares equal within a tolerance whatever the empty buckets', () => {
    const a = new FloatHistogram({ count: 1, sum: 1, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [0, 1] });
    const b = new FloatHistogram({ count: 1, sum: 1 + 1e-12, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [1] });
    expect(a.equals(b, close)).toBe(true);
    expect(a.equals(new FloatHistogram({ count: 1, sum: 1 }), close)).toBe(false);
    expect(b.toString()).toBe('{{count:1 sum:1.000000000001 offset:1 buckets:[1]}}');
  });
});
