import { describe, expect, it } from 'vitest';
import { Coverage } from '../../src/tsdb/coverage.js';
import { Tsdb } from '../../src/tsdb/db.js';

/** Whether each time is covered, in order. */
const coveredAt = (c: Coverage, times: number[]) => times.map((t) => c.covers(t));

describe('Coverage', () => {
  it('covers from the live start on, and nothing before it by default', () => {
    const c = new Coverage(1_000);
    expect(coveredAt(c, [999, 1_000])).toEqual([false, true]);
    expect(c.gapFreeSinceMs).toBe(1_000);
  });

  it('covers a restored span, not the gap between it and the live span', () => {
    const c = new Coverage(10_000);
    c.addRestored({ fromMs: 2_000, toMs: 8_000 });
    expect(coveredAt(c, [1_999, 5_000, 9_000])).toEqual([false, true, false]);
    expect(c.gapFreeSinceMs).toBe(10_000);
  });

  it('merges overlapping spans, and a span reaching the live start closes the gap', () => {
    const c = new Coverage(10_000);
    c.addRestored({ fromMs: 2_000, toMs: 4_000 });
    c.addRestored({ fromMs: 3_000, toMs: 10_000 });
    expect(c.restored).toEqual([{ fromMs: 2_000, toMs: 10_000 }]);
    expect(c.gapFreeSinceMs).toBe(2_000);
  });

  it('starts the live span when the store begins receiving, not when it was created', () => {
    const c = new Coverage(1_000);
    c.addRestored({ fromMs: 0, toMs: 900 });
    c.startLive(3_000);
    expect(coveredAt(c, [2_000, 3_000, 500])).toEqual([false, true, true]);
    expect(c.gapFreeSinceMs).toBe(3_000);
  });

  it('forgets spans that retention has emptied', () => {
    const tsdb = new Tsdb({ retentionMs: 5_500, now: () => 20_000 });
    tsdb.coverage.addRestored({ fromMs: 1_000, toMs: 14_000 });
    tsdb.coverage.addRestored({ fromMs: 14_500, toMs: 14_900 });
    tsdb.gc(20_000);
    expect(tsdb.coverage.restored).toEqual([{ fromMs: 14_500, toMs: 14_900 }]);
  });

  it('covers the live span only up to the last vouch, when one is given (a replica that may have stalled)', () => {
    const c = new Coverage(1_000);
    c.vouchLive(5_000);
    expect(coveredAt(c, [4_000, 5_001])).toEqual([true, false]);
    c.vouchLive(9_000);
    expect(c.covers(5_001)).toBe(true);
  });
});
