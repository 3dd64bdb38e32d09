import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';
import { apiGet, baseUrl, useSeededApp, type ApiResponse } from './http.js';

const TOO_MANY = /^query processing would load too many samples into memory in query execution/;
const TIMED_OUT = /^query timed out in expression evaluation/;

/** Queries that would hold far more points than the limit, at every place a subquery can be. */
const HUGE = [
  'max_over_time(vector(1)[1d:1ms])',
  'count_over_time(vector(1)[1y:1ms])',
  'sum(max_over_time(vector(1)[1d:1ms]))',
  'topk(1, count_over_time(vector(1)[1y:1ms]))',
  'max_over_time(max_over_time(vector(1)[1d:1ms])[5m:1m])',
  'count_over_time(absent(nothing_here)[1d:1ms])',
  'max_over_time((queue_size + 1)[1y:1ms])',
  'count_over_time(vector(1)[1d:1ms]) + on() group_left count_over_time(vector(2)[1d:1ms])',
];

describe('query bounds through the HTTP API', () => {
  const { app, end } = useSeededApp({ queryTimeoutMs: 2_000, queryMaxSamples: 1_000_000, queryMaxConcurrency: 1 });

  beforeAll(() => {
    for (let i = 0; i < 200; i++) {
      for (let t = end - 600_000; t <= end; t += 15_000) app.tsdb.appendLabels(labelsFromRecord({ __name__: 'wide', i: String(i) }), t, i);
    }
  });

  const query = (q: string): Promise<ApiResponse> => apiGet(app, '/api/v1/query', { query: q, time: String(end / 1000) });

  it.each(HUGE)('refuses %s with 422 / execution before it allocates, as Prometheus words it', async (q) => {
    const res = await query(q);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 'error', errorType: 'execution' });
    expect(res.body.error).toMatch(TOO_MANY);
  });

  it('bounds a subquery inside a range query, and a range query whose output is too large', async () => {
    const inRange = await apiGet(app, '/api/v1/query_range', {
      query: 'max_over_time(vector(1)[1h:1ms])',
      start: String(end / 1000 - 3600),
      end: String(end / 1000),
      step: '60',
    });
    expect(inRange.status).toBe(422);
    expect(inRange.body.error).toMatch(TOO_MANY);
    // 10,000 steps of 200 series: 2,000,000 output points, twice the limit; 2,000 steps fit.
    const range = (q: string, steps: number) =>
      apiGet(app, '/api/v1/query_range', { query: q, start: String((end - 600_000) / 1000), end: String(end / 1000), step: String(600 / steps) });
    const wide = await range('wide', 10_000);
    expect(wide.status).toBe(422);
    expect(wide.body.error).toMatch(TOO_MANY);
    const fits = await range('sum(wide)', 2_000);
    expect(fits.status).toBe(200);
    const sums = new Set((fits.body.data.result[0].values as [number, string][]).map(([, v]) => v));
    expect([...sums]).toEqual(['19900']);
  });

  it('stops a nested subquery at the timeout with 503 / timeout', async () => {
    const started = performance.now();
    const res = await query('max_over_time(max_over_time(vector(1)[1d:1s])[1d:1s])');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'error', errorType: 'timeout' });
    expect(res.body.error).toMatch(TIMED_OUT);
    // The 2 s timeout, not minutes: generous for a loaded machine.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('serves /readyz, KEDA and OTLP ingest while a long query runs, on every port', async () => {
    const client = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    const pod = podMeterProvider(new ProtoExporter({ url: `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics` }), { 'service.name': 'bounds' });
    try {
      pod.meter.createGauge('pushed_during_query').record(7);
      await client.value('1');
      let settled = false;
      const long = query('max_over_time(max_over_time(vector(1)[1d:1s])[1d:1s])').finally(() => {
        settled = true;
      });
      // Let the long query start on the API's lane (concurrency 1) before calling the rest.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(settled).toBe(false);
      const timed = async <T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> => {
        const t = performance.now();
        const value = await call();
        return { value, ms: performance.now() - t };
      };
      const ready = await timed(async () => (await fetch(`${baseUrl(app)}/readyz`)).status);
      const keda = await timed(() => client.value('sum(queue_size)'));
      await timed(() => pod.flush());
      const pushed = await timed(() => client.value('pushed_during_query'));
      expect(settled).toBe(false);
      expect(ready.value).toBe(200);
      expect(keda.value).toBe(109.5);
      expect(pushed.value).toBe(7);
      // Each answer came while the query held its lane, long before its 2 s timeout; the bound is
      // generous for a loaded machine, the aim (and the usual figure) is tens of milliseconds.
      for (const { ms } of [ready, keda, pushed]) expect(ms).toBeLessThan(1_000);
      expect((await long).status).toBe(503);
    } finally {
      client.close();
      await pod.provider.shutdown();
    }
  });
});
