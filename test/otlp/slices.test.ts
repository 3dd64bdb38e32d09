import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { DecodeError } from '../../src/otlp/errors.js';
import { OtlpReceiver } from '../../src/otlp/receiver.js';
import { runInSlices, runToEnd, SerialQueue, type Sliced } from '../../src/otlp/slices.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { INGEST_THREADS } from './harness.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Work of `steps` pauses, each step busy for `ms`, that records when it ran. */
function* work(log: string[], steps: number, ms: number): Sliced<number> {
  for (let i = 0; i < steps; i++) {
    busy(ms);
    log.push(`step ${i}`);
    yield;
  }
  return steps;
}

const POINTS = 20_000;
const T0 = 1_700_000_000_000;

/** One resource, one gauge of POINTS points (each its own series), all at `timeMs` with `value`. */
function bigRequest(timeMs: number, value: number): Uint8Array {
  const points = Array.from({ length: POINTS }, (_, i) => ({
    attributes: [{ key: 'k', value: { string_value: `v${i}` } }],
    time_unix_nano: `${timeMs}000000`,
    as_double: value,
  }));
  return encodeRequest({
    resource_metrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
        scope_metrics: [{ metrics: [{ name: 'big', gauge: { data_points: points } }] }],
      },
    ],
  });
}

/** bigRequest as OTLP/JSON. */
function bigJsonRequest(timeMs: number, value: number): unknown {
  const dataPoints = Array.from({ length: POINTS }, (_, i) => ({
    attributes: [{ key: 'k', value: { stringValue: `v${i}` } }],
    timeUnixNano: `${timeMs}000000`,
    asDouble: value,
  }));
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [{ metrics: [{ name: 'big', gauge: { dataPoints } }] }],
      },
    ],
  };
}

const opened: OtlpReceiver[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
});

function receiver(maxSeries = Infinity, ingestThreads = 0) {
  const tsdb = new Tsdb({ maxSeries });
  const r = new OtlpReceiver(tsdb, defaultConfig({ ingestThreads }), pino({ level: 'silent' }));
  opened.push(r);
  return { tsdb, receiver: r };
}

describe('sliced work', () => {
  it('runs to the same result without pausing', () => {
    const log: string[] = [];
    expect(runToEnd(work(log, 3, 0))).toBe(3);
    expect(log).toEqual(['step 0', 'step 1', 'step 2']);
  });

  it('hands the event loop back once its budget is spent, then finishes', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other turn'));
    const result = await runInSlices(work(log, 10, 2), 1);
    expect(result).toBe(10);
    // Every step is over the budget, so the other callback ran right after the first.
    expect(log.slice(0, 2)).toEqual(['step 0', 'other turn']);
    expect(log).toHaveLength(11);
  });

  it('passes an error thrown by the work to the caller', async () => {
    function* failing(): Sliced<number> {
      yield;
      throw new DecodeError('bad bytes');
    }
    await expect(runInSlices(failing(), 1)).rejects.toThrow('bad bytes');
  });
});

describe('SerialQueue', () => {
  it('runs jobs one at a time in arrival order, and goes on after a failed one', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const job =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([queue.run(job('a')), queue.run(job('b', true)), queue.run(job('c'))]);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe.each(INGEST_THREADS)('OtlpReceiver.ingest, %i ingest threads', (threads) => {
  it('lets other callbacks run while a large request is stored, and answers after every point is in', async () => {
    const { tsdb, receiver: r } = receiver(Infinity, threads);
    let storedWhenOtherRan = -1;
    setImmediate(() => (storedWhenOtherRan = tsdb.stats.samplesAppended));
    const response = await r.ingest(bigRequest(T0, 1), 'protobuf', 'grpc');
    expect(response).toEqual({});
    expect(storedWhenOtherRan).toBeGreaterThanOrEqual(0);
    expect(storedWhenOtherRan).toBeLessThan(POINTS);
    expect(tsdb.stats.samplesAppended).toBe(POINTS);
    expect(r.stats.requests.grpc).toBe(1);
  });

  // With workers the other callback runs while the body is being decoded, before anything is stored.
  it.runIf(threads === 0)('pauses in the middle of storing a decoded request, between points of one metric', async () => {
    const { tsdb, receiver: r } = receiver();
    // JSON is decoded whole, so the pause the other callback sees is one of storing.
    const request = Buffer.from(JSON.stringify(bigJsonRequest(T0, 1)));
    let storedWhenOtherRan = -1;
    setImmediate(() => (storedWhenOtherRan = tsdb.stats.samplesAppended));
    expect(await r.ingest(request, 'json', 'http')).toEqual({});
    expect(storedWhenOtherRan).toBeGreaterThan(0);
    expect(storedWhenOtherRan).toBeLessThan(POINTS);
    expect(tsdb.stats.samplesAppended).toBe(POINTS);
  });

  it('counts rejected points exactly across slices', async () => {
    const { tsdb, receiver: r } = receiver(POINTS / 4, threads);
    const response = await r.ingest(bigRequest(T0, 1), 'protobuf', 'http');
    expect(response.partialSuccess?.rejectedDataPoints).toBe((POINTS * 3) / 4);
    expect(response.partialSuccess?.errorMessage).toMatch(/over the series limit/);
    expect(tsdb.seriesCount).toBe(POINTS / 4);
    expect(r.stats.pointsAccepted).toBe(POINTS / 4);
  });

  it('stores concurrent requests one after the other, in arrival order', async () => {
    const { tsdb, receiver: r } = receiver(Infinity, threads);
    // The same timestamp in both: the later request's value overwrites the earlier one's.
    await Promise.all([r.ingest(bigRequest(T0, 1), 'protobuf', 'grpc'), r.ingest(bigRequest(T0, 2), 'protobuf', 'grpc')]);
    const values = tsdb.select([new Matcher('=', '__name__', 'big')]).map((s) => s.valueAt(s.length - 1));
    expect(values).toHaveLength(POINTS);
    expect(new Set(values)).toEqual(new Set([2]));
  });

  it('stores nothing of a request that turns out malformed after its first slices', async () => {
    const { tsdb, receiver: r } = receiver(Infinity, threads);
    const bytes = bigRequest(T0, 1);
    await expect(r.ingest(bytes.subarray(0, bytes.length - 3), 'protobuf', 'grpc')).rejects.toThrow(DecodeError);
    expect(tsdb.seriesCount).toBe(0);
    expect(r.stats.requests.grpc).toBe(0);
  });
});
