import { describe, expect, it } from 'vitest';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { formatDuration, formatExpr } from '../../../src/promql/parser/printer.js';
import { bin, num } from '../ast-builders.js';
import { shape } from '../shape.js';

describe('formatExpr', () => {
  it.each([
    ['foo', 'foo'],
    ['foo{job="api",a=~"x.*"}', 'foo{a=~"x.*", job="api"}'],
    ['{__name__=~"a|b"}', '{__name__=~"a|b"}'],
    ['{"my.metric", "service.name"="x"}', '{"service.name"="x", __name__="my.metric"}'],
    ['x offset 5m', 'x offset 5m'],
    ['x offset -90s', 'x offset -1m30s'],
    ['x @ 100', 'x @ 100.000'],
    ['x @ start() offset 1h', 'x @ start() offset 1h'],
    ['rate(x[300s])', 'rate(x[5m])'],
    ['x[1d] @ end()', 'x[1d] @ end()'],
    ['x[14d]', 'x[2w]'],
    ['x[90d]', 'x[90d]'],
    ['rate(x[5m])[1h:1m] offset 1m', 'rate(x[5m])[1h:1m] offset 1m'],
    ['x[5m:]', 'x[5m:]'],
    ['sum(x) by (a,b)', 'sum by (a, b) (x)'],
    ['sum without(a) (x)', 'sum without (a) (x)'],
    ['topk by (a) (3, x)', 'topk by (a) (3, x)'],
    ['count_values("v", x)', 'count_values("v", x)'],
    ['sum by ("service.name") (x)', 'sum by ("service.name") (x)'],
    ['a+on(b)group_left(c)d', 'a + on (b) group_left (c) d'],
    ['a > bool ignoring(b) group_right c', 'a > bool ignoring (b) group_right () c'],
    ['a and on() b', 'a and on () b'],
    ['-2 ^ 2', '-2 ^ 2'],
    ['(-2) ^ 2', '(-2) ^ 2'],
    ['1 - -1', '1 - -1'],
    ['-x', '-x'],
    ['"a\\nb\\"c"', '"a\\nb\\"c"'],
    ["'single'", '"single"'],
    ['`raw\\n`', '"raw\\\\n"'],
    ['"a\\xc5z"', '"a\\xc5z"'],
    ['Inf', '+Inf'],
    ['-Inf', '-Inf'],
    ['NaN', 'NaN'],
    ['1e21', '1000000000000000000000'],
    ['0.000001', '0.000001'],
    ['label_replace(x, "d", "$1", "s", "(.*)")', 'label_replace(x, "d", "$1", "s", "(.*)")'],
    ['time()', 'time()'],
  ])('%s prints as %s', (query, text) => {
    expect(formatExpr(parseExpr(query))).toBe(text);
  });

  it.each([
    'a or b and c unless d',
    '(a or b) and c',
    '2 ^ 3 ^ 2',
    '(2 ^ 3) ^ 2',
    '-2 ^ -3 ^ 2',
    'a - (b - c)',
    'a / b * c % d atan2 e',
    'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / on (job) group_left sum by (job) (rate(http_requests_total[5m]))',
    'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))',
    'max_over_time(deriv(rate(x[1m])[5m:1m])[1h:] @ 1700000000 offset -1w)',
    'x > bool 1 == bool 0',
    'quantile(0.5, -x) != ignoring (a, b) +y',
    '{"a.b"=~"c", __name__="d.e"} offset 1y2w',
    'vector(1) + scalar(x)',
    'limit_ratio(-0.5, x)',
  ])('round-trips %s', (query) => {
    const tree = parseExpr(query);
    expect(shape(parseExpr(formatExpr(tree)))).toEqual(shape(tree));
  });

  it('adds the parentheses a tree built in code needs', () => {
    expect(formatExpr(bin('*', bin('+', num(1), num(2)), num(3)))).toBe('(1 + 2) * 3');
    expect(formatExpr(bin('-', num(1), bin('-', num(2), num(3))))).toBe('1 - (2 - 3)');
    expect(formatExpr(bin('^', bin('^', num(2), num(3)), num(2)))).toBe('(2 ^ 3) ^ 2');
    expect(formatExpr(bin('^', num(-2), num(2)))).toBe('(-2) ^ 2');
    expect(formatExpr({ kind: 'UnaryExpr', op: '-', expr: bin('+', num(1), num(2)), pos: { start: 0, end: 0 } })).toBe('-(1 + 2)');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [86_400_000, '1d'],
    [7 * 86_400_000, '1w'],
    [365 * 86_400_000, '1y'],
    [366 * 86_400_000, '366d'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
