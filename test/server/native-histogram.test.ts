import { status, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KedaClient } from '../../harness/clients/keda.js';
import type { App } from '../../src/server/app.js';
import { apiGet } from '../api/http.js';
import { startTestApp } from '../support/app.js';

const QUANTILE = 'histogram_quantile(0.9, sum(rate(request_duration_seconds[1m])))';

/**
 * An exponential histogram pushed by the real SDK (a view sets its aggregation) is one native
 * histogram series, and the same quantile comes back through the query API and KEDA's API.
 */
describe('an exponential histogram from the SDK, read as a native histogram', () => {
  let app: App;
  let keda: KedaClient;
  let provider: MeterProvider;

  beforeAll(async () => {
    app = await startTestApp();
    const reader = new PeriodicExportingMetricReader({
      exporter: new GrpcExporter({ url: `http://127.0.0.1:${app.ports.otlpGrpc}` }),
      exportIntervalMillis: 3_600_000,
    });
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'pod-1' }),
      readers: [reader],
      views: [{ instrumentName: 'request.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const hist = provider.getMeter('checkout').createHistogram('request.duration', { unit: 's' });
    hist.record(1);
    await reader.forceFlush();
    // A second push a little later: the increase between them is ten requests of 4 s.
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 10; i++) hist.record(4);
    await reader.forceFlush();
    keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  });

  afterAll(async () => {
    keda?.close();
    await provider?.shutdown();
    await app?.close();
  });

  it('stores one series with the histogram, not classic buckets', async () => {
    const res = await apiGet(app, '/api/v1/query', { query: 'request_duration_seconds' });
    expect(res.body.data.result).toHaveLength(1);
    expect(res.body.data.result[0].histogram[1]).toMatchObject({ count: '11', sum: '41' });
    const classic = await apiGet(app, '/api/v1/query', { query: 'request_duration_seconds_bucket' });
    expect(classic.body.data.result).toEqual([]);
  });

  it('answers the same quantile over HTTP and to KEDA, inside the bucket of the requests observed', async () => {
    const res = await apiGet(app, '/api/v1/query', { query: QUANTILE });
    expect(res.body.status).toBe('success');
    const viaHttp = Number(res.body.data.result[0].value[1]);
    const viaKeda = await keda.value(QUANTILE);
    expect(viaKeda).toBeCloseTo(viaHttp, 9);
    // Every request of the window took 4 s, and 4 is a bucket's upper bound at every schema from 5 up
    // (the SDK's 160 buckets hold 1 to 4 at its scale 6), so the estimate lies in (4 / 2^(1/32), 4].
    expect(viaHttp).toBeGreaterThan(4 / 2 ** (1 / 32));
    expect(viaHttp).toBeLessThanOrEqual(4);
    expect(await keda.value('histogram_count(sum(rate(request_duration_seconds[1m])))')).toBeGreaterThan(0);
  });

  it('refuses at GetMetricSpec a trigger whose query gives the histogram itself, naming what to take from it', async () => {
    const ref = (metricQuery: string) => ({ name: 'so', namespace: 'default', scalerMetadata: { metricQuery, targetValue: '1' } });
    const err = await keda.getMetricSpec(ref('sum(rate(request_duration_seconds[1m]))')).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/returns a native histogram; KEDA needs a number: take one from it with histogram_quantile/);
    const spec = await keda.getMetricSpec(ref(QUANTILE));
    expect(spec.metricSpecs[0]!.targetSizeFloat).toBe(1);
  });
});
