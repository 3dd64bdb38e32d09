import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';
import { EXAMPLES_DIR, parseDocs, readYaml, type K8sDoc } from './render.js';

interface CollectorConfig {
  service: {
    telemetry: {
      resource: Record<string, string>;
      metrics: { readers: { periodic: { exporter: { otlp: { protocol: string; endpoint: string } } } }[] };
    };
  };
}
type Pod = ReturnType<typeof podMeterProvider>;

const scaledObjects: K8sDoc[] = readdirSync(join(EXAMPLES_DIR, 'scaledobjects'))
  .flatMap((f) => parseDocs(readFileSync(join(EXAMPLES_DIR, 'scaledobjects', f), 'utf8')))
  .filter((d) => d.kind === 'ScaledObject');

function triggers(name: string): { name: string; metadata: Record<string, string> }[] {
  const doc = scaledObjects.find((d) => d.metadata.name === name)!;
  return (doc.spec as { triggers: { name: string; metadata: Record<string, string> }[] }).triggers;
}

/**
 * The seeds' two-tier pattern, driven by the files in examples/: collector "pods" of both tiers
 * push their own telemetry the way the example collector configs say (OTLP/HTTP protobuf to
 * /v1/metrics, resource from service::telemetry::resource), and KEDA's client asks with the
 * example ScaledObjects' trigger metadata.
 */
describe('the two-tier example end to end', () => {
  let app: App;
  let keda: KedaClient;
  const pods: Pod[] = [];

  /** A pod of the tier the collector config describes, exporting as that config does but to this test's port. */
  function collectorPod(tier: string, instance: string): Pod {
    const config = readYaml<CollectorConfig>(join(EXAMPLES_DIR, 'collector', `${tier}.yaml`));
    const { otlp } = config.service.telemetry.metrics.readers[0]!.periodic.exporter;
    expect(otlp.protocol).toBe('http/protobuf');
    const url = new URL(otlp.endpoint);
    url.host = `127.0.0.1:${app.ports.otlpHttp}`;
    const pod = podMeterProvider(new ProtoExporter({ url: url.toString() }), {
      ...config.service.telemetry.resource,
      'service.instance.id': instance,
    });
    pods.push(pod);
    return pod;
  }

  beforeAll(async () => {
    app = await startTestApp();
    keda = new KedaClient(`127.0.0.1:${app.ports.otlpHttp}`);

    const gateway = [collectorPod('gateway-collector', 'gw-0'), collectorPod('gateway-collector', 'gw-1')];
    const tail = [collectorPod('tail-sampling-collector', 'ts-0'), collectorPod('tail-sampling-collector', 'ts-1')];
    const queues = new Map<Pod, number>([[gateway[0]!, 30], [gateway[1]!, 50], [tail[0]!, 900], [tail[1]!, 100]]);
    const onMemory = new Map<Pod, number>([[tail[0]!, 12_000], [tail[1]!, 18_000]]);
    const accepted = [...gateway, ...tail].map((p) =>
      p.meter.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}' }),
    );
    const newTraces = tail.map((p) => p.meter.createCounter('otelcol_processor_tail_sampling_new_trace_id_received', { unit: '{traces}' }));
    for (const [pod, size] of queues) {
      pod.meter.createObservableGauge('otelcol_exporter_queue_size', { unit: '{batches}' }).addCallback((r) => r.observe(size, { exporter: 'loadbalancing', data_type: 'traces' }));
    }
    for (const [pod, traces] of onMemory) {
      pod.meter.createObservableGauge('otelcol_processor_tail_sampling_sampling_traces_on_memory', { unit: '{traces}' }).addCallback((r) => r.observe(traces));
    }
    for (const c of accepted) c.add(1_000, { receiver: 'otlp', transport: 'grpc' });
    for (const c of newTraces) c.add(100);
    await Promise.all(pods.map((p) => p.flush()));
    // A second push a little later gives rate() two samples per series.
    await new Promise((r) => setTimeout(r, 1_100));
    for (const c of accepted) c.add(4_000, { receiver: 'otlp', transport: 'grpc' });
    for (const c of newTraces) c.add(300);
    await Promise.all(pods.map((p) => p.flush()));
  });

  afterAll(async () => {
    keda?.close();
    await Promise.all(pods.map((p) => p.provider.shutdown()));
    await app?.close();
  });

  async function value(scaledObject: string, trigger: string): Promise<number> {
    const t = triggers(scaledObject).find((x) => x.name === trigger)!;
    const res = await keda.getMetrics({ name: scaledObject, namespace: 'observability', scalerMetadata: t.metadata });
    expect(res.metricValues).toHaveLength(1);
    return res.metricValues[0]!.metricValueFloat;
  }

  it("sums the gateway's exporter queues and nothing of the tail-sampling tier's", async () => {
    expect(await value('gateway-collector', 'exporter-queue')).toBe(80);
  });

  it('sums the traces the tail-sampling replicas hold in memory', async () => {
    expect(await value('tail-sampling-collector', 'traces-in-memory')).toBe(30_000);
  });

  /** A query's value from the PromQL API at a fixed instant: rate() extrapolates up to the evaluation time. */
  async function valueAt(query: string, time: number): Promise<number> {
    const url = `http://127.0.0.1:${app.ports.http}/api/v1/query?time=${time}&query=${encodeURIComponent(query)}`;
    const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
    expect(body.data.result, query).toHaveLength(1);
    return Number(body.data.result[0]!.value[1]);
  }

  it('gives per-second rates for accepted spans and new traces, each tier only its own', async () => {
    expect(await value('gateway-collector', 'accepted-spans')).toBeGreaterThan(0);
    expect(await value('tail-sampling-collector', 'new-traces')).toBeGreaterThan(0);
    const at = Date.now() / 1000;
    const gatewayQuery = triggers('gateway-collector').find((t) => t.name === 'accepted-spans')!.metadata.metricQuery!;
    const gateway = await valueAt(gatewayQuery, at);
    const tail = await valueAt(gatewayQuery.replace('job="gateway-collector"', 'job="tail-sampling-collector"'), at);
    const both = await valueAt(gatewayQuery.replace(', job="gateway-collector"', ''), at);
    expect(gateway).toBeGreaterThan(0);
    expect(tail).toBeGreaterThan(0);
    expect(both).toBeCloseTo(gateway + tail, 6);
  });

  it('reports every example trigger active, so KEDA would scale from zero too', async () => {
    for (const name of ['gateway-collector', 'tail-sampling-collector']) {
      for (const t of triggers(name)) {
        const res = await keda.isActive({ name, namespace: 'observability', scalerMetadata: t.metadata });
        expect(res.result, `${name}/${t.name}`).toBe(true);
      }
    }
  });

  it('gives KEDA the targetValue as the per-replica target of each trigger', async () => {
    for (const name of ['gateway-collector', 'tail-sampling-collector']) {
      for (const t of triggers(name)) {
        const spec = await keda.getMetricSpec({ name, namespace: 'observability', scalerMetadata: t.metadata });
        expect(spec.metricSpecs[0]!.targetSizeFloat).toBe(Number(t.metadata.targetValue));
      }
    }
  });
});
