import { status, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';

/**
 * Kedify's own ScaledObject forms, sent as KEDA sends them to the real app, on data pushed with
 * the real OpenTelemetry SDK: three replicas of Dapr's `nodeapp` and one `pythonapp`.
 */
describe("Kedify otel-add-on queries through KEDA's gRPC API", () => {
  let app: App;
  let client: KedaClient;
  let pods: ReturnType<typeof podMeterProvider>[];

  beforeAll(async () => {
    app = await startTestApp();
    const replicas: [string, string, number][] = [
      ['nodeapp-0', 'nodeapp', 2],
      ['nodeapp-1', 'nodeapp', 4],
      ['nodeapp-2', 'nodeapp', 6],
      ['pythonapp-0', 'pythonapp', 100],
    ];
    pods = replicas.map(([pod, appId, count]) => {
      const p = podMeterProvider(new ProtoExporter({ url: `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics` }), {
        'service.name': appId,
        'service.instance.id': pod,
      });
      p.meter.createObservableGauge('dapr_app_count').addCallback((r) => r.observe(count, { app_id: appId }));
      p.meter.createCounter('runtime_service_invocation_req_recv').add(10, { app_id: appId, src_app_id: 'pythonapp' });
      return p;
    });
    await Promise.all(pods.map((p) => p.flush()));
    // A second push a little later gives the rate two samples.
    await new Promise((r) => setTimeout(r, 1100));
    for (const p of pods) p.meter.createCounter('runtime_service_invocation_req_recv').add(30, { app_id: 'nodeapp', src_app_id: 'pythonapp' });
    await Promise.all(pods.map((p) => p.flush()));
    client = new KedaClient(`127.0.0.1:${app.ports.otlpHttp}`);
  });

  afterAll(async () => {
    client?.close();
    await Promise.all((pods ?? []).map((p) => p.provider.shutdown()));
    await app?.close();
  });

  const ref = (scalerMetadata: Record<string, string>) => ({
    name: 'dapr-nodeapp',
    namespace: 'default',
    scalerMetadata: { scalerAddress: 'keda-otel-scaler.keda.svc:4318', targetValue: '1', ...scalerMetadata },
  });

  async function value(scalerMetadata: Record<string, string>): Promise<number> {
    const r = ref(scalerMetadata);
    expect((await client.getMetricSpec(r)).metricSpecs[0]!.targetSizeFloat).toBe(1);
    return (await client.getMetrics(r)).metricValues[0]!.metricValueFloat;
  }

  it('accepts quoted label values, double or single, with and without operationOverTime', async () => {
    expect(await value({ metricQuery: 'avg(dapr_app_count{app_id="nodeapp"})', operationOverTime: 'last_one' })).toBe(4);
    expect(await value({ metricQuery: "max(dapr_app_count{app_id='nodeapp'})", operationOverTime: 'max' })).toBe(6);
    expect(await value({ metricQuery: 'min(dapr_app_count{"app_id"="nodeapp"})', operationOverTime: 'min' })).toBe(2);
    // Without operationOverTime a quoted query is plain PromQL, with the same answer here.
    expect(await value({ metricQuery: 'avg(dapr_app_count{app_id="nodeapp"})' })).toBe(4);
    expect(await value({ metricQuery: 'sum(dapr_app_count{app_id=nodeapp})' })).toBe(12);
  });

  it('counts the matching series with `count`, whatever the operation over time', async () => {
    expect(await value({ metricQuery: 'count(dapr_app_count{app_id="nodeapp"})', operationOverTime: 'rate' })).toBe(3);
    expect(await value({ metricQuery: 'count(dapr_app_count{app_id=nodeapp})' })).toBe(3);
    expect(await value({ metricQuery: 'count(dapr_app_count)', operationOverTime: 'avg' })).toBe(4);
  });

  it("answers Kedify's Dapr example (quoted matchers, rate of a counter)", async () => {
    const meta = {
      metricQuery: 'sum(runtime_service_invocation_req_recv_total{app_id="nodeapp",src_app_id="pythonapp"})',
      operationOverTime: 'rate',
      clampMax: '1000',
    };
    const v = await value(meta);
    // Prometheus's rate over the add-on's 2-minute window, not the add-on's last-minus-first.
    const promql = 'sum(rate(runtime_service_invocation_req_recv_total{app_id="nodeapp", src_app_id="pythonapp"}[2m]))';
    expect(app.scaler.compile(ref(meta)).spec.query).toBe(promql);
    expect(v).toBeGreaterThan(0);
    expect(v).toBeCloseTo(await client.value(promql), 1);
  });

  it('rejects at GetMetricSpec what is neither form, naming the key and the form', async () => {
    const err = (await client
      .getMetricSpec(ref({ metricQuery: 'sum(dapr_app_count{app_id=~"node.*"})', operationOverTime: 'rate' }))
      .catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/"metricQuery".*agg\(metric\{label=value.*count.*bare or quoted/);
  });
});
