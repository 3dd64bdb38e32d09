import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { apiGet, apiPost } from './http.js';

describe('/api/v1/format_query and /api/v1/parse_query', () => {
  const app = useTestApp();

  it('formats a short query on one line, canonically', async () => {
    const res = await apiGet(app, '/api/v1/format_query', { query: 'sum   by(job)(rate(x{b="2",a="1"}[5m]))' });
    expect(res.body).toEqual({ status: 'success', data: 'sum by (job) (rate(x{a="1", b="2"}[5m]))' });
  });

  it('splits a query longer than 100 characters the way Prometheus does', async () => {
    const query =
      'sum by (job) (rate(some_very_long_metric_name_here{a=~"b.*", instance="something-long"}[5m] offset 1m)) / on (job) group_left (a) max_over_time(another_long_metric_name[1h:5m])';
    const res = await apiPost(app, '/api/v1/format_query', { query });
    expect(res.body.data).toBe(
      [
        '  sum by (job) (',
        '    rate(some_very_long_metric_name_here{a=~"b.*", instance="something-long"}[5m] offset 1m)',
        '  )',
        '/ on (job) group_left (a)',
        '  max_over_time(another_long_metric_name[1h:5m])',
      ].join('\n'),
    );
    const call = await apiGet(app, '/api/v1/format_query', {
      query: 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{service="checkout"}[5m])))',
    });
    expect(call.body.data).toBe(
      ['histogram_quantile(', '  0.99,', '  sum by (le) (rate(http_server_request_duration_seconds_bucket{service="checkout"}[5m]))', ')'].join('\n'),
    );
  });

  it('returns the syntax tree with Prometheus node types, durations in ms and @ as start/end', async () => {
    const res = await apiGet(app, '/api/v1/parse_query', { query: 'topk(3, rate(x{a=~"b.*"}[5m] offset 1m @ start())) > bool 2' });
    expect(res.body.status).toBe('success');
    expect(res.body.data).toEqual({
      type: 'binaryExpr',
      op: '>',
      bool: true,
      matching: null,
      rhs: { type: 'numberLiteral', val: '2' },
      lhs: {
        type: 'aggregation',
        op: 'topk',
        grouping: [],
        without: false,
        param: { type: 'numberLiteral', val: '3' },
        expr: {
          type: 'call',
          func: { name: 'rate', argTypes: ['matrix'], variadic: 0, returnType: 'vector' },
          args: [
            {
              type: 'matrixSelector',
              name: 'x',
              range: 300_000,
              rangeExpr: null,
              offset: 60_000,
              offsetExpr: null,
              matchers: [
                { name: 'a', value: 'b.*', type: '=~' },
                { name: '__name__', value: 'x', type: '=' },
              ],
              timestamp: null,
              startOrEnd: 'start',
              anchored: false,
              smoothed: false,
            },
          ],
        },
      },
    });
  });

  it('writes vector matching, subqueries, fixed @ times and unary operators', async () => {
    const res = await apiGet(app, '/api/v1/parse_query', { query: '-(a * on (job) group_left (pod) b) + max_over_time(c[1h:5m] @ 100)' });
    const tree = res.body.data;
    expect(tree.lhs).toMatchObject({ type: 'unaryExpr', op: '-', expr: { type: 'parenExpr', expr: { type: 'binaryExpr', op: '*' } } });
    expect(tree.lhs.expr.expr.matching).toEqual({ card: 'many-to-one', labels: ['job'], on: true, include: ['pod'], fillValues: { lhs: null, rhs: null } });
    expect(tree.matching).toMatchObject({ card: 'one-to-one', labels: [], on: false });
    expect(tree.rhs.args[0]).toMatchObject({ type: 'subquery', range: 3_600_000, step: 300_000, timestamp: 100_000, startOrEnd: null });
  });

  it('writes a duration expression as Prometheus does: a number in parentheses is a wrapped unary plus', async () => {
    const res = await apiGet(app, '/api/v1/parse_query', { query: 'x offset (1m)' });
    expect(res.body.data).toMatchObject({
      type: 'vectorSelector',
      offset: 60_000,
      offsetExpr: { type: 'durationExpr', op: '+', lhs: null, rhs: { type: 'numberLiteral', val: '60', duration: true }, wrapped: true },
    });
  });

  it('rejects a query that does not parse with bad_data naming the parameter', async () => {
    for (const path of ['/api/v1/parse_query', '/api/v1/format_query']) {
      const res = await apiGet(app, path, { query: 'sum(' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis' });
    }
  });

  it('lays out and returns the tree of a 3,000-way chain, which Prometheus accepts', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((l) => `${l.repeat(40)}`);
    expect((await apiPost(app, '/api/v1/format_query', { query: `${a} or ${b} or ${c}` })).body.data).toBe(`  ${a} or ${b}\nor\n  ${c}`);
    const query = Array.from({ length: 3000 }, (_, i) => `m${i}`).join(' or ');
    const formatted = await apiPost(app, '/api/v1/format_query', { query });
    expect(formatted.status).toBe(200);
    expect(formatted.body.data.endsWith('\nor\n  m2999')).toBe(true);
    const parsed = await apiPost(app, '/api/v1/parse_query', { query });
    expect(parsed.status).toBe(200);
    let node = parsed.body.data as { type: string; lhs?: unknown; name?: string };
    let depth = 0;
    for (; node.type === 'binaryExpr'; depth++) node = node.lhs as typeof node;
    expect([depth, node.name]).toEqual([2999, 'm0']);
  });
});
