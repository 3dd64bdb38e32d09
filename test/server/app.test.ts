import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';

/**
 * The whole path: two "pods" push with the real OpenTelemetry SDK, one over OTLP/gRPC to 4317
 * and one over OTLP/HTTP protobuf to 4318; KEDA's client asks on both gRPC ports.
 */
describe.each([0, 2])('OTLP in, PromQL out, KEDA answered, %i ingest threads', (ingestThreads) => {
  let app: App;
  let clients: { port: string; client: KedaClient }[];
  let pods: ReturnType<typeof podMeterProvider>[];

  beforeAll(async () => {
    app = await startTestApp({ ingestThreads });
    const podA = podMeterProvider(new GrpcExporter({ url: `http://127.0.0.1:${app.ports.otlpGrpc}` }), {
      'service.name': 'gateway-collector',
      'service.instance.id': 'pod-a',
    });
    const podB = podMeterProvider(new ProtoExporter({ url: `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics` }), {
      'service.name': 'gateway-collector',
      'service.instance.id': 'pod-b',
    });
    pods = [podA, podB];
    const queue = { 'pod-a': 3, 'pod-b': 4 };
    const counters = pods.map((p) => p.meter.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}', description: 'Spans accepted' }));
    pods.forEach((p, i) => {
      const pod = i === 0 ? 'pod-a' : 'pod-b';
      p.meter.createObservableGauge('otelcol_exporter_queue_size', { unit: '{batches}' }).addCallback((r) => r.observe(queue[pod], { exporter: 'otlp' }));
    });
    counters[0]!.add(10, { receiver: 'otlp' });
    counters[1]!.add(20, { receiver: 'otlp' });
    await Promise.all(pods.map((p) => p.flush()));
    // A second push a little later gives rate() two samples to work with.
    await new Promise((r) => setTimeout(r, 1100));
    counters[0]!.add(5, { receiver: 'otlp' });
    await Promise.all(pods.map((p) => p.flush()));
    clients = [
      { port: '4317', client: new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`) },
      { port: '4318', client: new KedaClient(`127.0.0.1:${app.ports.otlpHttp}`) },
    ];
  });

  afterAll(async () => {
    for (const { client } of clients ?? []) client.close();
    await Promise.all((pods ?? []).map((p) => p.provider.shutdown()));
    await app?.close();
  });

  it.each(['4317', '4318'])('answers GetMetrics with the exact gauge sum and counter total on %s', async (port) => {
    const { client } = clients.find((c) => c.port === port)!;
    expect(await client.value('sum(otelcol_exporter_queue_size)')).toBe(7);
    expect(await client.value('sum(otelcol_receiver_accepted_spans)')).toBe(35);
    expect(await client.value('sum(otelcol_receiver_accepted_spans_total)')).toBe(35);
    expect(await client.value('sum(rate(otelcol_receiver_accepted_spans[1m]))')).toBeGreaterThan(0);
  });

  it.each(['4317', '4318'])('gives the metric spec and activity on %s', async (port) => {
    const { client } = clients.find((c) => c.port === port)!;
    const ref = {
      name: 'gateway',
      namespace: 'observability',
      scalerMetadata: { metricQuery: 'sum(otelcol_exporter_queue_size)', targetValue: '2.5', activationTargetValue: '5' },
    };
    const spec = await client.getMetricSpec(ref);
    expect(spec.metricSpecs).toHaveLength(1);
    expect(spec.metricSpecs[0]!.targetSizeFloat).toBe(2.5);
    expect(spec.metricSpecs[0]!.metricName).toMatch(/^otlp-gateway-[0-9a-f]{8}$/);
    expect((await client.isActive(ref)).result).toBe(true);
    const inactive = { ...ref, scalerMetadata: { ...ref.scalerMetadata, activationTargetValue: '7' } };
    expect((await client.isActive(inactive)).result).toBe(false);
  });

  it('answers the same values from /api/v1/query, GET and POST', async () => {
    const base = `http://127.0.0.1:${app.ports.http}/api/v1/query`;
    const get = await fetch(`${base}?query=${encodeURIComponent('sum(otelcol_receiver_accepted_spans_total)')}`);
    expect(get.status).toBe(200);
    const body = (await get.json()) as { status: string; data: { resultType: string; result: { value: [number, string] }[] } };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result[0]!.value[1]).toBe('35');
    const post = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: 'sum(otelcol_exporter_queue_size)' }).toString(),
    });
    const posted = (await post.json()) as typeof body;
    expect(posted.data.result[0]!.value[1]).toBe('7');
  });

  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
  it.skipIf(!promtool)('prints the value through promtool query instant (Debian package prometheus)', async () => {
    // Asynchronously: the server under test shares this process's event loop.
    const { stdout: out } = await promisify(execFile)(promtool!, [
      'query',
      'instant',
      `http://127.0.0.1:${app.ports.http}`,
      'sum(otelcol_exporter_queue_size)',
    ]);
    expect(out).toMatch(/^\{\} => 7 @\[\d+(\.\d+)?\]$/m);
  });

  it('keeps job and instance from the resource', async () => {
    const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/query?query=otelcol_exporter_queue_size`);
    const body = (await res.json()) as { data: { result: { metric: Record<string, string> }[] } };
    const metrics = body.data.result.map((r) => r.metric).sort((a, b) => a.instance!.localeCompare(b.instance!));
    expect(metrics.map((m) => [m.job, m.instance, m.exporter])).toEqual([
      ['gateway-collector', 'pod-a', 'otlp'],
      ['gateway-collector', 'pod-b', 'otlp'],
    ]);
  });

  it('rejects a malformed OTLP/HTTP body with 400 and keeps serving', async () => {
    const res = await fetch(`http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    expect(res.status).toBe(400);
    expect(await clients[1]!.client.value('sum(otelcol_exporter_queue_size)')).toBe(7);
  });

  it('rejects a query with a syntax error with INVALID_ARGUMENT giving the position', async () => {
    const ref = { name: 'bad', namespace: 'default', scalerMetadata: { metricQuery: 'sum(rate(x[1m])', targetValue: '1' } };
    for (const { client } of clients) {
      const err = await client.getMetricSpec(ref).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/metricQuery.*1:\d+: parse error/);
    }
  });

  it('rejects a missing targetValue with INVALID_ARGUMENT naming it', async () => {
    const ref = { name: 'bad', namespace: 'default', scalerMetadata: { metricQuery: 'sum(x)' } };
    const err = await clients[0]!.client.getMetricSpec(ref).then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toContain('targetValue');
  });
});
