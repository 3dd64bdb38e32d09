import { AggregationType } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/promql/eval/engine.js';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { EXPORTER_KINDS, exporter, exportClient, oneResource, sdk, startHarness, type Harness } from './harness.js';
import { parseQuery } from '../../src/promql/parser/parse.js';

/** Every instrument pushed by the real SDK, then read back through PromQL by its Prometheus names. */
describe.each(EXPORTER_KINDS)('PromQL over what the SDK pushed over %s', (kind) => {
  let h: Harness;
  let engine: Engine;
  const scalar = (query: string) => {
    const { value } = engine.instant(parseQuery(query), Date.now() + 1000);
    if (value.type !== 'vector') throw new Error(`${query} gave a ${value.type}`);
    if (value.samples.length !== 1) throw new Error(`${query} gave ${value.samples.length} samples`);
    return value.samples[0]!.v;
  };

  beforeAll(async () => {
    h = await startHarness({ exponentialHistograms: 'classic' });
    engine = new Engine(h.tsdb);
    const cumulative = sdk(exporter(h, kind), { 'service.name': 'collector', 'service.instance.id': 'pod-1' }, [
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ]);
    const delta = sdk(exporter(h, kind, true), { 'service.name': 'collector', 'service.instance.id': 'pod-2' });
    const m = cumulative.meter;
    m.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}' }).add(40, { receiver: 'otlp' });
    const d = delta.meter.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}' });
    d.add(1, { receiver: 'otlp' });
    m.createUpDownCounter('otelcol_exporter_queue_size', { unit: '{batches}' }).add(-2);
    m.createObservableGauge('process.memory.usage', { unit: 'By' }).addCallback((r) => r.observe(1024));
    const hist = m.createHistogram('http.server.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 2.5] } });
    for (const v of [0.05, 0.5, 0.7, 2, 30]) hist.record(v);
    const expo = m.createHistogram('payload.size', { unit: 'By' });
    for (const v of [1, 2, 4, 8]) expo.record(v);
    await cumulative.flush();
    await delta.flush();
    d.add(2, { receiver: 'otlp' });
    await delta.flush();
    await cumulative.shutdown();
    await delta.shutdown();

    const client = exportClient(h);
    const t = String(BigInt(Date.now()) * 1_000_000n);
    await client.send(
      encodeRequest(
        oneResource({ 'service.name': 'rpc' }, [
          {
            name: 'rpc.duration',
            unit: 's',
            summary: { data_points: [{ time_unix_nano: t, count: 4, sum: 2.5, quantile_values: [{ quantile: 0.9, value: 1.25 }] }] },
          },
        ]),
      ),
    );
    client.close();
  });
  afterAll(() => h.close());

  it('sums counters by either name, cumulative and delta alike', () => {
    expect(scalar('sum(otelcol_receiver_accepted_spans_total)')).toBe(43);
    expect(scalar('sum(otelcol_receiver_accepted_spans)')).toBe(43);
    expect(scalar('otelcol_receiver_accepted_spans{instance="pod-2"}')).toBe(3);
  });

  it('reads gauges and up-down counters', () => {
    expect(scalar('sum(otelcol_exporter_queue_size)')).toBe(-2);
    expect(scalar('process_memory_usage_bytes{job="collector"}')).toBe(1024);
  });

  it('computes quantiles from explicit-bucket histograms', () => {
    // Rank 2.5 of 5 falls in (0.1, 1], which holds 2 of the values after 1 below it.
    expect(scalar('histogram_quantile(0.5, sum by (le) (http_server_duration_seconds_bucket))')).toBeCloseTo(0.775, 12);
    expect(scalar('histogram_quantile(0.5, sum by (le) (http_server_duration_bucket))')).toBeCloseTo(0.775, 12);
    expect(scalar('sum(http_server_duration_seconds_count)')).toBe(5);
    expect(scalar('sum(http_server_duration_seconds_sum)')).toBeCloseTo(33.25, 12);
  });

  it('computes quantiles from exponential histograms at their bucket boundaries', () => {
    // Rank 3 of 4 is exactly the count at le="4", so the estimate is that bound.
    expect(scalar('histogram_quantile(0.75, sum by (le) (payload_size_bytes_bucket))')).toBeCloseTo(4, 9);
    expect(scalar('histogram_quantile(1, sum by (le) (payload_size_bytes_bucket))')).toBeCloseTo(8, 9);
    expect(scalar('payload_size_bytes_count')).toBe(4);
  });

  it('reads summaries', () => {
    expect(scalar('rpc_duration_seconds{quantile="0.9"}')).toBe(1.25);
    expect(scalar('rpc_duration_seconds_sum / rpc_duration_seconds_count')).toBe(0.625);
  });
});
