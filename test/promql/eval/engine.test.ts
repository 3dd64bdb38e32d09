import { describe, expect, it } from 'vitest';
import { Engine } from '../../../src/promql/eval/engine.js';
import { EvalError, QueryTimeoutError, TooManySamplesError } from '../../../src/promql/errors.js';
import type { QueryValue } from '../../../src/promql/value.js';
import { MAX_NESTING, parseQuery } from '../../../src/promql/parser/parse.js';
import { Tsdb } from '../../../src/tsdb/db.js';
import { labelsFromRecord, labelsToRecord } from '../../../src/tsdb/labels.js';
import { Matcher } from '../../../src/tsdb/matcher.js';
import { agg, bin, call, mat, num, sel, subquery } from '../ast-builders.js';

const MIN = 60_000;

function db(series: Record<string, number[]>, intervalMs = MIN): Tsdb {
  const d = new Tsdb();
  for (const [key, values] of Object.entries(series)) {
    const [name, rest] = key.split('|');
    const labels: Record<string, string> = { __name__: name! };
    for (const kv of (rest ?? '').split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      labels[k!] = v!;
    }
    values.forEach((v, i) => d.appendLabels(labelsFromRecord(labels), i * intervalMs, v));
  }
  return d;
}

function vector(v: QueryValue): Record<string, number> {
  if (v.type !== 'vector') throw new Error(`expected a vector, got ${v.type}`);
  const out: Record<string, number> = {};
  for (const s of v.samples) out[JSON.stringify(labelsToRecord(s.labels))] = s.v;
  return out;
}

describe('Engine on hand-built expressions', () => {
  it('selects the newest sample inside the lookback window, left-open', () => {
    const e = new Engine(db({ 'up|job=a': [1, 2, 3] }), { lookbackDeltaMs: 2 * MIN });
    expect(vector(e.instant({ tree: sel('up') }, 2 * MIN).value)).toEqual({ '{"__name__":"up","job":"a"}': 3 });
    // At 4m the 2m sample is exactly lookback old: the window (2m, 4m] excludes it.
    expect(vector(e.instant({ tree: sel('up') }, 4 * MIN).value)).toEqual({});
  });

  it('ends a series at a staleness marker', () => {
    const d = db({ up: [1] });
    d.appendLabels(labelsFromRecord({ __name__: 'up' }), MIN, NaN, true);
    const e = new Engine(d);
    expect(vector(e.instant({ tree: sel('up') }, 30_000).value)).toEqual({ '{"__name__":"up"}': 1 });
    expect(vector(e.instant({ tree: sel('up') }, 2 * MIN).value)).toEqual({});
  });

  it('computes an extrapolated rate and sums it, dropping the metric name', () => {
    const e = new Engine(db({ 'req_total|i=a': [0, 60, 120, 180], 'req_total|i=b': [0, 120, 240, 360] }));
    const q = agg('sum', call('rate', mat(sel('req_total'), 2 * MIN)));
    // The window (1m, 3m] holds the 2m and 3m samples (1m is on its open edge); the increase is
    // extrapolated over the whole 2m window: 1/s and 2/s.
    expect(vector(e.instant({ tree: q }, 3 * MIN).value)).toEqual({ '{}': 3 });
  });

  it('applies arithmetic between vectors on matching labels and drops __name__', () => {
    const e = new Engine(db({ 'a|x=1': [10], 'b|x=1': [4], 'b|x=2': [5] }));
    expect(vector(e.instant({ tree: bin('-', sel('a'), sel('b')) }, 0).value)).toEqual({ '{"x":"1"}': 6 });
  });

  it('evaluates `-2 ^ 2` as -(2^2) when built with the right precedence', () => {
    const e = new Engine(new Tsdb());
    const r = e.instant({ tree: { kind: 'UnaryExpr', op: '-', expr: bin('^', num(2), num(2)), pos: { start: 0, end: 0 } } }, 0);
    expect(r.value).toEqual({ type: 'scalar', t: 0, v: -4 });
  });

  it('reports duplicate series on the one side of a match', () => {
    const e = new Engine(db({ 'a|x=1': [1], 'b|x=1,y=1': [1], 'b|x=1,y=2': [1] }));
    expect(() => e.instant({ tree: bin('+', sel('a'), sel('b'), { on: true, labels: ['x'] }) }, 0)).toThrow(EvalError);
  });

  it('fails when dropping names leaves two series with one label set', () => {
    const e = new Engine(db({ 'a|x=1': [1], 'b|x=1': [1] }));
    const both = { ...sel('a'), name: '', matchers: [new Matcher('=~', '__name__', 'a|b')] };
    expect(vector(e.instant({ tree: both }, 0).value)).toHaveProperty(['{"__name__":"a","x":"1"}'], 1);
    expect(() => e.instant({ tree: call('abs', both) }, 0)).toThrow('vector cannot contain metrics with the same labelset');
  });

  it('evaluates range queries step by step, sorted by labels', () => {
    const e = new Engine(db({ 'm|k=b': [1, 2, 3], 'm|k=a': [4, 5, 6] }));
    const r = e.range({ tree: sel('m') }, 0, 2 * MIN, MIN);
    expect(r.value.type).toBe('matrix');
    if (r.value.type !== 'matrix') return;
    expect(r.value.series.map((s) => labelsToRecord(s.labels).k)).toEqual(['a', 'b']);
    expect(r.value.series[0]!.values).toEqual([4, 5, 6]);
    expect(r.value.series[0]!.timestamps).toEqual([0, MIN, 2 * MIN]);
  });

  it('aligns subquery steps to multiples of the step from the epoch', () => {
    const e = new Engine(db({ m: [0, 1, 2, 3, 4, 5] }));
    // [3m:1m] at 4.5m: steps 2m, 3m, 4m (1.5m is outside, 5m is after the time).
    const r = e.instant({ tree: call('count_over_time', subquery(sel('m'), 3 * MIN, MIN)) }, 4.5 * MIN);
    expect(vector(r.value)).toEqual({ '{}': 3 });
  });

  it('stops at the sample limit with a clear error', () => {
    const e = new Engine(db({ m: Array.from({ length: 100 }, (_, i) => i) }), { maxSamples: 10 });
    expect(() => e.instant({ tree: call('sum_over_time', mat(sel('m'), 100 * MIN)) }, 99 * MIN)).toThrow(TooManySamplesError);
  });
});

describe('Engine on query text', () => {
  const d = db({ 'http_requests_total|job=a': [0, 60, 120, 180, 240], 'gauge|job=a': [5, 4, 3, 2, 1] });

  it('names the position of the expression an annotation is about', () => {
    const r = new Engine(d).instant(parseQuery('sum(rate(gauge[2m]))'), 4 * MIN);
    expect(r.infos).toEqual(['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "gauge" (1:10)']);
    expect(r.warnings).toEqual([]);
  });

  it('applies offset and @ to selectors', () => {
    const e = new Engine(d);
    expect(vector(e.instant(parseQuery('gauge offset 2m'), 4 * MIN).value)).toEqual({ '{"__name__":"gauge","job":"a"}': 3 });
    expect(vector(e.instant(parseQuery('gauge @ 60'), 4 * MIN).value)).toEqual({ '{"__name__":"gauge","job":"a"}': 4 });
  });

  it('evaluates a subquery inside a range query at each outer step', () => {
    const r = new Engine(d).range(parseQuery('max_over_time(gauge[2m:1m])'), 2 * MIN, 4 * MIN, MIN);
    expect(r.value.type === 'matrix' && r.value.series.map((s) => s.values)).toEqual([[4, 3, 2]]);
  });

  it('joins info series labels with info()', () => {
    const withInfo = db({ 'up|instance=x,job=j': [1], 'target_info|instance=x,job=j,region=eu': [1] });
    const r = new Engine(withInfo).instant(parseQuery('info(up)'), 0);
    expect(vector(r.value)).toEqual({ '{"__name__":"up","instance":"x","job":"j","region":"eu"}': 1 });
  });

  it('stops a query that runs past its timeout', () => {
    expect(() => new Engine(d, { timeoutMs: -1 }).instant(parseQuery('gauge'), 0)).toThrow(QueryTimeoutError);
  });

  it('rejects a range query over a range vector', () => {
    expect(() => new Engine(d).range(parseQuery('gauge[1m]'), 0, MIN, MIN)).toThrow('invalid expression type "range vector" for range query');
  });
});

describe('evaluation at the nesting limit', () => {
  it('evaluates the deepest chain the parser accepts, held to the end or yielding', async () => {
    const chain = Array.from({ length: MAX_NESTING - 10 }, (_, i) => `vector(${i})`).join(' or ');
    const engine = new Engine(new Tsdb());
    expect(vector(engine.instant(parseQuery(chain), 0).value)).toEqual({ '{}': 0 });
    const r = await engine.rangeAsync(engine.newLane(), parseQuery(chain), 0, 10 * MIN, MIN);
    expect(r.value.type === 'matrix' && r.value.series[0]!.values).toEqual(Array.from({ length: 11 }, () => 0));
  });
});

describe('finishing a large result', () => {
  const N = 5_000;
  // Created in an order unrelated to their labels' order.
  const d = new Tsdb();
  for (let i = 0; i < N; i++) {
    const id = (i * 7919) % N;
    d.appendLabels(labelsFromRecord({ __name__: 'm', id: String(id), even: String(id % 2 === 0) }), 0, id);
  }

  it('returns a range result sorted by labels, as a whole sort would, while yielding to other work', async () => {
    const engine = new Engine(d);
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const r = await engine.rangeAsync(engine.newLane(), parseQuery('m'), 0, MIN, MIN);
    counting = false;
    if (r.value.type !== 'matrix') throw new Error('expected a matrix');
    const ids = r.value.series.map((s) => labelsToRecord(s.labels).id!);
    const expected = ids.slice().sort((a, b) => {
      const ea = String(Number(a) % 2 === 0);
      const eb = String(Number(b) % 2 === 0);
      return ea !== eb ? (ea < eb ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
    });
    expect(ids).toHaveLength(N);
    expect(ids).toEqual(expected);
    expect(turns).toBeGreaterThan(1);
  });

  it('still refuses two result series with the same labels once the name is dropped', () => {
    expect(() => new Engine(d).instant(parseQuery('label_replace(m, "id", "x", "", "")'), 0)).toThrow('vector cannot contain metrics with the same labelset');
  });
});
