import { beforeAll, describe, expect, it } from 'vitest';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { apiGet, apiPost, POINTS, STEP_MS, useSeededApp } from './http.js';
import { parseQuery } from '../../src/promql/parser/parse.js';

describe('/api/v1/query and /api/v1/query_range', () => {
  const { app, end } = useSeededApp();

  it('answers an instant vector in Prometheus JSON, sorted values as strings, time in float seconds', async () => {
    const res = await apiGet(app, '/api/v1/query', { query: 'queue_size', time: String(end / 1000) });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: expect.arrayContaining([
          { metric: { __name__: 'queue_size', job: 'a', instance: 'x' }, value: [end / 1000, '28.5'] },
          { metric: { __name__: 'queue_size', job: 'b', instance: 'y' }, value: [end / 1000, '81'] },
        ]),
      },
    });
    expect(res.body.data.result).toHaveLength(2);
  });

  it('answers the same through a form-encoded POST as through GET', async () => {
    const params = { query: 'sum by (job) (queue_size)', time: String(end / 1000) };
    const [viaGet, viaPost] = await Promise.all([apiGet(app, '/api/v1/query', params), apiPost(app, '/api/v1/query', params)]);
    expect(viaPost.status).toBe(200);
    expect(viaPost.body).toEqual(viaGet.body);
  });

  it('answers scalars and strings as [time, value] pairs', async () => {
    const t = end / 1000;
    expect((await apiGet(app, '/api/v1/query', { query: '1 + 2', time: String(t) })).body.data).toEqual({ resultType: 'scalar', result: [t, '3'] });
    expect((await apiGet(app, '/api/v1/query', { query: '"hi"', time: String(t) })).body.data).toEqual({ resultType: 'string', result: [t, 'hi'] });
    expect((await apiGet(app, '/api/v1/query', { query: '1/0', time: String(t) })).body.data.result[1]).toBe('+Inf');
    expect((await apiGet(app, '/api/v1/query', { query: '-1/0', time: String(t) })).body.data.result[1]).toBe('-Inf');
    expect((await apiGet(app, '/api/v1/query', { query: '0/0', time: String(t) })).body.data.result[1]).toBe('NaN');
  });

  it('writes values as Prometheus does: exponent form below 1e-6 and from 1e21, -0 kept', async () => {
    const t = end / 1000;
    const cases: [string, string][] = [
      ['1e-7', '1e-07'],
      ['-2.5e-9', '-2.5e-09'],
      ['0.000001', '0.000001'],
      ['1.5e300', '1.5e+300'],
      ['1e21', '1e+21'],
      ['123456789012345678901', '123456789012345680000'],
      ['0.18225000000000002', '0.18225000000000002'],
      ['0 * -1', '-0'],
    ];
    for (const [query, text] of cases) {
      expect((await apiGet(app, '/api/v1/query', { query, time: String(t) })).body.data.result[1], query).toBe(text);
    }
    expect((await apiGet(app, '/api/v1/query', { query: 'vector(1.5e300)', time: String(t) })).body.data.result[0].value[1]).toBe('1.5e+300');
    const range = await apiGet(app, '/api/v1/query_range', { query: 'vector(-1e-7)', start: String(t - 60), end: String(t), step: '60' });
    expect(range.body.data.result[0].values.map((v: [number, string]) => v[1])).toEqual(['-1e-07', '-1e-07']);
  });

  it('answers a range vector selector in an instant query as a matrix', async () => {
    const res = await apiGet(app, '/api/v1/query', { query: 'queue_size{job="a"}[1m]', time: String(end / 1000) });
    expect(res.body.data.resultType).toBe('matrix');
    const [series] = res.body.data.result;
    // A 1m window, left-open, holds the samples at end-45s, -30s, -15s and end.
    expect(series.values).toEqual([3, 2, 1, 0].map((k) => [(end - k * STEP_MS) / 1000, String((POINTS - 1 - k) * 1.5)]));
  });

  it('takes the time as RFC 3339 with fraction and offset as well as float seconds', async () => {
    const iso = new Date(end - 30_000).toISOString();
    const offset = new Date(end - 30_000 + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const fraction = ((end - 30_000) / 1000).toFixed(3);
    const expected = [{ metric: {}, value: [(end - 30_000) / 1000, String(28.5 - 3 + 81 + 2)] }];
    for (const time of [iso, offset, fraction]) {
      expect((await apiGet(app, '/api/v1/query', { query: 'sum(queue_size)', time })).body.data.result, time).toEqual(expected);
    }
  });

  it('evaluates at now when time is absent', async () => {
    const before = Date.now() / 1000;
    const res = await apiGet(app, '/api/v1/query', { query: 'time()' });
    const [t, v] = res.body.data.result;
    expect(t).toBeGreaterThanOrEqual(Math.floor(before));
    expect(Number(v)).toBeCloseTo(t, 3);
  });

  it('answers a range query as a matrix on the step grid, matching the engine', async () => {
    const params = { query: 'rate(requests_total[1m])', start: String((end - 120_000) / 1000), end: String(end / 1000), step: '30s' };
    const res = await apiPost(app, '/api/v1/query_range', params);
    expect(res.status).toBe(200);
    expect(res.body.data.resultType).toBe('matrix');
    const expected = app.engine.range(parseQuery('rate(requests_total[1m])'), end - 120_000, end, 30_000).value;
    if (expected.type !== 'matrix') throw new Error('expected a matrix');
    expect(res.body.data.result).toEqual(
      expected.series.map((s) => ({
        metric: { code: '200', job: 'a' },
        values: s.timestamps.map((t, i) => [t / 1000, String(s.values[i])]),
      })),
    );
    expect(res.body.data.result[0].values.map((p: [number, string]) => p[0])).toEqual([120, 90, 60, 30, 0].map((k) => (end - k * 1000) / 1000));
  });

  it('takes step as float seconds or a duration, and times in RFC 3339', async () => {
    const base = { query: 'sum(queue_size)', start: new Date(end - 60_000).toISOString(), end: new Date(end).toISOString() };
    const a = await apiGet(app, '/api/v1/query_range', { ...base, step: '15' });
    const b = await apiGet(app, '/api/v1/query_range', { ...base, step: '15s' });
    const c = await apiGet(app, '/api/v1/query_range', { ...base, step: '15000ms' });
    expect(a.body.data.result[0].values).toHaveLength(5);
    expect(b.body).toEqual(a.body);
    expect(c.body).toEqual(a.body);
  });

  it('rejects bad parameters with bad_data and Prometheus messages', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ query: 'up', start: 'soon', end: '10', step: '1' }, 'invalid parameter "start": cannot parse "soon" to a valid timestamp'],
      [{ query: 'up', start: '10', end: 'x', step: '1' }, 'invalid parameter "end": cannot parse "x" to a valid timestamp'],
      [{ query: 'up', start: '10', end: '5', step: '1' }, 'invalid parameter "end": end timestamp must not be before start time'],
      [{ query: 'up', start: '0', end: '10', step: 'often' }, 'invalid parameter "step": cannot parse "often" to a valid duration'],
      [
        { query: 'up', start: '0', end: '10', step: '0' },
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      ],
      [
        { query: 'up', start: '0', end: '10', step: '-5' },
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      ],
      [
        { query: 'up', start: '0', end: '11001', step: '1' },
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      ],
      [{ query: 'sum(', start: '0', end: '10', step: '1' }, 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis'],
      [
        { query: 'up[5m]', start: '0', end: '10', step: '1' },
        'invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector',
      ],
    ];
    for (const [params, error] of cases) {
      const res = await apiPost(app, '/api/v1/query_range', params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.body, JSON.stringify(params)).toEqual({ status: 'error', errorType: 'bad_data', error });
    }
    const ok = await apiPost(app, '/api/v1/query_range', { query: '1', start: '0', end: '11000', step: '1' });
    expect(ok.status).toBe(200);
  });

  it('rejects a bad instant query and a bad time with bad_data', async () => {
    const parse = await apiGet(app, '/api/v1/query', { query: 'foo(' });
    expect(parse.status).toBe(400);
    expect(parse.body.errorType).toBe('bad_data');
    expect(parse.body.error).toMatch(/^invalid parameter "query": 1:\d+: parse error: /);
    const empty = await apiGet(app, '/api/v1/query', {});
    expect(empty.body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:1: parse error: no expression found in input' });
    const time = await apiGet(app, '/api/v1/query', { query: '1', time: 'yesterday' });
    expect(time.body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: `invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`,
    });
    const timeout = await apiGet(app, '/api/v1/query', { query: '1', timeout: 'forever' });
    expect(timeout.body.error).toBe('invalid parameter "timeout": cannot parse "forever" to a valid duration');
    const limit = await apiGet(app, '/api/v1/query', { query: '1', limit: '-1' });
    expect(limit.body.error).toBe('invalid parameter "limit": limit must be non-negative');
  });

  it('reports evaluation failures as execution errors with status 422', async () => {
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'dup', side: 'l', k: '1' }), end, 1);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'dup', side: 'l', k: '2' }), end, 1);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'other', side: 'l' }), end, 1);
    const res = await apiGet(app, '/api/v1/query', { query: 'other + ignoring(k) dup', time: String(end / 1000) });
    expect(res.status).toBe(422);
    expect(res.body.status).toBe('error');
    expect(res.body.errorType).toBe('execution');
    expect(res.body.error).toMatch(/many-to-many|multiple matches/);
  });

  it('truncates to limit with a warning, and passes on the engine warnings and infos', async () => {
    const res = await apiGet(app, '/api/v1/query', { query: 'queue_size', time: String(end / 1000), limit: '1' });
    expect(res.body.data.result).toHaveLength(1);
    expect(res.body.warnings).toEqual(['results truncated due to limit']);
    const info = await apiGet(app, '/api/v1/query', { query: 'rate(queue_size[1m])', time: String(end / 1000) });
    expect(info.body.status).toBe('success');
    expect(info.body.infos?.join('\n')).toMatch(/does not end in _total/);
  });

  describe('long chains of operators, which Prometheus accepts', () => {
    const chain = (n: number, term: (i: number) => string, op: string): string => Array.from({ length: n }, (_, i) => term(i)).join(` ${op} `);
    const at = (): string => String(end / 1000);
    /** The answers below are Prometheus 2.42's for the same data (promtool test rules). */
    beforeAll(() => {
      const put = (name: string, labels: Record<string, string>, v: number): void =>
        void app.tsdb.appendLabels(labelsFromRecord({ __name__: name, ...labels }), end, v);
      put('m0', { a: 'x', b: '1' }, 1);
      put('m1', { a: 'x', b: '2' }, 2);
      put('m2', { a: 'x', b: '3' }, 3);
      put('m7', { a: 'x', b: '1' }, 7);
      put('m2999', { a: 'y' }, 9);
    });

    it('answers a 3,000-way or: each label set from the first operand that has it', async () => {
      const res = await apiPost(app, '/api/v1/query', { query: chain(3000, (i) => `m${i}`, 'or'), time: at() });
      expect(res.status).toBe(200);
      expect(res.body.data.result).toEqual(
        expect.arrayContaining([
          { metric: { __name__: 'm0', a: 'x', b: '1' }, value: [end / 1000, '1'] },
          { metric: { __name__: 'm1', a: 'x', b: '2' }, value: [end / 1000, '2'] },
          { metric: { __name__: 'm2', a: 'x', b: '3' }, value: [end / 1000, '3'] },
          { metric: { __name__: 'm2999', a: 'y' }, value: [end / 1000, '9'] },
        ]),
      );
      expect(res.body.data.result).toHaveLength(4);
    });

    it('answers a 3,000-way +, with on() on every operator, and over a range', async () => {
      const plain = await apiPost(app, '/api/v1/query', { query: chain(3000, (i) => `vector(${i})`, '+'), time: at() });
      expect(plain.body.data.result).toEqual([{ metric: {}, value: [end / 1000, '4498500'] }]);
      const on = await apiPost(app, '/api/v1/query', { query: chain(3000, (i) => `m${i % 3}`, '+ on(a)'), time: at() });
      expect(on.body.data.result).toEqual([{ metric: { a: 'x' }, value: [end / 1000, '6000'] }]);
      const range = await apiPost(app, '/api/v1/query_range', {
        query: chain(3000, () => 'vector(1)', '+'),
        start: String(end / 1000 - 60),
        end: at(),
        step: '30',
      });
      expect(range.body.data.result).toEqual([{ metric: {}, values: [0, 1, 2].map((k) => [end / 1000 - 60 + 30 * k, '3000']) }]);
    });

    it('keeps precedence and bool inside and across the pieces of a chain', async () => {
      const mixed = await apiPost(app, '/api/v1/query', { query: chain(1500, (i) => `vector(${i}) * 2 - 1`, '+'), time: at() });
      expect(mixed.body.data.result).toEqual([{ metric: {}, value: [end / 1000, '2247000'] }]);
      const compared = await apiPost(app, '/api/v1/query', { query: chain(3000, () => 'vector(1)', '== bool'), time: at() });
      expect(compared.body.data.result).toEqual([{ metric: {}, value: [end / 1000, '1'] }]);
    });

    it('binds an operator after a modifier to the nearest operand, as Prometheus does', async () => {
      // m1 - (m1 @ t * 2); (m1 - m1 @ t) * 2 would be 0.
      const res = await apiPost(app, '/api/v1/query', { query: `m1 - m1 @ ${at()} * 2`, time: at() });
      expect(res.body.data.result).toEqual([{ metric: { a: 'x', b: '2' }, value: [end / 1000, '-2'] }]);
    });

    it('names the position of a fault inside a long chain, and of parentheses nested too deeply', async () => {
      const fault = async (query: string): Promise<string | undefined> => {
        const res = await apiPost(app, '/api/v1/query', { query, time: at() });
        expect(res.status).toBe(400);
        return res.body.error;
      };
      const doubled = chain(3000, (i) => (i === 2000 ? '*' : `m${i}`), 'or');
      expect(await fault(doubled)).toBe(`invalid parameter "query": 1:${doubled.indexOf('*') + 1}: parse error: unexpected <op:*>`);
      const unquoted = chain(3000, (i) => (i === 2000 ? 'm{a=b}' : `m${i}`), '+');
      expect(await fault(unquoted)).toBe(
        `invalid parameter "query": 1:${unquoted.indexOf('=b') + 2}: parse error: unexpected identifier "b" in label matching, expected string`,
      );
      expect(await fault(`${'('.repeat(3000)}x${')'.repeat(3000)}`)).toBe(
        'invalid parameter "query": 1:1001: parse error: expression nested too deeply, more than 1000 levels',
      );
    });
  });
});
