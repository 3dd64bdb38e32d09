import { describe, expect, it } from 'vitest';
import { AppendStatus, Tsdb } from '../../src/tsdb/db.js';
import { FloatHistogram } from '../../src/tsdb/float-histogram.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { SeriesColumns } from '../../src/tsdb/series-columns.js';
import { Series } from '../../src/tsdb/series.js';

const labels = labelsFromRecord({ __name__: 'latency' });
const counter = (count: number): FloatHistogram =>
  new FloatHistogram({ count, sum: count, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [count] });

describe('native histogram samples in the store', () => {
  it('keeps them in a lane beside the floats, in time order, a repeated time replacing', () => {
    const db = new Tsdb();
    expect(db.appendHistogramLabels(labels, 2000, counter(2))).toBe(AppendStatus.Ok);
    expect(db.appendHistogramLabels(labels, 1000, counter(1))).toBe(AppendStatus.Ok);
    expect(db.appendLabels(labels, 3000, 7)).toBe(AppendStatus.Ok);
    expect(db.appendHistogramLabels(labels, 2000, counter(3))).toBe(AppendStatus.Duplicate);
    const s = db.get(labels)!;
    expect(s.length).toBe(1);
    expect(s.histograms!.ts).toEqual([1000, 2000]);
    expect(s.histograms!.hs.map((h) => h.count)).toEqual([1, 3]);
    expect(db.stats.samplesAppended).toBe(4);
  });

  it('marks a counter histogram that continues the one before as not reset, and one after a reset or a float as unknown', () => {
    const db = new Tsdb();
    db.appendHistogramLabels(labels, 1000, counter(1));
    db.appendHistogramLabels(labels, 2000, counter(2));
    db.appendHistogramLabels(labels, 3000, counter(1));
    db.appendLabels(labels, 4000, 1);
    db.appendHistogramLabels(labels, 5000, counter(5));
    const gauge = counter(6);
    gauge.counterResetHint = 'gauge';
    db.appendHistogramLabels(labels, 6000, gauge);
    expect(db.get(labels)!.histograms!.hs.map((h) => h.counterResetHint)).toEqual(['unknown', 'not_reset', 'unknown', 'unknown', 'gauge']);
  });

  it('refuses out-of-order and too-old histograms as it refuses floats', () => {
    const db = new Tsdb({ outOfOrderWindowMs: 1000, retentionMs: 10_000, now: () => 20_000 });
    expect(db.appendHistogramLabels(labels, 15_000, counter(1))).toBe(AppendStatus.Ok);
    expect(db.appendHistogramLabels(labels, 13_000, counter(1))).toBe(AppendStatus.OutOfOrder);
    expect(db.appendHistogramLabels(labels, 5_000, counter(1))).toBe(AppendStatus.TooOld);
  });

  it('trims histograms by retention and frees a series left with none', () => {
    let now = 10_000;
    const db = new Tsdb({ retentionMs: 5_000, now: () => now });
    db.appendHistogramLabels(labels, 6_000, counter(1));
    db.appendHistogramLabels(labels, 9_000, counter(2));
    now = 13_000;
    expect(db.gc()).toBe(0);
    expect(db.get(labels)!.histograms!.ts).toEqual([9_000]);
    now = 20_000;
    expect(db.gc()).toBe(1);
    expect(db.get(labels)).toBeUndefined();
  });

  it('keeps them in the blocks of the store, counted in the series bytes and given back when the series is freed', () => {
    const cols = new SeriesColumns<Series>(100);
    const s = new Series(labels, undefined, cols);
    for (let k = 1; k <= 40; k++) s.appendHistogram(k * 1000, counter(k), 0);
    expect(cols.pool.bytesInUse).toBeGreaterThan(0);
    expect(s.bufferBytes).toBe(cols.pool.bytesInUse);
    expect(s.histograms!.hs.map((h) => h.count)).toEqual(Array.from({ length: 40 }, (_, k) => k + 1));
    s.free();
    expect(cols.pool.bytesInUse).toBe(0);
  });
});
