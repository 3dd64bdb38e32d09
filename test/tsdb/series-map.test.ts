import { describe, expect, it } from 'vitest';
import { labelsHash, SeriesMap } from '../../src/tsdb/series-map.js';
import { SeriesColumns } from '../../src/tsdb/series-columns.js';
import { Series } from '../../src/tsdb/series.js';

/** Two label sets whose hashes collide, found by trying (about 2^15 tries for 30 bits). */
function collision(): [string[], string[]] {
  const seen = new Map<number, number>();
  for (let i = 0; ; i++) {
    const h = labelsHash(['job', `j${i}`]);
    const j = seen.get(h);
    if (j !== undefined)
      return [
        ['job', `j${j}`],
        ['job', `j${i}`],
      ];
    seen.set(h, i);
  }
}

describe('SeriesMap', () => {
  it('tells apart label sets whose hashes collide, and removes either', () => {
    const [a, b] = collision();
    const cols = new SeriesColumns<Series>(10);
    const map = new SeriesMap(cols);
    const sa = new Series(a, undefined, cols);
    const sb = new Series(b, undefined, cols);
    const other = new Series(['job', 'other'], undefined, cols);
    map.add(sa, a);
    expect(map.get(b)).toBeUndefined();
    map.add(sb, b);
    map.add(other, other.labels);
    expect([map.get(a), map.get(b), map.size]).toEqual([sa, sb, 3]);
    expect([...map.values()]).toEqual([sa, sb, other]);
    for (const s of map.values()) {
      if (s === other) continue;
      map.delete(s);
      s.free();
    }
    expect([map.get(a), map.get(b), map.get(['job', 'other']), map.size]).toEqual([undefined, undefined, other, 1]);
    map.delete(sa);
    expect(map.size).toBe(1);
  });

  it('finds every series through growth and deletions anywhere in a run of the table', () => {
    const cols = new SeriesColumns<Series>(10);
    const map = new SeriesMap(cols);
    const labels = (i: number) => ['job', `j${i}`];
    const all = Array.from({ length: 3000 }, (_, i) => {
      const s = new Series(labels(i), undefined, cols);
      map.add(s, labels(i));
      return s;
    });
    for (let i = 0; i < all.length; i += 3) {
      map.delete(all[i]!);
      all[i]!.free();
    }
    expect(map.size).toBe(2000);
    all.forEach((s, i) => expect(map.get(labels(i))).toBe(i % 3 === 0 ? undefined : s));
    const again = new Series(labels(0), undefined, cols);
    map.add(again, labels(0));
    expect([map.get(labels(0)), [...map.values()].length]).toEqual([again, 2001]);
  });

  it('hashes the label text, not how it is split', () => {
    expect(labelsHash(['ab', 'c'])).not.toBe(labelsHash(['a', 'bc']));
    expect(labelsHash(['a', 'b'])).toBe(labelsHash(['a', 'b'].slice()));
  });
});
