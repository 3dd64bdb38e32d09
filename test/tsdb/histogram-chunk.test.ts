import { describe, expect, it } from 'vitest';
import { ChunkPool } from '../../src/tsdb/chunk-pool.js';
import { FloatHistogram, type CounterResetHint, type FloatHistogramFields } from '../../src/tsdb/float-histogram.js';
import { HistogramLane } from '../../src/tsdb/histogram-lane.js';

/** An OTLP-like cumulative histogram: `n` buckets from `offset` at scale 3, each grown by step-dependent counts. */
function cumulative(step: number, n = 52, offset = -32, fields: FloatHistogramFields = {}): FloatHistogram {
  const buckets = Array.from({ length: n }, (_, i) => step * ((i * 7 + 3) % 5) + (i % 3));
  const count = buckets.reduce((a, b) => a + b, 0);
  return new FloatHistogram({ schema: 3, count, sum: count * 0.37, positiveSpans: [{ offset, length: n }], positiveBuckets: buckets, ...fields });
}

function lane(samples: readonly (readonly [number, FloatHistogram])[]): { lane: HistogramLane; pool: ChunkPool } {
  const pool = new ChunkPool();
  const l = new HistogramLane(pool);
  for (const [t, h] of samples) l.put(t, h);
  return { lane: l, pool };
}

/** Expects the lane to read back exactly the samples, -0 and NaN included. */
function expectHolds(l: HistogramLane, samples: readonly (readonly [number, FloatHistogram])[]): void {
  const view = l.view();
  expect(view.ts).toEqual(samples.map(([t]) => t));
  expect(view.hs.map((h) => ({ ...h }))).toEqual(samples.map(([, h]) => ({ ...h })));
}

const NOW = 1_700_000_000_000;

describe('native histogram chunks', () => {
  it('round-trips integer counts over many chunks and keeps a 52-bucket histogram in under 100 bytes a sample', () => {
    const samples = Array.from({ length: 300 }, (_, i) => [NOW + i * 10_000, cumulative(i)] as const);
    const { lane: l } = lane(samples);
    expectHolds(l, samples);
    expect(l.bytes / samples.length).toBeLessThan(100);
  });

  it('round-trips float counts, and a lane switching between integer and float counts', () => {
    const odd = (i: number): FloatHistogram =>
      new FloatHistogram({
        count: i + 0.5,
        zeroCount: i % 3 === 0 ? -0 : 1 / 3,
        zeroThreshold: 1e-128,
        sum: i % 4 === 0 ? -Infinity : Math.PI * i,
        positiveSpans: [{ offset: 2, length: 3 }],
        positiveBuckets: [0.1 * i, i % 5 === 0 ? Infinity : 1e300, NaN],
        negativeSpans: [
          { offset: -3, length: 1 },
          { offset: 4, length: 1 },
        ],
        negativeBuckets: [2 ** 60 + 0.5 * 2 ** 10, Number.MIN_VALUE],
      });
    const samples = Array.from({ length: 40 }, (_, i) => [NOW + i * 15_000, i % 7 < 3 ? cumulative(i, 4, 0) : odd(i)] as const);
    expectHolds(lane(samples).lane, samples);
  });

  it('round-trips counts past what a 32-bit delta holds, negative deltas and negative zero', () => {
    const values = [0, 2 ** 53 - 1, -(2 ** 53) + 1, 5, -0, 0, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 7, 7];
    const samples = values.map(
      (v, i) => [NOW + i, new FloatHistogram({ count: v, zeroCount: -v, sum: v, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [v] })] as const,
    );
    expectHolds(lane(samples).lane, samples);
  });

  it('starts a new chunk at a change of schema, spans, zero threshold or custom bounds and reads each back', () => {
    const custom = (bounds: number[], k: number): FloatHistogram =>
      new FloatHistogram({ schema: -53, count: 3 * k, sum: k, customValues: bounds, positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [k, k, k] });
    const samples = [
      cumulative(1),
      cumulative(2, 52, -32, { schema: 2 }),
      cumulative(3, 53, -32),
      cumulative(4, 53, -31),
      cumulative(5, 53, -31, { zeroThreshold: 0.001, zeroCount: 4 }),
      cumulative(6, 53, -31, { zeroThreshold: 0.001, zeroCount: 4, negativeSpans: [{ offset: 1, length: 2 }], negativeBuckets: [1, 2] }),
      custom([0.1, 0.5], 1),
      custom([0.1, 0.5], 2),
      custom([0.1, 0.25, 0.5], 3),
      custom([-Infinity, 0.5], 4),
      new FloatHistogram(),
    ].map((h, i) => [NOW + i * 1000, h] as const);
    expectHolds(lane(samples).lane, samples);
  });

  it("keeps each sample's counter reset hint", () => {
    const hints: CounterResetHint[] = ['unknown', 'not_reset', 'not_reset', 'reset', 'gauge', 'gauge', 'unknown', 'not_reset', 'reset'];
    const samples = hints.map((counterResetHint, i) => [NOW + i * 1000, cumulative(i, 3, 0, { counterResetHint })] as const);
    expectHolds(lane(samples).lane, samples);
  });

  it('keeps the bit patterns of NaN sums and counts, the staleness marker among them', () => {
    const bits = new DataView(new ArrayBuffer(8));
    const nan = (hi: number, lo: number): number => {
      bits.setUint32(0, hi);
      bits.setUint32(4, lo);
      return bits.getFloat64(0);
    };
    const staleNaN = nan(0x7ff00000, 2);
    const other = nan(0xfff80000, 0x1234);
    const samples = [
      [NOW, cumulative(1, 2, 0)],
      [NOW + 1000, cumulative(2, 2, 0, { sum: staleNaN })],
      [NOW + 2000, cumulative(3, 2, 0, { sum: other, count: other })],
      [NOW + 3000, new FloatHistogram({ sum: staleNaN, count: 1.5 })],
      [NOW + 4000, new FloatHistogram({ sum: staleNaN, count: staleNaN })],
    ] as const;
    const read = lane(samples).lane.view().hs;
    const bitsOf = (v: number): string => {
      bits.setFloat64(0, v);
      return bits.getBigUint64(0).toString(16);
    };
    expect(read.map((h) => [bitsOf(h.sum), bitsOf(h.count)])).toEqual(samples.map(([, h]) => [bitsOf(h.sum), bitsOf(h.count)]));
    expect(bitsOf(read[1]!.sum)).toBe('7ff0000000000002');
  });

  it('holds what a plain list holds through out-of-order inserts, replacements and trims', () => {
    const { lane: l, pool } = lane([]);
    const model = new Map<number, FloatHistogram>();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let t = NOW;
    for (let i = 0; i < 600; i++) {
      const h = random(10) < 8 ? cumulative(i, 20) : cumulative(i, 20 + random(3), -30, { count: i / 3 });
      const at = random(10) < 7 ? (t += 1000 + random(3)) : t - random(20_000);
      if (at > model.size ? Math.min(...model.keys()) : -Infinity) {
        expect(l.put(at, h)).toBe(model.has(at));
        model.set(at, h);
      }
      if (i % 97 === 96) {
        const minT = t - 60_000 - random(60_000);
        for (const k of [...model.keys()]) if (k < minT) model.delete(k);
        expect(l.trimBefore(minT)).toBe(model.size);
      }
      if (i % 50 === 0)
        expectHolds(
          l,
          [...model.entries()].sort(([a], [b]) => a - b),
        );
    }
    expectHolds(
      l,
      [...model.entries()].sort(([a], [b]) => a - b),
    );
    l.free();
    expect(pool.bytesInUse).toBe(0);
  });

  it('decodes for a window only the chunks it reaches, from the first sample it needs', () => {
    const samples = Array.from({ length: 100 }, (_, i) => [NOW + i * 10_000, cumulative(i)] as const);
    const view = lane(samples).lane.view();
    const window = view.window(97, 100);
    expect(window.slice(97, 100).map((h) => h.count)).toEqual(samples.slice(97).map(([, h]) => h.count));
    expect(window.slice(0, 97).filter((h) => h !== undefined)).toEqual([]);
    expect(view.window(10, 12)[10]!.count).toBe(samples[10]![1].count);
    // The second window decoded from sample 10 to the end of its chunk, not the whole lane.
    expect(window.filter((h) => h !== undefined).length).toBeLessThan(40);
  });

  it('refuses to decode for a view once retention freed the chunks it points at', () => {
    const samples = Array.from({ length: 100 }, (_, i) => [NOW + i * 10_000, cumulative(i)] as const);
    const { lane: l } = lane(samples);
    const view = l.view();
    l.trimBefore(NOW + 800_000);
    expect(() => view.window(0, 1)).toThrow(/changed under a read/);
    expect(l.view().hs.map((h) => h.count)).toEqual(samples.slice(80).map(([, h]) => h.count));
  });
});
