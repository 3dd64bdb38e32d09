import { describe, expect, it } from 'vitest';
import { AppendStatus, Series } from '../../src/tsdb/series.js';

function samples(s: Series): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < s.length; i++) out.push([s.timestampAt(i), s.valueAt(i)]);
  return out;
}

describe('Series ring buffer', () => {
  it('keeps samples in time order while growing past its initial size', () => {
    const s = new Series(1, ['__name__', 'x'], undefined, 100);
    for (let t = 1; t <= 20; t++) expect(s.append(t * 10, t, false, 0)).toBe(AppendStatus.Ok);
    expect(s.length).toBe(20);
    expect(samples(s)[19]).toEqual([200, 20]);
    expect(s.lowerBound(55)).toBe(5);
    expect(s.upperBound(50)).toBe(5);
    expect(s.upperBound(1000)).toBe(20);
  });

  it('overwrites the oldest sample once full', () => {
    const s = new Series(1, [], undefined, 4);
    for (let t = 1; t <= 6; t++) s.append(t, t * 10, false, 0);
    expect(samples(s)).toEqual([
      [3, 30],
      [4, 40],
      [5, 50],
      [6, 60],
    ]);
  });

  it('inserts out-of-order samples inside the window, rejects older ones, overwrites duplicates', () => {
    const s = new Series(1, [], undefined, 16);
    s.append(10, 1, false, 5);
    s.append(20, 2, false, 5);
    expect(s.append(17, 9, false, 5)).toBe(AppendStatus.Ok);
    expect(s.append(12, 9, false, 5)).toBe(AppendStatus.OutOfOrder);
    expect(s.append(20, 3, false, 5)).toBe(AppendStatus.Duplicate);
    expect(s.append(17, 4, false, 5)).toBe(AppendStatus.Duplicate);
    expect(samples(s)).toEqual([
      [10, 1],
      [17, 4],
      [20, 3],
    ]);
  });

  it('inserts in order when full, dropping the oldest', () => {
    const s = new Series(1, [], undefined, 3);
    s.append(10, 1, false, 100);
    s.append(20, 2, false, 100);
    s.append(30, 3, false, 100);
    s.append(25, 9, false, 100);
    expect(samples(s)).toEqual([
      [20, 2],
      [25, 9],
      [30, 3],
    ]);
  });

  it('flags staleness markers apart from NaN values', () => {
    const s = new Series(1, [], undefined, 8);
    s.append(1, NaN, false, 0);
    s.append(2, NaN, true, 0);
    s.append(3, 5, false, 0);
    expect([s.isStaleAt(0), s.isStaleAt(1), s.isStaleAt(2)]).toEqual([false, true, false]);
    expect(Number.isNaN(s.valueAt(0))).toBe(true);
  });

  it('copies the non-stale samples of a left-open window, across the wrap of the ring', () => {
    const s = new Series(1, [], undefined, 8);
    // 12 samples into 8 slots: the ring has wrapped and holds t = 50..120.
    for (let t = 10; t <= 120; t += 10) s.append(t, t / 10, t === 90, 0);
    const ts = new Float64Array(s.length);
    const vs = new Float64Array(s.length);
    const window = (from: number, to: number) => {
      const n = s.copyWindow(from, to, ts, vs);
      return Array.from(ts.subarray(0, n), (t, i) => [t, vs[i]]);
    };
    expect(window(60, 100)).toEqual([
      [70, 7],
      [80, 8],
      [100, 10],
    ]);
    expect(window(100, 1000)).toEqual([
      [110, 11],
      [120, 12],
    ]);
    expect(window(0, 55)).toEqual([[50, 5]]);
    expect(window(120, 130)).toEqual([]);
    expect(window(0, 40)).toEqual([]);
  });

  it('copies the values and only the end timestamps of a window when asked', () => {
    const s = new Series(1, [], undefined, 8);
    for (let t = 10; t <= 120; t += 10) s.append(t, t / 10, false, 0);
    const ts = new Float64Array(s.length);
    const vs = new Float64Array(s.length);
    const n = s.copyWindow(60, 100, ts, vs, true);
    expect(Array.from(vs.subarray(0, n))).toEqual([7, 8, 9, 10]);
    expect([ts[0], ts[n - 1]]).toEqual([70, 100]);
    expect(s.copyWindow(120, 130, ts, vs, true)).toBe(0);
  });

  it('trims samples before a time', () => {
    const s = new Series(1, [], undefined, 8);
    for (let t = 1; t <= 5; t++) s.append(t, t, false, 0);
    expect(s.trimBefore(4)).toBe(2);
    expect(samples(s)).toEqual([
      [4, 4],
      [5, 5],
    ]);
  });
});
