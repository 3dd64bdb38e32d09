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
    const map = new SeriesMap();
    const sa = new Series(a, undefined, new SeriesColumns(10));
    const sb = new Series(b, undefined, new SeriesColumns(10));
    const other = new Series(['job', 'other'], undefined, new SeriesColumns(10));
    map.add(sa, a);
    expect(map.get(b)).toBeUndefined();
    map.add(sb, b);
    map.add(other, other.labels);
    expect([map.get(a), map.get(b), map.size]).toEqual([sa, sb, 3]);
    expect([...map.values()]).toEqual([sa, sb, other]);
    for (const s of map.values()) if (s !== other) map.delete(s);
    expect([map.get(a), map.get(b), map.get(['job', 'other']), map.size]).toEqual([undefined, undefined, other, 1]);
    map.delete(sa);
    expect(map.size).toBe(1);
  });

  it('hashes the label text, not how it is split', () => {
    expect(labelsHash(['ab', 'c'])).not.toBe(labelsHash(['a', 'bc']));
    expect(labelsHash(['a', 'b'])).toBe(labelsHash(['a', 'b'].slice()));
  });
});
