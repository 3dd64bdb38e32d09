import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../src/promql/eval/engine.js';
import { QueryTimeoutError, TooManySamplesError } from '../../../src/promql/errors.js';
import { Lane } from '../../../src/promql/eval/lane.js';
import { Tsdb } from '../../../src/tsdb/db.js';
import { parseQuery } from '../../../src/promql/parser/parse.js';

describe('Lane', () => {
  it('lets the allowed number in, then hands turns over first come first served', async () => {
    const lane = new Lane(1, 100);
    const far = performance.now() + 60_000;
    await lane.enter(far, 60_000);
    const order: string[] = [];
    const b = lane.enter(far, 60_000).then(() => order.push('b'));
    const c = lane.enter(far, 60_000).then(() => order.push('c'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    lane.leave();
    await b;
    lane.leave();
    await c;
    expect(order).toEqual(['b', 'c']);
  });

  it('fails a query that waits past its deadline as Prometheus does, and forgets it', async () => {
    const lane = new Lane(1, 100);
    await lane.enter(performance.now() + 60_000, 60_000);
    const waited = lane.enter(performance.now() + 20, 20);
    await expect(waited).rejects.toThrow(QueryTimeoutError);
    await expect(waited).rejects.toThrow(/^query timed out in query queue/);
    lane.leave();
    // The slot is free again: the timed-out waiter did not take it.
    await lane.enter(performance.now() + 20, 20);
  });
});

describe('samples held by queries in flight', () => {
  it('are given back when a query ends, however it ends', async () => {
    const engine = new Engine(new Tsdb(), { maxSamples: 10_000 });
    const lane = engine.newLane();
    await engine.instantAsync(lane, parseQuery('count_over_time(vector(1)[4s:1ms])'), 10_000);
    expect(lane.held).toBe(0);
    await expect(engine.instantAsync(lane, parseQuery('count_over_time(vector(1)[1y:1ms])'), 10_000)).rejects.toThrow(TooManySamplesError);
    expect(lane.held).toBe(0);
  });

  it('count what intermediate nodes hold, not every point ever made', () => {
    // Each `+` consumes its inputs: 200 additions of 1,000-point series stay within 10,000 held.
    const query = Array.from({ length: 200 }, () => 'vector(1)').join(' + ');
    const engine = new Engine(new Tsdb(), { maxSamples: 10_000 });
    const r = engine.range(parseQuery(query), 0, 999_000, 1_000);
    expect(r.value.type === 'matrix' && r.value.series[0]!.values[0]).toBe(200);
  });

  it('share the lane budget: a query is refused what queries in flight already hold', async () => {
    const engine = new Engine(new Tsdb(), { maxSamples: 10_000 });
    const lane = engine.newLane();
    lane.held = 9_000;
    await expect(engine.instantAsync(lane, parseQuery('count_over_time(vector(1)[2s:1ms])'), 10_000)).rejects.toThrow(
      /limit 10000, shared with queries in flight holding 9000/,
    );
    expect(lane.held).toBe(9_000);
  });
});
