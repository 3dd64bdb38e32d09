import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/promql/eval/engine.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import type { Series } from '../../src/tsdb/series.js';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { EXPORTER_KINDS, exportClient, exporter, oneResource, sdk, type Harness, useHarness, withThreads, INGEST_THREADS } from './harness.js';
import { parseQuery } from '../../src/promql/parser/parse.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function only(h: Harness, name: string): Series {
  const found = h.tsdb.select([new Matcher('=', '__name__', name)]);
  if (found.length !== 1) throw new Error(`${name} selects ${found.length} series`);
  return found[0]!;
}

function starts(s: Series): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.startTimeAt(i));
  return out;
}

/** The single value a query gives at time t. */
function at(engine: Engine, query: string, t: number): number {
  const { value } = engine.instant(parseQuery(query), t);
  if (value.type !== 'vector' || value.samples.length !== 1) throw new Error(`${query} did not give one sample`);
  return value.samples[0]!.v;
}

describe.each(withThreads(EXPORTER_KINDS))('a restarted SDK seen through start times over %s, %i ingest threads', (kind, ingestThreads) => {
  const h = useHarness({ ingestThreads });

  it('counts a restart whose new value is above the old one as a reset', async () => {
    const resource = { 'service.name': 'worker', 'service.instance.id': 'pod-1' };
    const first = sdk(exporter(h, kind), resource);
    first.meter.createCounter('jobs.done').add(30);
    first.meter.createHistogram('job.seconds', { advice: { explicitBucketBoundaries: [1] } }).record(0.5);
    // The SDK starts a cumulative point at its first measurement; a start equal to the point's
    // time would mean "unknown", so every step is at least a millisecond apart.
    await pause(5);
    await first.shutdown();
    await pause(5);
    const second = sdk(exporter(h, kind), resource);
    second.meter.createCounter('jobs.done').add(40);
    const hist = second.meter.createHistogram('job.seconds', { advice: { explicitBucketBoundaries: [1] } });
    hist.record(0.5);
    hist.record(0.5);
    await pause(5);
    await second.shutdown();

    const counter = only(h, 'jobs_done_total');
    expect(counter.length).toBe(2);
    const [st1, st2] = starts(counter);
    expect(st1).toBeGreaterThan(0);
    expect(st2).toBeGreaterThan(counter.timestampAt(0));
    expect(st2).toBeLessThan(counter.timestampAt(1));

    const engine = new Engine(h.tsdb);
    const last = counter.timestampAt(1);
    expect(at(engine, 'resets(jobs_done_total[5m])', last)).toBe(1);
    // 30 before the restart and 40 after, both counted from zero at their start times.
    expect(at(engine, 'increase(jobs_done_total[5m])', last)).toBeCloseTo(70, 9);
    expect(at(engine, 'resets(job_seconds_count[5m])', only(h, 'job_seconds_count').timestampAt(1))).toBe(1);
    // A subquery's points carry no start times: the restart goes unseen.
    expect(at(engine, 'resets(jobs_done_total[5m:1ms])', last)).toBe(0);
  });

  it('sees no reset while the same process keeps counting', async () => {
    const pod = sdk(exporter(h, kind), { 'service.name': 'steady' });
    const c = pod.meter.createCounter('steady.ops');
    c.add(1);
    await pod.flush();
    await pause(5);
    c.add(1);
    await pod.flush();
    await pod.shutdown();
    const s = only(h, 'steady_ops_total');
    const [st1, st2] = starts(s);
    expect(st1).toBe(st2);
    expect(at(new Engine(h.tsdb), 'resets(steady_ops_total[5m])', s.timestampAt(1))).toBe(0);
  });
});

describe.each(INGEST_THREADS)('start times from OTLP protobuf, %i ingest threads', (ingestThreads) => {
  const h = useHarness({ ingestThreads });

  const ns = (seconds: number) => `${seconds}000000000`;
  const send = async (metrics: object[]) => {
    const client = exportClient(h);
    await client.send(encodeRequest(oneResource({ 'service.name': 'proto' }, metrics)));
    client.close();
  };
  const sumPoint = (start: number, time: number, value: number) => ({ start_time_unix_nano: ns(start), time_unix_nano: ns(time), as_double: value });

  it('stores the start time of cumulative sums and summaries, not of gauges', async () => {
    await send([
      {
        name: 'restarts',
        sum: { aggregation_temporality: 2, is_monotonic: true, data_points: [sumPoint(10, 100, 30), sumPoint(10, 160, 50), sumPoint(200, 220, 60)] },
      },
      { name: 'temperature', gauge: { data_points: [sumPoint(10, 100, 20)] } },
      { name: 'rpc', summary: { data_points: [{ start_time_unix_nano: ns(10), time_unix_nano: ns(100), count: 4, sum: 2 }] } },
    ]);
    expect(starts(only(h, 'restarts_total'))).toEqual([10_000, 10_000, 200_000]);
    expect(only(h, 'temperature').hasStartTimes).toBe(false);
    expect(starts(only(h, 'rpc_count'))).toEqual([10_000]);

    const engine = new Engine(h.tsdb);
    expect(at(engine, 'resets(restarts_total[5m])', 220_000)).toBe(1);
    // Only the value since the restart counts for the last interval.
    expect(at(engine, 'irate(restarts_total[2m])', 220_000)).toBe(1);
  });

  it('gives a delta total that starts over after an overlapping point a start time after the old run', async () => {
    await send([
      {
        name: 'handled',
        sum: { aggregation_temporality: 1, is_monotonic: true, data_points: [sumPoint(100, 160, 5), sumPoint(160, 220, 5), sumPoint(130, 280, 20)] },
      },
    ]);
    const s = only(h, 'handled_total');
    expect([s.valueAt(0), s.valueAt(1), s.valueAt(2)]).toEqual([5, 10, 20]);
    expect(starts(s)).toEqual([100_000, 100_000, 220_001]);
    expect(at(new Engine(h.tsdb), 'resets(handled_total[5m])', 280_000)).toBe(1);
  });
});
