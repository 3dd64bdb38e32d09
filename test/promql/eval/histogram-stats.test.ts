import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/promql/ast.js';
import { CountAndSumHints, countAndSumSelectors } from '../../../src/promql/eval/histogram-stats.js';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { walk } from '../../../src/promql/parser/walk.js';
import { FloatHistogram } from '../../../src/tsdb/float-histogram.js';
import { HistogramSamples } from '../../../src/tsdb/histogram-samples.js';

/** The metric names of the selectors read for count and sum only. */
function countAndSum(query: string): string[] {
  const e: Expr = parseExpr(query);
  const found = countAndSumSelectors(e);
  const names: string[] = [];
  walk(e, undefined, (n) => {
    if (n.kind === 'VectorSelector' && found.has(n)) names.push(n.name);
  });
  return names;
}

const noFloats = { length: 0, timestampAt: () => 0 };

function counter(counts: number[]): HistogramSamples {
  return new HistogramSamples(
    counts.map((_, i) => i * 60_000),
    counts.map((c) => new FloatHistogram({ count: c, sum: c, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [c] })),
  );
}

describe('countAndSumSelectors', () => {
  it('finds the selectors under histogram_count, histogram_sum and histogram_avg, through aggregations and range functions', () => {
    expect(countAndSum('histogram_count(sum(rate(a[5m]))) + histogram_avg(b) + c')).toEqual(['a', 'b']);
  });

  it('leaves out selectors under a subquery, a function reading buckets or a trim operator', () => {
    expect(countAndSum('histogram_count(last_over_time(a[5m:1m]))')).toEqual([]);
    expect(countAndSum('histogram_sum(histogram_quantile(0.5, a))')).toEqual([]);
    expect(countAndSum('histogram_count(a </ 5)')).toEqual([]);
  });
});

describe('CountAndSumHints', () => {
  it('works out reset or not_reset against the histogram read before, except for the first one read', () => {
    const lane = counter([1, 2, 1, 3]);
    const hints = new CountAndSumHints(lane, noFloats);
    hints.step(0, 180_000, 4);
    expect(hints.window(0, lane.length).map((h) => h.counterResetHint)).toEqual(['unknown', 'not_reset', 'reset', 'not_reset']);
    expect(lane.hs.every((h) => h.counterResetHint === 'unknown')).toBe(true);
  });

  it('starts afresh when a step begins beyond where the previous one stopped', () => {
    const lane = counter([1, 2, 1, 3, 0, 5]);
    const hints = new CountAndSumHints(lane, noFloats);
    hints.step(0, 60_000, 2);
    hints.step(179_000, 240_000, 5);
    expect(hints.window(0, lane.length).map((h) => h.counterResetHint)).toEqual(['unknown', 'not_reset', 'unknown', 'unknown', 'reset', 'unknown']);
  });
});
