import { describe, expect, it } from 'vitest';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { mayGiveHistograms } from '../../../src/promql/parser/histogram-results.js';

const may = (q: string): boolean => mayGiveHistograms(parseExpr(q));

describe('whether a query may give native histograms, from its tree', () => {
  it('is certain only of numbers: histogram_* functions, float-only functions, counting aggregations, scalars', () => {
    for (const q of [
      '1 + 2',
      'scalar(h)',
      'histogram_quantile(0.99, sum(rate(h[1m])))',
      'histogram_count(rate(h[1m])) / histogram_sum(rate(h[1m]))',
      'histogram_fraction(0, 0.5, h)',
      'abs(h)',
      'count(h)',
      'max by (job) (h)',
      'quantile(0.5, h)',
      'absent(h)',
      'vector(1)',
      'sum(count(h)) * 2',
      '(histogram_avg(h))',
    ])
      expect(may(q), q).toBe(false);
  });

  it('leaves to the data what passes samples on or computes over their windows', () => {
    for (const q of [
      'h',
      'sum(rate(h[1m]))',
      'sum(h) / 2',
      '-h',
      'histogram_count(h) + h',
      'topk(1, h)',
      'sort_by_label(h, "job")',
      'label_replace(h, "a", "b", "c", "d")',
      'max_over_time(sum(h)[5m:1m])',
      'count(h) or h',
    ])
      expect(may(q), q).toBe(true);
  });
});
