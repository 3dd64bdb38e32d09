import { AggregationType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { EXPORTER_KINDS, exporter, latest, sdk, value, useHarness, withThreads } from './harness.js';

describe.each(withThreads(EXPORTER_KINDS))('every SDK instrument over %s, %i ingest threads', (kind, ingestThreads) => {
  const h = useHarness({ ingestThreads });
  const classic = useHarness({ exponentialHistograms: 'classic', ingestThreads });

  it('turns a delta counter into a cumulative one', async () => {
    const pod = sdk(exporter(h, kind, true), { 'service.name': 'delta-svc' });
    const c = pod.meter.createCounter('jobs.done', { unit: '{jobs}' });
    c.add(10, { queue: 'a' });
    await pod.flush();
    c.add(5, { queue: 'a' });
    c.add(2, { queue: 'b' });
    await pod.flush();
    c.add(1, { queue: 'a' });
    await pod.flush();
    // An idle interval sends nothing for queue b; its next delta still adds up.
    await new Promise((resolve) => setTimeout(resolve, 5));
    c.add(3, { queue: 'b' });
    await pod.flush();
    expect(value(h.tsdb, 'jobs_done_total', { queue: 'a' })).toBe(16);
    expect(value(h.tsdb, 'jobs_done_total', { queue: 'b' })).toBe(5);
    expect(value(h.tsdb, 'jobs_done', { queue: 'b' })).toBe(5);
    await pod.shutdown();
  });

  it('stores an UpDownCounter as a gauge without _total, negatives kept', async () => {
    const pod = sdk(exporter(h, kind), { 'service.name': 'svc' });
    const u = pod.meter.createUpDownCounter('queue.depth', { unit: '{items}' });
    u.add(5);
    u.add(-8);
    await pod.flush();
    expect(value(h.tsdb, 'queue_depth')).toBe(-3);
    expect(latest(h.tsdb, 'queue_depth_total')).toEqual({});
    expect(h.tsdb.metadata('queue_depth').get('queue_depth')?.type).toBe('gauge');
    await pod.shutdown();
  });

  it('stores an ObservableGauge with unit 1 as _ratio and doubles as they are', async () => {
    const pod = sdk(exporter(h, kind), { 'service.name': 'svc' });
    pod.meter.createObservableGauge('cpu.utilization', { unit: '1' }).addCallback((r) => r.observe(0.25, { cpu: '0' }));
    await pod.flush();
    expect(value(h.tsdb, 'cpu_utilization_ratio', { cpu: '0' })).toBe(0.25);
    expect(value(h.tsdb, 'cpu_utilization', { cpu: '0' })).toBe(0.25);
    await pod.shutdown();
  });

  it('stores an explicit-bucket histogram as cumulative _bucket{le}, _count and _sum', async () => {
    const pod = sdk(exporter(h, kind), { 'service.name': 'svc' });
    const hist = pod.meter.createHistogram('http.server.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 2.5] } });
    for (const v of [0.05, 0.5, 0.7, 2, 30]) hist.record(v, { route: '/x' });
    await pod.flush();
    expect(latest(h.tsdb, 'http_server_duration_seconds_bucket')).toEqual({
      'http_server_duration_seconds_bucket{job="svc", le="0.1", route="/x"}': 1,
      'http_server_duration_seconds_bucket{job="svc", le="1", route="/x"}': 3,
      'http_server_duration_seconds_bucket{job="svc", le="2.5", route="/x"}': 4,
      'http_server_duration_seconds_bucket{job="svc", le="+Inf", route="/x"}': 5,
    });
    expect(value(h.tsdb, 'http_server_duration_seconds_count')).toBe(5);
    expect(value(h.tsdb, 'http_server_duration_seconds_sum')).toBeCloseTo(33.25, 10);
    expect(Object.keys(latest(h.tsdb, 'http_server_duration_bucket'))).toHaveLength(4);
    await pod.shutdown();
  });

  it('turns a delta histogram into cumulative buckets', async () => {
    const pod = sdk(exporter(h, kind, true), { 'service.name': 'delta-svc' });
    const hist = pod.meter.createHistogram('batch.size', { advice: { explicitBucketBoundaries: [1, 10] } });
    hist.record(0.5);
    hist.record(2);
    await pod.flush();
    hist.record(0.5);
    hist.record(20);
    await pod.flush();
    expect(latest(h.tsdb, 'batch_size_bucket')).toEqual({
      'batch_size_bucket{job="delta-svc", le="1"}': 2,
      'batch_size_bucket{job="delta-svc", le="10"}': 3,
      'batch_size_bucket{job="delta-svc", le="+Inf"}': 4,
    });
    expect(value(h.tsdb, 'batch_size_count')).toBe(4);
    expect(value(h.tsdb, 'batch_size_sum')).toBe(23);
    await pod.shutdown();
  });

  it('stores an exponential histogram as one native histogram series', async () => {
    const pod = sdk(exporter(h, kind), { 'service.name': 'svc' }, [
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ]);
    const hist = pod.meter.createHistogram('payload.size', { unit: 'By' });
    for (const v of [1, 2, 4, 8]) hist.record(v);
    await pod.flush();
    expect(latest(h.tsdb, 'payload_size_bytes_bucket')).toEqual({});
    expect(latest(h.tsdb, 'payload_size_bytes_count')).toEqual({});
    const series = [...h.tsdb.allSeries()].filter((s) => s.metricName === 'payload_size_bytes');
    expect(series).toHaveLength(1);
    const lane = series[0]!.histograms!;
    const native = lane.hs[lane.length - 1]!;
    expect(native).toMatchObject({ count: 4, sum: 15, zeroCount: 0, counterResetHint: 'unknown' });
    // Powers of two are upper bounds of buckets at every schema >= 0, Prometheus's bucket i being (base^(i-1), base^i].
    expect(native.schema).toBeGreaterThanOrEqual(0);
    expect(
      native
        .buckets()
        .filter((b) => b.count > 0)
        .map((b) => [b.upper, b.count]),
    ).toEqual([
      [1, 1],
      [2, 1],
      [4, 1],
      [8, 1],
    ]);
    await pod.shutdown();
  });

  it('with --exponential-histograms classic, stores an exponential histogram as classic buckets at its bucket boundaries', async () => {
    const h = classic;
    const pod = sdk(exporter(h, kind), { 'service.name': 'svc' }, [
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ]);
    const hist = pod.meter.createHistogram('payload.size', { unit: 'By' });
    for (const v of [1, 2, 4, 8]) hist.record(v);
    await pod.flush();
    const buckets = latest(h.tsdb, 'payload_size_bytes_bucket');
    // Powers of two are bucket boundaries at every scale >= 0, and bucket i is (base^i, base^(i+1)].
    expect(buckets['payload_size_bytes_bucket{job="svc", le="1"}']).toBe(1);
    expect(buckets['payload_size_bytes_bucket{job="svc", le="2"}']).toBe(2);
    expect(buckets['payload_size_bytes_bucket{job="svc", le="4"}']).toBe(3);
    expect(buckets['payload_size_bytes_bucket{job="svc", le="8"}']).toBe(4);
    expect(buckets['payload_size_bytes_bucket{job="svc", le="+Inf"}']).toBe(4);
    const ordered = Object.entries(buckets)
      .map(([k, v]) => [Number(/le="([^"]+)"/.exec(k)![1]!.replace('+Inf', 'Infinity')), v] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]![1]).toBeGreaterThanOrEqual(ordered[i - 1]![1]);
    expect(value(h.tsdb, 'payload_size_bytes_count')).toBe(4);
    expect(value(h.tsdb, 'payload_size_bytes_sum')).toBe(15);
    await pod.shutdown();
  });
});
