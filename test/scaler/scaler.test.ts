import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/promql/engine.js';
import { ScalerError } from '../../src/scaler/errors.js';
import { Scaler } from '../../src/scaler/scaler.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';

const NOW = 1_800_000_000_000;

function setup(warmupMs = 0) {
  let now = NOW;
  const tsdb = new Tsdb();
  const scaler = new Scaler(new Engine(tsdb), tsdb, { warmupMs, now: () => now });
  return { tsdb, scaler, advance: (ms: number) => (now += ms) };
}

function read(scaler: Scaler, scalerMetadata: Record<string, string>) {
  return scaler.read(scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata }));
}

function failure(fn: () => unknown): ScalerError {
  try {
    fn();
  } catch (e) {
    return e as ScalerError;
  }
  throw new Error('expected a failure');
}

/** A counter as OTLP makes it: `_total` name, selectable by the name without the suffix. */
function counter(tsdb: Tsdb, labels: Record<string, string>, perSecond: number): void {
  const s = tsdb.getOrCreate(labelsFromRecord({ __name__: `${labels.name}_total`, ...labels, name: '' }), labels.name)!;
  for (let i = 0; i <= 30; i++) {
    const t = NOW - 300_000 + i * 10_000;
    tsdb.append(s, t, 1000 + perSecond * (t - (NOW - 300_000)) / 1000);
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

  it("gives the value Kedify's semantics define for its own example ScaledObject", () => {
    const { tsdb, scaler } = setup();
    const match = { name: 'http_server_request_count', app_id: 'nodeapp', method: 'GET', path: '/v1.0/state/statestore' };
    // Two replicas of the app serving 2 and 4 requests a second; a third series is another path.
    counter(tsdb, { ...match, instance: 'a' }, 2);
    counter(tsdb, { ...match, instance: 'b' }, 4);
    counter(tsdb, { ...match, path: '/healthz', instance: 'a' }, 100);
    // Kedify: per series (last - first) / (t_last - t_first) over its 2-minute window, then avg across series.
    expect(read(scaler, kedifyExample).value).toBeCloseTo(3, 9);
    expect(read(scaler, { ...kedifyExample, clampMax: '2.5' }).value).toBe(2.5);
    expect(read(scaler, { ...kedifyExample, clampMin: '7' }).value).toBe(7);
    const trigger = scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: kedifyExample });
    expect(trigger.spec.query).toBe('avg(rate(http_server_request_count{app_id="nodeapp", method="GET", path="/v1.0/state/statestore"}[2m]))');
  });

  it('sums across series when the query has no aggregation, and reads the last value by default', () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', pod: 'a', tier: 'gw' }), NOW - 5_000, 3);
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', pod: 'b', tier: 'gw' }), NOW - 5_000, 4);
    expect(read(scaler, { metricQuery: 'queue{tier=gw}', targetValue: '1' }).value).toBe(7);
    expect(read(scaler, { metricQuery: 'max(queue{tier=gw})', targetValue: '1', operationOverTime: 'last_one' }).value).toBe(4);
    expect(read(scaler, { metricQuery: 'queue', targetValue: '1', operationOverTime: 'count' }).value).toBe(2);
  });

  it('names the key when the Kedify query form is wrong', () => {
    const { scaler } = setup();
    const err = failure(() => read(scaler, { metricQuery: 'rate(x[1m])', targetValue: '1', operationOverTime: 'rate' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/"metricQuery".*agg\(metric\{label=value/);
  });
});

describe('the seeds\' collector queries', () => {
  function collectors(tsdb: Tsdb, pods: string[]) {
    for (const pod of pods) {
      counter(tsdb, { name: 'otelcol_receiver_accepted_spans', receiver: 'otlp', job: 'gateway-collector', instance: pod }, 500);
      counter(tsdb, { name: 'otelcol_processor_refused_spans', processor: 'memory_limiter', job: 'gateway-collector', instance: pod }, 2);
      tsdb.appendLabels(labelsFromRecord({ __name__: 'otelcol_exporter_queue_size', exporter: 'otlp', job: 'gateway-collector', instance: pod }), NOW - 1_000, 12);
    }
  }

  it('work verbatim', () => {
    const { tsdb, scaler } = setup();
    collectors(tsdb, ['gw-0', 'gw-1']);
    expect(read(scaler, { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans{receiver="otlp"}[1m]))', targetValue: '1000' }).value).toBeCloseTo(1000, 9);
    expect(read(scaler, { metricQuery: 'sum(otelcol_exporter_queue_size{job="gateway-collector"})', targetValue: '10' }).value).toBe(24);
  });

  it('answer a per-pod query with one pod, and ask for an aggregation with more', () => {
    const { tsdb, scaler } = setup();
    collectors(tsdb, ['gw-0']);
    const query = 'rate(otelcol_processor_refused_spans_total{job="gateway-collector"}[1m])';
    expect(read(scaler, { metricQuery: query, targetValue: '1' }).value).toBeCloseTo(2, 9);
    collectors(tsdb, ['gw-1']);
    const err = failure(() => read(scaler, { metricQuery: query, targetValue: '1' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/returned 2 series.*wrap the query in an aggregation such as sum/);
    expect(read(scaler, { metricQuery: `sum(${query})`, targetValue: '1' }).value).toBeCloseTo(4, 9);
  });
});

describe('results KEDA can act on', () => {
  it('holds replicas with UNAVAILABLE during warm-up until the query\'s metrics are seen', () => {
    const { tsdb, scaler, advance } = setup(60_000);
    const meta = { metricQuery: 'sum(queue{tier="gw"})', targetValue: '1', valueIfNotFound: '2' };
    const err = failure(() => read(scaler, meta));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(/warming up/);
    // Samples of the metric arrived, just not for this tier: the empty answer is now real.
    tsdb.onIngest(() => undefined);
    tsdb.appendLabels(labelsFromRecord({ __name__: 'queue', tier: 'other' }), NOW, 1);
    tsdb.flushIngest();
    expect(read(scaler, meta).value).toBe(2);
    const other = { metricQuery: 'sum(never_sent)', targetValue: '1' };
    expect(failure(() => read(scaler, other)).code).toBe(status.UNAVAILABLE);
    advance(60_000);
    expect(read(scaler, other).value).toBe(0);
  });

  it('refuses NaN and infinite values with a clear error', () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'x' }), NOW, 1);
    const err = failure(() => read(scaler, { metricQuery: 'sum(x) / 0', targetValue: '1' }));
    expect(err.code).toBe(status.OUT_OF_RANGE);
    expect(err.message).toMatch(/returned \+?Infinity/);
  });

  it('takes a scalar result as the value and judges activity by activationTargetValue', () => {
    const { scaler } = setup();
    expect(read(scaler, { metricQuery: 'scalar(vector(4))', targetValue: '1', activationTargetValue: '3' })).toEqual({ value: 4, active: true });
    expect(read(scaler, { metricQuery: '4', targetValue: '1', activationTargetValue: '4' })).toEqual({ value: 4, active: false });
  });

  it('parses a query once per distinct metadata', () => {
    const { scaler } = setup();
    const ref = { name: 'so', namespace: 'ns', scalerMetadata: { metricQuery: 'sum(x)', targetValue: '1' } };
    expect(scaler.compile(ref)).toBe(scaler.compile({ ...ref, scalerMetadata: { targetValue: '1', metricQuery: 'sum(x)' } }));
    expect(scaler.compile(ref).metricNames).toEqual(['x']);
  });
});

describe('scaler self-metrics', () => {
  it('counts evaluations and their time, and keeps the last reading of each trigger', () => {
    const { tsdb, scaler } = setup();
    tsdb.appendLabels(labelsFromRecord({ __name__: 'x' }), NOW, 5);
    read(scaler, { metricQuery: 'sum(x)', targetValue: '1', activationTargetValue: '2' });
    failure(() => read(scaler, { metricQuery: 'x / 0', targetValue: '1' }));
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
  it('are refused when compiled (GetMetricSpec), with the position of the result and its type', () => {
    const { scaler } = setup();
    const cases: [string, RegExp][] = [
      ['otelcol_exporter_queue_size[5m]', /"metricQuery": 1:1: the query gives a range vector; KEDA needs a scalar or an instant vector \(wrap it in a function over time such as rate/],
      ['# per pod\n  (sum(x)[5m:1m])', /"metricQuery": 2:3: the query gives a range vector/],
      ['"queue"', /"metricQuery": 1:1: the query gives a string; KEDA needs a scalar or an instant vector$/],
    ];
    for (const [metricQuery, message] of cases) {
      const err = failure(() => scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery, targetValue: '1' } }));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.message).toMatch(message);
    }
    expect(scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery: 'scalar(sum(x))', targetValue: '1' } }).spec.query).toBe('scalar(sum(x))');
  });
});
