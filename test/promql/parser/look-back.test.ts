import { describe, expect, it } from 'vitest';
import { earliestRead, lookBackOf } from '../../../src/promql/parser/look-back.js';
import { parseExpr } from '../../../src/promql/parser/parse.js';

const S = 1_000;
const M = 60 * S;
const DELTA = 5 * M;

function lookBack(query: string) {
  return lookBackOf(parseExpr(query), DELTA);
}

describe('lookBackOf', () => {
  it.each([
    ['sum(rate(x[1m]))', M],
    ['sum(x)', DELTA],
    ['rate(x[1m]) + y', DELTA],
    ['rate(x[10m] offset 2m)', 12 * M],
    ['x offset 1m', DELTA + M],
    ['max_over_time(rate(x[1m])[5m:30s])', 6 * M],
    ['max_over_time(x[5m:30s])', 5 * M + DELTA],
    ['max_over_time(max_over_time(rate(x[1m])[5m:])[10m:1m] offset 1m)', 17 * M],
    ['max_over_time(rate(x[1m] offset 1m)[5m:] offset 2m)', 9 * M],
    ['timestamp(x)', DELTA],
    ['absent_over_time(x[3m])', 3 * M],
    ['x offset -1m', DELTA - M],
    ['rate(x[1m] @ end())', M],
    ['max_over_time(rate(x[1m] @ start())[10m:])', M],
    ['info(rate(x[1m]))', DELTA],
    ['rate(x[5m * 2])', 10 * M],
    ['rate(x[1m] anchored)', M + DELTA],
    ['rate(x[1m] smoothed)', M + DELTA],
    ['x smoothed', DELTA],
  ])('%s reads %d ms back', (query, ms) => {
    expect(lookBack(query)).toEqual({ relativeMs: ms, fixedFromMs: undefined });
  });

  it('reads nothing for queries without selectors', () => {
    expect(lookBack('vector(1) + 2')).toEqual({ relativeMs: undefined, fixedFromMs: undefined });
    expect(earliestRead(lookBack('scalar(vector(4))'), 1_000 * M)).toBeUndefined();
  });

  it('pins what is under a fixed @ to that time, subqueries included', () => {
    const at = 1_700_000_000_000;
    expect(lookBack(`rate(x[1m] @ ${at / 1000})`)).toEqual({ relativeMs: undefined, fixedFromMs: at - M });
    expect(lookBack(`max_over_time(rate(x[1m])[5m:] @ ${at / 1000} offset 1m)`)).toEqual({ relativeMs: undefined, fixedFromMs: at - 7 * M });
    const both = lookBack(`sum(x @ ${at / 1000}) + sum(rate(y[2m]))`);
    expect(both).toEqual({ relativeMs: 2 * M, fixedFromMs: at - DELTA });
    expect(earliestRead(both, at + 100 * M)).toBe(at - DELTA);
    expect(earliestRead(both, at)).toBe(at - DELTA);
    expect(earliestRead(lookBack('rate(y[2m])'), at)).toBe(at - 2 * M);
  });

  it('follows the lookback delta it is given', () => {
    expect(lookBackOf(parseExpr('sum(x)'), 30 * S).relativeMs).toBe(30 * S);
  });

  it('leaves a duration an instant query cannot resolve to the evaluation, which reports it', () => {
    expect(lookBack('rate(x[step()])')).toEqual({ relativeMs: undefined, fixedFromMs: undefined });
  });
});
