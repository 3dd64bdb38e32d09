import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/promql/eval/engine.js';
import { UserError } from '../../src/common/errors.js';
import { Scaler, type ScalerOptions } from '../../src/scaler/scaler.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { FloatHistogram } from '../../src/tsdb/float-histogram.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { holdEverything } from '../support/app.js';

const NOW = 1_800_000_000_000;

/**
 * A scaler on a store that holds every sample of all time, or with `fresh`, one whose process
 * started receiving at NOW, so queries wait until their window fits after that.
 */
function setup({ fresh = false, ...opts }: { fresh?: boolean } & Partial<ScalerOptions> = {}) {
  let now = NOW;
  const tsdb = new Tsdb({ now: () => now });
  if (!fresh) holdEverything(tsdb);
  const scaler = new Scaler(new Engine(tsdb), tsdb, { now: () => now, ...opts });
  return { tsdb, scaler, advance: (ms: number) => (now += ms) };
}

function read(scaler: Scaler, scalerMetadata: Record<string, string>) {
  return scaler.read(scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata }));
}

async function failure(fn: () => unknown): Promise<UserError> {
  try {
    await fn();
  } catch (e) {
    return e as UserError;
  }
  throw new Error('expected a failure');
}

/** A counter as OTLP makes it: `_total` name, selectable by the name without the suffix. */
function counter(tsdb: Tsdb, labels: Record<string, string>, perSecond: number): void {
  const s = tsdb.getOrCreate(labelsFromRecord({ __name__: `${labels.name}_total`, ...labels, name: '' }), labels.name)!;
  for (let i = 0; i <= 30; i++) {
    const t = NOW - 300_000 + i * 10_000;
    tsdb.append(s, t, 1000 + (perSecond * (t - (NOW - 300_000))) / 1000);
  }
}

describe('Kedify otel-add-on compatibility', () => {
  const kedifyExample = {
    scalerAddress: 'keda-otel-scaler.keda.svc:4318',
    metricQuery: 'avg(http_server_request_count{app_id=nodeapp, method=GET, path=/v1.0/state/statestore})',
    operationOverTime: 'rate',
    targetValue: '5',
    clampMin: '1',
    clampMax: '10',
  };

  it("gives the value Kedify's semantics define for its own example ScaledObject", async () => {
    const { tsdb, scaler } = setup();
    const match = { name: 'http_server_request_count', app_id: 'nodeapp', method: 'GET', path: '/v1.0/state/statestore' };
    // Two replicas of the app serving 2 and 4 requests a second; a third series is another path.
    counter(tsdb, { ...match, instance: 'a' }, 2);
    counter(tsdb, { ...match, instance: 'b' }, 4);
    counter(tsdb, { ...match, path: '/healthz', instance: 'a' }, 100);
    // Kedify: per series (last - first) / (t_last - t_first) over its 2-minute window, then avg across series.
    expect((await read(scaler, kedifyExample)).value).toBeCloseTo(3, 9);
    expect((await read(scaler, { ...kedifyExample, clampMax: '2.5' })).value).toBe(2.5);
    expect((await read(scaler, { ...kedifyExample, clampMin: '7' })).value).toBe(7);
    const trigger = scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: kedifyExample });
    expect(trigger.spec.query).toBe('avg(rate(http_server_request_count{app_id="nodeapp", method="GET", path="/v1.0/state/statestore"}[2m]))');
  });

  it('sums across series when the query has no aggregation, and reads the last value by default', async () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', pod: 'a', tier: 'gw' }), NOW - 5_000, 3);
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', pod: 'b', tier: 'gw' }), NOW - 5_000, 4);
    expect((await read(scaler, { metricQuery: 'queue{tier=gw}', targetValue: '1' })).value).toBe(7);
    expect((await read(scaler, { metricQuery: 'max(queue{tier=gw})', targetValue: '1', operationOverTime: 'last_one' })).value).toBe(4);
    expect((await read(scaler, { metricQuery: 'queue', targetValue: '1', operationOverTime: 'count' })).value).toBe(2);
  });

  it('names the key when the Kedify query form is wrong', async () => {
    const { scaler } = setup();
    const err = await failure(() => read(scaler, { metricQuery: 'rate(x[1m])', targetValue: '1', operationOverTime: 'rate' }));
    expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/"metricQuery".*agg\(metric\{label=value/);
  });
});

describe("the seeds' collector queries", () => {
  function collectors(tsdb: Tsdb, pods: string[]) {
    for (const pod of pods) {
      counter(tsdb, { name: 'otelcol_receiver_accepted_spans', receiver: 'otlp', job: 'gateway-collector', instance: pod }, 500);
      counter(tsdb, { name: 'otelcol_processor_refused_spans', processor: 'memory_limiter', job: 'gateway-collector', instance: pod }, 2);
      tsdb.appendLabels(
        labelsFromRecord({ __name__: 'otelcol_exporter_queue_size', exporter: 'otlp', job: 'gateway-collector', instance: pod }),
        NOW - 1_000,
        12,
      );
    }
  }

  it('work verbatim', async () => {
    const { tsdb, scaler } = setup();
    collectors(tsdb, ['gw-0', 'gw-1']);
    expect((await read(scaler, { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans{receiver="otlp"}[1m]))', targetValue: '1000' })).value).toBeCloseTo(
      1000,
      9,
    );
    expect((await read(scaler, { metricQuery: 'sum(otelcol_exporter_queue_size{job="gateway-collector"})', targetValue: '10' })).value).toBe(24);
  });

  it('answer a per-pod query with one pod, and ask for an aggregation with more', async () => {
    const { tsdb, scaler } = setup();
    collectors(tsdb, ['gw-0']);
    const query = 'rate(otelcol_processor_refused_spans_total{job="gateway-collector"}[1m])';
    expect((await read(scaler, { metricQuery: query, targetValue: '1' })).value).toBeCloseTo(2, 9);
    collectors(tsdb, ['gw-1']);
    const err = await failure(() => read(scaler, { metricQuery: query, targetValue: '1' }));
    expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/returned 2 series.*wrap the query in an aggregation such as sum/);
    expect((await read(scaler, { metricQuery: `sum(${query})`, targetValue: '1' })).value).toBeCloseTo(4, 9);
  });
});

describe('native histograms', () => {
  it('refuses a trigger whose query returns a histogram, naming the functions that take a number from it, and answers one that does', async () => {
    const { tsdb, scaler } = setup();
    const labels = labelsFromRecord({ __name__: 'http_server_request_duration_seconds', job: 'api' });
    for (let i = 0; i <= 30; i++) {
      const h = new FloatHistogram({ count: 10 * i, sum: 5 * i, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [10 * i] });
      tsdb.appendHistogramLabels(labels, NOW - (30 - i) * 1000, h);
    }
    const err = await failure(() => read(scaler, { metricQuery: 'sum(rate(http_server_request_duration_seconds[1m]))', targetValue: '1' }));
    expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/returns a native histogram; KEDA needs a number: take one from it with histogram_quantile/);
    const count = await read(scaler, { metricQuery: 'histogram_count(sum(rate(http_server_request_duration_seconds[1m])))', targetValue: '1' });
    // 300 observations in the 30 s the store holds, over a 1 m window.
    expect(count.value).toBeCloseTo(5, 9);
  });

  it('refuses a histogram trigger at GetMetricSpec once the data shows it, and lets through what it cannot judge yet', async () => {
    const { tsdb, scaler, advance } = setup({ answerMaxAgeMs: 2_000 });
    const ref = (metricQuery: string) => ({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery, targetValue: '1' } });
    const labels = labelsFromRecord({ __name__: 'latency', job: 'api' });
    const latency = ref('latency');
    // No series yet: nothing says what the query gives, so KEDA gets its spec.
    expect((await scaler.specFor(latency)).spec.query).toBe('latency');
    // A float series found: trusted for --answer-max-age, then looked at again.
    tsdb.appendLabels(labels, NOW - 2_000, 1);
    tsdb.appendLabels(labels, NOW - 1_000, 2);
    advance(2_000);
    await scaler.specFor(latency);
    const h = new FloatHistogram({ count: 4, sum: 2, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [4] });
    tsdb.appendHistogramLabels(labelsFromRecord({ __name__: 'latency', job: 'web' }), NOW + 1_000, h);
    advance(1_000);
    await scaler.specFor(latency);
    advance(1_000);
    const err = await failure(() => scaler.specFor(latency));
    expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/returns a native histogram; KEDA needs a number/);
    // What the tree shows to be a number is never evaluated for it.
    expect((await scaler.specFor(ref('histogram_quantile(0.9, sum(rate(latency[1m])))'))).spec.targetValue).toBe(1);
  });
});

describe('results KEDA can act on', () => {
  it('gives valueIfNotFound for an empty result, or UNAVAILABLE when the trigger or the global setting asks for an error', async () => {
    const { scaler } = setup();
    const meta = { metricQuery: 'sum(queue{tier="gw"})', targetValue: '1' };
    expect((await read(scaler, meta)).value).toBe(0);
    expect((await read(scaler, { ...meta, valueIfNotFound: '2' })).value).toBe(2);
    for (const key of ['errIfNotFound', 'errorIfNotFound']) {
      const err = await failure(() => read(scaler, { ...meta, [key]: 'true' }));
      expect(err.kind.grpc).toBe(status.UNAVAILABLE);
      expect(err.message).toMatch(/found no series.*errIfNotFound.*fallback/);
    }
    // A scalar result is never "not found".
    expect((await read(scaler, { metricQuery: '4', targetValue: '1', errIfNotFound: 'true' })).value).toBe(4);
    const strict = setup({ errIfNotFound: true }).scaler;
    expect((await failure(() => read(strict, meta))).kind.grpc).toBe(status.UNAVAILABLE);
    // A trigger's own choice wins over the global default.
    expect((await read(strict, { ...meta, valueIfNotFound: '3' })).value).toBe(3);
    expect((await read(strict, { ...meta, errIfNotFound: 'false' })).value).toBe(0);
  });

  it('answers a found value whatever errIfNotFound says', async () => {
    const { tsdb, scaler } = setup({ errIfNotFound: true });
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', tier: 'gw' }), NOW - 1_000, 4);
    expect((await read(scaler, { metricQuery: 'sum(queue{tier="gw"})', targetValue: '1', errIfNotFound: 'true' })).value).toBe(4);
  });
  it('refuses NaN and infinite values with a clear error', async () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'x' }), NOW, 1);
    const err = await failure(() => read(scaler, { metricQuery: 'sum(x) / 0', targetValue: '1' }));
    expect(err.kind.grpc).toBe(status.OUT_OF_RANGE);
    expect(err.message).toMatch(/returned \+?Infinity/);
  });

  it('takes a scalar result as the value and judges activity by activationTargetValue', async () => {
    const { scaler } = setup();
    expect(await read(scaler, { metricQuery: 'scalar(vector(4))', targetValue: '1', activationTargetValue: '3' })).toEqual({ value: 4, active: true });
    expect(await read(scaler, { metricQuery: '4', targetValue: '1', activationTargetValue: '4' })).toEqual({ value: 4, active: false });
  });

  it('parses a query once per distinct metadata', async () => {
    const { scaler } = setup();
    const ref = { name: 'so', namespace: 'ns', scalerMetadata: { metricQuery: 'sum(x)', targetValue: '1' } };
    expect(scaler.compile(ref)).toBe(scaler.compile({ ...ref, scalerMetadata: { targetValue: '1', metricQuery: 'sum(x)' } }));
    expect(scaler.compile(ref).metricNames).toEqual(['x']);
  });
});

describe('scaler self-metrics', () => {
  it('counts evaluations and their time, and keeps the last reading of each trigger', async () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'x' }), NOW, 5);
    await read(scaler, { metricQuery: 'sum(x)', targetValue: '1', activationTargetValue: '2' });
    await failure(() => read(scaler, { metricQuery: 'x / 0', targetValue: '1' }));
    expect(scaler.evaluations.count).toBe(2);
    expect(scaler.evaluations.totalMs).toBeGreaterThan(0);
    const rows = scaler.status.list().sort((a, b) => a.query.localeCompare(b.query));
    expect(rows.map((r) => [r.query, r.lastValue, r.active, r.lastError === undefined])).toEqual([
      ['sum(x)', 5, true, true],
      ['x / 0', undefined, undefined, false],
    ]);
  });
});

describe('queries KEDA cannot scale on', () => {
  it('are refused when compiled (GetMetricSpec), with the position of the result and its type', async () => {
    const { scaler } = setup();
    const cases: [string, RegExp][] = [
      [
        'otelcol_exporter_queue_size[5m]',
        /"metricQuery": 1:1: the query gives a range vector; KEDA needs a scalar or an instant vector \(wrap it in a function over time such as rate/,
      ],
      ['# per pod\n  (sum(x)[5m:1m])', /"metricQuery": 2:3: the query gives a range vector/],
      ['"queue"', /"metricQuery": 1:1: the query gives a string; KEDA needs a scalar or an instant vector$/],
    ];
    for (const [metricQuery, message] of cases) {
      const err = await failure(() => scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery, targetValue: '1' } }));
      expect(err.kind.grpc).toBe(status.INVALID_ARGUMENT);
      expect(err.message).toMatch(message);
    }
    expect(scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery: 'scalar(sum(x))', targetValue: '1' } }).spec.query).toBe(
      'scalar(sum(x))',
    );
  });
});

describe("answers only once the store holds the query's whole window", () => {
  const S = 1_000;
  const rateMeta = { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans[1m]))', targetValue: '1' };

  /** A counter growing 100/s since long before NOW, with samples every second from `fromMs` on. */
  function pushCounter(tsdb: Tsdb, fromMs: number, toMs: number, name = 'otelcol_receiver_accepted_spans'): void {
    const s = tsdb.getOrCreate(labelsFromRecord({ __name__: `${name}_total`, instance: 'a' }), name)!;
    for (let t = fromMs; t <= toMs; t += S) tsdb.append(s, t, 100 * (t / S));
  }

  it('is UNAVAILABLE with the time left until a fresh store covers the look-back, then right', async () => {
    const { tsdb, scaler, advance } = setup({ fresh: true });
    pushCounter(tsdb, NOW, NOW + 2 * S);
    advance(2 * S);
    const err = await failure(() => read(scaler, rateMeta));
    expect(err.kind.grpc).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(/the store holds data since 2027-01-15T08:00:00Z; the query reads 1m back; answers in 58s/);
    // The partial window would have said much less than 100/s.
    expect(scaler.status.list()[0]!.lastValue).toBeUndefined();
    pushCounter(tsdb, NOW + 3 * S, NOW + 59 * S);
    advance(57 * S);
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/answers in 1s/);
    pushCounter(tsdb, NOW + 60 * S, NOW + 60 * S);
    advance(1 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
  });

  it('waits for series that resumed late after a restart, whose first samples a window from the start would miss', async () => {
    const { tsdb, scaler, advance } = setup({ fresh: true });
    // Pod a reconnects at once, pod b 3s later; a pod first seen 70s in is a new one.
    const pod = (instance: string) =>
      tsdb.getOrCreate(labelsFromRecord({ __name__: 'otelcol_receiver_accepted_spans_total', instance }), 'otelcol_receiver_accepted_spans')!;
    const [a, b, c] = [pod('a'), pod('b'), pod('c')];
    for (let t = NOW; t <= NOW + 75 * S; t += S) {
      tsdb.append(a, t, 100 * (t / S));
      if (t >= NOW + 3 * S) tsdb.append(b, t, 100 * (t / S));
      if (t >= NOW + 70 * S) tsdb.append(c, t, 0);
    }
    advance(60 * S);
    const err = await failure(() => read(scaler, rateMeta));
    expect(err.kind.grpc).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(/have no samples from before the restart until 2027-01-15T08:00:03Z \(clients reconnecting\).*reads 1m back; answers in 3s/);
    advance(3 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(200, 6);
    advance(10 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(200, 6);
  });

  it('counts the lookback delta for instant selectors, also at each step of a subquery', async () => {
    const { scaler, advance } = setup({ fresh: true });
    const gauge = { metricQuery: 'sum(queue)', targetValue: '1' };
    const sub = { metricQuery: 'max_over_time(sum(queue)[2m:10s])', targetValue: '1' };
    expect((await failure(() => read(scaler, gauge))).message).toMatch(/reads 5m back; answers in 300s/);
    expect((await failure(() => read(scaler, sub))).message).toMatch(/reads 7m back; answers in 420s/);
    advance(300 * S);
    expect((await read(scaler, gauge)).value).toBe(0);
    expect((await failure(() => read(scaler, sub))).kind.grpc).toBe(status.UNAVAILABLE);
    advance(120 * S);
    expect((await read(scaler, sub)).value).toBe(0);
  });

  it('answers at once when restored data covers the window, and for queries that read no samples', async () => {
    const { tsdb, scaler } = setup({ fresh: true });
    expect((await read(scaler, { metricQuery: 'vector(3)', targetValue: '1' })).value).toBe(3);
    tsdb.coverage.addRestored({ fromMs: NOW - 10 * 60 * S, toMs: NOW - 2 * S });
    pushCounter(tsdb, NOW - 10 * 60 * S, NOW - 2 * S);
    pushCounter(tsdb, NOW, NOW);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
    // A restored span that begins after the look-back starts: answered once the look-back fits in it.
    expect((await failure(() => read(scaler, { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans[11m]))', targetValue: '1' }))).message).toMatch(
      /the store holds data since 2027-01-15T07:50:00Z; the query reads 11m back; answers in 60s/,
    );
  });

  it('after a restore, waits for restored series to resume before a window ending without them answers low', async () => {
    const { tsdb, scaler, advance } = setup({ fresh: true });
    tsdb.coverage.addRestored({ fromMs: NOW - 10 * 60 * S, toMs: NOW - 2 * S });
    pushCounter(tsdb, NOW - 10 * 60 * S, NOW - 2 * S);
    const gone = tsdb.getOrCreate(
      labelsFromRecord({ __name__: 'otelcol_receiver_accepted_spans_total', instance: 'gone' }),
      'otelcol_receiver_accepted_spans',
    )!;
    for (let t = NOW - 10 * 60 * S; t <= NOW - 2 * S; t += S) tsdb.append(gone, t, 100 * (t / S));
    advance(5 * S);
    const err = await failure(() => read(scaler, rateMeta));
    expect(err.kind.grpc).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(
      /2 restored series of otelcol_receiver_accepted_spans have not caught up since the store began receiving at 2027-01-15T08:00:00Z.*answers once they resume, or in 55s at the latest/,
    );
    // One pod is back; the other stopped with the restart and is taken as gone once the grace has passed.
    pushCounter(tsdb, NOW + 5 * S, NOW + 70 * S);
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/^1 restored series/);
    // Past the grace, the window from the live start would still miss the samples lost while it reconnected.
    advance(53 * S);
    // The window starts in restored time, but after the series' last restored sample: low as well.
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/no samples from before the restart until 2027-01-15T08:00:05Z.*answers in 7s/);
    advance(2 * S);
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/no samples from before the restart until 2027-01-15T08:00:05Z.*answers in 5s/);
    advance(5 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
  });

  it('after a restore, waits for a resumed series whose newest sample lags more than 1.5 of its push intervals', async () => {
    const { tsdb, scaler, advance } = setup({ fresh: true });
    tsdb.coverage.addRestored({ fromMs: NOW - 10 * 60 * S, toMs: NOW - 2 * S });
    pushCounter(tsdb, NOW - 10 * 60 * S, NOW - 2 * S);
    pushCounter(tsdb, NOW + 1 * S, NOW + 1 * S);
    advance(4 * S);
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/^1 restored series of otelcol_receiver_accepted_spans have not caught up/);
    pushCounter(tsdb, NOW + 2 * S, NOW + 4 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
  });

  it("never answers a fixed @ time from before the store's data", async () => {
    const { scaler, advance } = setup({ fresh: true });
    const meta = { metricQuery: `sum(rate(x[1m] @ ${(NOW - 3_600 * S) / 1000}))`, targetValue: '1' };
    advance(3_600 * S);
    expect((await failure(() => read(scaler, meta))).message).toMatch(
      /the query reads from 2027-01-15T06:59:00Z \(its @ modifier\); that time will not be covered/,
    );
  });

  it('in lazy mode, waits for a window kept since its names were first wanted, unless the store already held them', async () => {
    const { tsdb, scaler, advance } = setup({ lazySeries: true });
    pushCounter(tsdb, NOW - 60 * S, NOW, 'restored');
    expect((await read(scaler, { metricQuery: 'sum(rate(restored[1m]))', targetValue: '1' })).value).toBeCloseTo(100, 6);
    const err = await failure(() => read(scaler, rateMeta));
    expect(err.message).toMatch(
      /lazy mode has kept otelcol_receiver_accepted_spans since a trigger first asked for it at 2027-01-15T08:00:00Z; the query reads 1m back; answers in 60s/,
    );
    expect(scaler.wantedMetricNames()).toEqual(new Set(['restored', 'otelcol_receiver_accepted_spans']));
    pushCounter(tsdb, NOW + S, NOW + 60 * S);
    advance(60 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
  });

  it('in lazy mode, starts over for a name no trigger read for a while', async () => {
    const { tsdb, scaler, advance } = setup({ lazySeries: true, maxTriggers: 1 });
    const other = { metricQuery: 'sum(other)', targetValue: '1' };
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/answers in 60s/);
    pushCounter(tsdb, NOW + S, NOW + 60 * S);
    advance(60 * S);
    expect((await read(scaler, rateMeta)).value).toBeCloseTo(100, 6);
    // Another trigger pushes this one out; its names are no longer kept, so their series get a gap.
    await expect(read(scaler, other)).rejects.toThrow();
    expect(scaler.wantedMetricNames()).toEqual(new Set(['other']));
    advance(10 * S);
    expect((await failure(() => read(scaler, rateMeta))).message).toMatch(/since a trigger first asked for it at 2027-01-15T08:01:10Z.*answers in 60s/);
  });
});
