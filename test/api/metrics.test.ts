import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';
import { baseUrl } from './http.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

/** The value of one sample line of the text exposition, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  let app: App;
  let keda: KedaClient;
  let pod: ReturnType<typeof podMeterProvider>;
  let text: string;
  let contentType: string | null;

  beforeAll(async () => {
    app = await startTestApp();
    pod = podMeterProvider(new ProtoExporter({ url: `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics` }), {
      'service.name': 'collector',
      'service.instance.id': 'pod-1',
    });
    const queue = pod.meter.createObservableGauge('otelcol_exporter_queue_size');
    queue.addCallback((r) => {
      r.observe(5, { exporter: 'a' });
      r.observe(7, { exporter: 'b' });
    });
    await pod.flush();
    keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    await keda.getMetrics({ name: 'web', namespace: 'shop', scalerMetadata: { metricQuery: 'sum(otelcol_exporter_queue_size)', targetValue: '4' } });
    await keda
      .getMetrics({ name: 'broken', namespace: 'shop', scalerMetadata: { metricQuery: 'otelcol_exporter_queue_size', targetValue: '1' } })
      .catch(() => undefined);
    const res = await fetch(`${baseUrl(app)}/metrics`);
    contentType = res.headers.get('content-type');
    text = await res.text();
  });
  afterAll(async () => {
    keda.close();
    await pod.provider.shutdown();
    await app.close();
  });

  it('is Prometheus text format', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toMatch(/^# HELP keda_otlp_scaler_tsdb_series /m);
    expect(text).toMatch(/^# TYPE keda_otlp_scaler_otlp_points_received_total counter$/m);
  });

  it('counts OTLP points received, accepted and rejected by reason, and requests by transport', () => {
    expect(sample(text, 'keda_otlp_scaler_otlp_points_received_total')).toBe(2);
    expect(sample(text, 'keda_otlp_scaler_otlp_points_accepted_total')).toBe(2);
    expect(sample(text, 'keda_otlp_scaler_otlp_requests_total', { transport: 'http' })).toBe(1);
    expect(sample(text, 'keda_otlp_scaler_otlp_requests_total', { transport: 'grpc' })).toBe(0);
    expect(sample(text, 'keda_otlp_scaler_otlp_points_rejected_total', { reason: 'series_limit' })).toBe(0);
  });

  it('reports the series held and created', () => {
    expect(sample(text, 'keda_otlp_scaler_tsdb_series')).toBe(app.tsdb.seriesCount);
    expect(sample(text, 'keda_otlp_scaler_tsdb_series')).toBe(2);
    expect(sample(text, 'keda_otlp_scaler_tsdb_series_created_total')).toBe(2);
    expect(sample(text, 'keda_otlp_scaler_tsdb_samples_appended_total')).toBe(2);
  });

  it('shows the last value, activity and error of each ScaledObject trigger KEDA asked about', () => {
    const web = { namespace: 'shop', name: 'web' };
    const metricName = app.scaler.status.list().find((t) => t.name === 'web')!.metricName;
    expect(sample(text, 'keda_otlp_scaler_scaledobject_value', { ...web, metric: metricName })).toBe(12);
    expect(sample(text, 'keda_otlp_scaler_scaledobject_active', { ...web, metric: metricName })).toBe(1);
    expect(sample(text, 'keda_otlp_scaler_scaledobject_error', { ...web, metric: metricName })).toBe(0);
    const brokenName = app.scaler.status.list().find((t) => t.name === 'broken')!.metricName;
    expect(sample(text, 'keda_otlp_scaler_scaledobject_error', { namespace: 'shop', name: 'broken', metric: brokenName })).toBe(1);
  });

  it('has process memory, event-loop lag and API request durations by endpoint', async () => {
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    await fetch(`${baseUrl(app)}/api/v1/query?query=1`);
    const after = await (await fetch(`${baseUrl(app)}/metrics`)).text();
    expect(sample(after, 'keda_otlp_scaler_http_request_duration_seconds_count', { endpoint: '/api/v1/query' })).toBe(1);
  });

  it('counts the scaler RPCs KEDA made, by method and gRPC code, and the evaluations they caused', () => {
    expect(sample(text, 'keda_otlp_scaler_scaler_calls_total', { rpc: 'GetMetrics', code: 'OK' })).toBe(1);
    expect(sample(text, 'keda_otlp_scaler_scaler_calls_total', { rpc: 'GetMetrics', code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(sample(text, 'keda_otlp_scaler_scaler_evaluations_total')).toBe(2);
    expect(sample(text, 'keda_otlp_scaler_scaler_evaluation_seconds_total')).toBeGreaterThan(0);
  });

  it.skipIf(!PROMTOOL)(
    PROMTOOL ? 'passes `promtool check metrics`' : 'passes `promtool check metrics`: SKIPPED, promtool not found (apt-get install prometheus)',
    async () => {
      expect(text).toMatch(/^nodejs_active_handles\{type="/m);
      const child = execFile(PROMTOOL!, ['check', 'metrics']);
      child.stdin!.end(text);
      const [code, output] = await new Promise<[number | null, string]>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        child.on('close', (c) => resolve([c, out]));
      });
      expect(output).toBe('');
      expect(code).toBe(0);
    },
  );
});
