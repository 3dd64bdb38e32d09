import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExpr } from '../../src/promql/parser/parse.js';
import { parseTrigger } from '../../src/scaler/trigger.js';
import { validateManifest } from './models.js';
import { EXAMPLES_DIR, findDoc, findRenderer, parseDocs, readYaml, render, type K8sDoc } from './render.js';

const SCALED_OBJECTS_DIR = join(EXAMPLES_DIR, 'scaledobjects');
const COLLECTOR_DIR = join(EXAMPLES_DIR, 'collector');
/** The address the chart gives a release named keda-otlp-scaler in namespace keda. */
const SCALER_ADDRESS = 'keda-otlp-scaler.keda.svc:4318';

interface Trigger {
  type: string;
  name?: string;
  metricType?: string;
  metadata: Record<string, string>;
}

const manifests: [string, K8sDoc][] = readdirSync(SCALED_OBJECTS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseDocs(readFileSync(join(SCALED_OBJECTS_DIR, f), 'utf8')).map((d): [string, K8sDoc] => [f, d]));
const scaledObjects = manifests.map(([, d]) => d).filter((d) => d.kind === 'ScaledObject');

function scaledObject(name: string): K8sDoc {
  const found = scaledObjects.find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no ScaledObject ${name} in examples`);
  return found;
}
function triggersOf(doc: K8sDoc): Trigger[] {
  return (doc.spec as { triggers: Trigger[] }).triggers;
}
/** Every job="..." a query selects on. */
function jobsIn(query: string): string[] {
  return [...query.matchAll(/job="([^"]*)"/g)].map((m) => m[1]!);
}

describe('example ScaledObjects', () => {
  it('include the gateway and the tail-sampling tiers', () => {
    expect(scaledObjects.map((d) => d.metadata.name).sort()).toEqual(['gateway-collector', 'tail-sampling-collector']);
  });

  for (const [file, doc] of manifests) {
    it(`${file}: ${doc.kind} ${doc.metadata.name} validates against the KEDA schema`, () => {
      expect(() => validateManifest(doc)).not.toThrow();
    });
  }

  for (const doc of scaledObjects) {
    it(`${doc.metadata.name}: every trigger is an external trigger the scaler accepts`, () => {
      const triggers = triggersOf(doc);
      expect(triggers.length).toBeGreaterThan(0);
      for (const trigger of triggers) {
        expect(trigger.type).toBe('external');
        expect(trigger.metricType).toBe('AverageValue');
        expect(trigger.metadata.scalerAddress).toBe(SCALER_ADDRESS);
        const spec = parseTrigger({ name: doc.metadata.name, namespace: doc.metadata.namespace ?? 'default', scalerMetadata: trigger.metadata });
        expect(spec.targetValue).toBeGreaterThan(0);
        expect(Number(trigger.metadata.activationTargetValue)).toBeGreaterThanOrEqual(0);
        expect(() => parseExpr(spec.query), spec.query).not.toThrow();
        expect(jobsIn(spec.query)).toEqual([doc.metadata.name]);
      }
    });
  }

  for (const doc of scaledObjects) {
    it(`${doc.metadata.name}: an empty result is an error, so KEDA's fallback applies instead of scaling to the minimum`, () => {
      const fallback = (doc.spec as { fallback?: { failureThreshold: number; replicas: number } }).fallback;
      expect(fallback?.failureThreshold).toBeGreaterThan(0);
      expect(fallback?.replicas).toBeGreaterThan((doc.spec as { minReplicaCount: number }).minReplicaCount);
      for (const trigger of triggersOf(doc)) {
        expect(parseTrigger({ name: doc.metadata.name, namespace: 'default', scalerMetadata: trigger.metadata }).ifNotFound).toBe('error');
      }
    });
  }

  it('scale the gateway on accepted spans per replica and on exporter queue size', () => {
    const queries = triggersOf(scaledObject('gateway-collector')).map((t) => t.metadata.metricQuery);
    expect(queries).toEqual([
      'sum(rate(otelcol_receiver_accepted_spans{receiver="otlp", job="gateway-collector"}[1m]))',
      'sum(otelcol_exporter_queue_size{job="gateway-collector"})',
    ]);
  });

  it('scale the tail-sampling tier on traces in memory, and scale it in slowly', () => {
    const doc = scaledObject('tail-sampling-collector');
    const queries = triggersOf(doc).map((t) => t.metadata.metricQuery);
    expect(queries[0]).toBe('sum(otelcol_processor_tail_sampling_sampling_traces_on_memory{job="tail-sampling-collector"})');
    const scaleDown = (doc.spec as any).advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: expect.any(Number) }]);
    const gatewayDown = (scaledObject('gateway-collector').spec as any).advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThan(gatewayDown.stabilizationWindowSeconds);
  });

  it('target the tier whose collector config pushes the metrics', () => {
    for (const doc of scaledObjects) {
      const target = (doc.spec as any).scaleTargetRef;
      expect(target).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: doc.metadata.name });
      const config = readYaml<Record<string, any>>(join(COLLECTOR_DIR, `${doc.metadata.name}.yaml`));
      expect(config.service.telemetry.resource['service.name']).toBe(doc.metadata.name);
    }
  });

  it('use the mTLS TriggerAuthentication parameters KEDA knows', () => {
    const auth = manifests.map(([, d]) => d).find((d) => d.kind === 'TriggerAuthentication')!;
    const params = (auth.spec as any).secretTargetRef.map((r: { parameter: string }) => r.parameter);
    expect(params.sort()).toEqual(['caCert', 'tlsClientCert', 'tlsClientKey']);
  });
});

describe('example collector configs', () => {
  const files = readdirSync(COLLECTOR_DIR).filter((f) => f.endsWith('.yaml'));

  it('cover both tiers', () => {
    expect(files.sort()).toEqual(['gateway-collector.yaml', 'tail-sampling-collector.yaml']);
  });

  for (const file of files) {
    it(`${file} pushes the collector's own metrics to the scaler's OTLP/HTTP port under its service.name`, () => {
      const config = readYaml<Record<string, any>>(join(COLLECTOR_DIR, file));
      const telemetry = config.service.telemetry;
      expect(telemetry.resource['service.name']).toBe(file.replace(/\.yaml$/, ''));
      expect(telemetry.metrics.level).toBe('normal');
      const readers = telemetry.metrics.readers as { periodic: { interval: number; exporter: { otlp: { protocol: string; endpoint: string } } } }[];
      expect(readers).toHaveLength(1);
      const { interval, exporter } = readers[0]!.periodic;
      expect(interval).toBeLessThanOrEqual(15_000);
      expect(exporter.otlp.protocol).toBe('http/protobuf');
      const url = new URL(exporter.otlp.endpoint);
      expect(`${url.host}`).toBe(SCALER_ADDRESS);
      expect(url.pathname).toBe('/v1/metrics');
      for (const [name, pipeline] of Object.entries(config.service.pipelines as Record<string, any>)) {
        for (const component of [...pipeline.receivers, ...pipeline.processors, ...pipeline.exporters]) {
          const section = pipeline.receivers.includes(component) ? 'receivers' : pipeline.processors.includes(component) ? 'processors' : 'exporters';
          expect(config[section], `${name}: ${component}`).toHaveProperty(component);
        }
      }
    });
  }

  it('route spans by trace ID from the gateway to the tail-sampling tier', () => {
    const gateway = readYaml<Record<string, any>>(join(COLLECTOR_DIR, 'gateway-collector.yaml'));
    expect(gateway.exporters.loadbalancing.routing_key).toBe('traceID');
    expect(gateway.exporters.loadbalancing.resolver.dns.hostname).toMatch(/^tail-sampling-collector/);
    const tail = readYaml<Record<string, any>>(join(COLLECTOR_DIR, 'tail-sampling-collector.yaml'));
    expect(tail.service.pipelines.traces.processors).toContain('tail_sampling');
  });
});

const found = findRenderer();
describe.skipIf(found.kind === 'none')('examples against the chart', () => {
  it('point at the address the chart gives a release named keda-otlp-scaler in namespace keda', () => {
    if (found.kind === 'none') return;
    const service = findDoc(render(found, { release: 'keda-otlp-scaler', namespace: 'keda' }), 'Service');
    const port = (service.spec as any).ports.find((p: { name: string }) => p.name === 'otlp-http').port;
    expect(`${service.metadata.name}.${service.metadata.namespace}.svc:${port}`).toBe(SCALER_ADDRESS);
  });
});
