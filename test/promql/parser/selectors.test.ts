import { describe, expect, it } from 'vitest';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { infoTimeSource, metricNamesOf, orderFreeSelectors } from '../../../src/promql/parser/selectors.js';
import { agg, bin, call, mat, sel } from '../ast-builders.js';

const MIN = 60_000;

describe('what a query selects', () => {
  it('lists the metric names a query reads', () => {
    expect(metricNamesOf(bin('/', call('rate', mat(sel('b_total'), MIN)), agg('sum', sel('a'))))).toEqual(['a', 'b_total']);
    expect(metricNamesOf(parseExpr('{__name__="c"} or max_over_time(d[5m:1m])'))).toEqual(['c', 'd']);
  });

  it('finds the selectors whose order cannot show: under order-free aggregations only', () => {
    const names = (q: string): string[] => [...orderFreeSelectors(parseExpr(q))].map((vs) => vs.name).sort();
    expect(names('sum(rate(a[5m])) + count(b) + topk(1, c) + sum(sort(d)) + sum(label_replace(e, "x", "", "", ""))')).toEqual(['a', 'b']);
    expect(names('count_values("v", sum(a))')).toEqual(['a']);
    expect(names('a + b')).toEqual([]);
  });

  it("reads info()'s time from the first selector of its argument, shifted by the subqueries around it", () => {
    const first = (q: string) => infoTimeSource(parseExpr(q));
    expect(first('sum(a offset 1m) + b offset 2m')).toEqual({ at: undefined, offsetMs: MIN });
    expect(first('max_over_time(a[5m] offset 1m)')).toEqual({ at: undefined, offsetMs: MIN });
    expect(first('max_over_time((a offset 1m)[5m:1m] offset 2m)')).toEqual({ at: undefined, offsetMs: 3 * MIN });
    expect(first('max_over_time((a @ 100)[5m:1m] offset 2m)')).toEqual({ at: { kind: 'time', ms: 100_000 }, offsetMs: 0 });
    expect(first('vector(1)')).toBeUndefined();
  });
});
