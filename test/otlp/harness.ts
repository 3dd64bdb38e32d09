import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentials, makeGenericClientConstructor, Server as GrpcServer, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ViewOptions } from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { ExportMetricsServiceResponse, metricsServiceDefinition } from '../../src/otlp/transport/proto.js';
import { OtlpReceiver, type OtlpOptions } from '../../src/otlp/receiver.js';
import { otlpGrpcLimits } from '../../src/otlp/transport/grpc-limits.js';
import { metricsServiceImplementation } from '../../src/otlp/transport/grpc-service.js';
import { handleOtlpHttp } from '../../src/otlp/transport/http-handler.js';
import { Tsdb, type TsdbOptions } from '../../src/tsdb/db.js';
import { labelsString } from '../../src/tsdb/labels.js';
import { Matcher } from '../../src/tsdb/matcher.js';

/** An OTLP receiver served on ephemeral loopback ports: node:http for OTLP/HTTP, grpc-js for gRPC. */
export interface Harness {
  tsdb: Tsdb;
  receiver: OtlpReceiver;
  httpUrl: string;
  grpcAddress: string;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<OtlpOptions> = {}, tsdbOptions: Partial<TsdbOptions> = {}): Promise<Harness> {
  const tsdb = new Tsdb(tsdbOptions);
  // Decoding on the event loop unless a test asks for threads, whatever `auto` would start on this machine.
  const config = { ...defaultConfig(), ingestThreads: 0, ...options };
  const receiver = new OtlpReceiver(tsdb, config, pino({ level: 'silent' }));
  const http: HttpServer = createServer((req, res) => handleOtlpHttp(req, res, receiver));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const grpc = new GrpcServer({ interceptors: [otlpGrpcLimits(receiver)], 'grpc.max_receive_message_length': config.maxDecompressedBytes });
  grpc.addService(metricsServiceDefinition(), metricsServiceImplementation(receiver));
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return {
    tsdb,
    receiver,
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    close: async () => {
      grpc.forceShutdown();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await receiver.close();
    },
  };
}

/** Decoding on the event loop, and in two worker threads: the receiver's behaviour must not differ. */
export const INGEST_THREADS = [0, 2] as const;

/** Each of `cases` with each of INGEST_THREADS, for describe.each. */
export function withThreads<T>(cases: readonly T[]): [T, number][] {
  return cases.flatMap((c) => INGEST_THREADS.map((t): [T, number] => [c, t]));
}

/** The harness of the describe block this is called in, as useTestApp (test/support/app.ts) gives an app. */
export function useHarness(options: Partial<OtlpOptions> = {}, tsdbOptions: Partial<TsdbOptions> = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await startHarness(options, tsdbOptions));
  });
  afterAll(() => h.close());
  return h;
}

export type ExporterKind = 'grpc' | 'http/protobuf' | 'http/json';
export const EXPORTER_KINDS: readonly ExporterKind[] = ['grpc', 'http/protobuf', 'http/json'];

/** A real OpenTelemetry OTLP metric exporter of the given transport, pointed at the harness. */
export function exporter(h: Harness, kind: ExporterKind, delta = false): PushMetricExporter {
  const temporalityPreference = delta ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE;
  switch (kind) {
    case 'grpc':
      return new GrpcExporter({ url: `http://${h.grpcAddress}`, temporalityPreference });
    case 'http/protobuf':
      return new ProtoExporter({ url: `${h.httpUrl}/v1/metrics`, temporalityPreference });
    case 'http/json':
      return new JsonExporter({ url: `${h.httpUrl}/v1/metrics`, temporalityPreference });
  }
}

/** An SDK meter provider that exports only when flushed, so each test decides when pushes happen. */
export function sdk(exp: PushMetricExporter, resource: Record<string, string>, views: ViewOptions[] = []) {
  const reader = new PeriodicExportingMetricReader({ exporter: exp, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader], views });
  return {
    meter: provider.getMeter('test-meter', '1.2.3'),
    flush: () => reader.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The newest value of every series selected by a metric name, keyed by its label text. */
export function latest(tsdb: Tsdb, name: string, more: Matcher[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of tsdb.select([new Matcher('=', '__name__', name), ...more])) {
    out[labelsString(s.labels)] = s.valueAt(s.length - 1);
  }
  return out;
}

/** The newest value of the single series a name and label matchers select. */
export function value(tsdb: Tsdb, name: string, labels: Record<string, string> = {}): number | undefined {
  const series = tsdb.select([new Matcher('=', '__name__', name), ...Object.entries(labels).map(([k, v]) => new Matcher('=', k, v))]);
  if (series.length !== 1)
    throw new Error(`${name}${JSON.stringify(labels)} selects ${series.length} series: ${series.map((s) => labelsString(s.labels)).join(' ')}`);
  const s = series[0]!;
  return s.valueAt(s.length - 1);
}

/** A request of one resource, one scope and the given metrics (proto field names). */
export function oneResource(resource: Record<string, string>, metrics: object[]): object {
  return {
    resource_metrics: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { string_value: v } })) },
        scope_metrics: [{ scope: { name: 'test' }, metrics }],
      },
    ],
  };
}

export function decodeResponse(bytes: Uint8Array): { partial_success?: { rejected_data_points: number; error_message: string } } {
  return ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(bytes), { longs: Number }) as never;
}

/** A raw gRPC client of MetricsService/Export: sends bytes as they are, so malformed messages can be sent. */
export function exportClient(h: Harness): { send(bytes: Buffer): Promise<ExportResponseBytes>; close(): void } {
  const Client = makeGenericClientConstructor(metricsServiceDefinition(), 'MetricsService');
  const client = new Client(h.grpcAddress, credentials.createInsecure()) as unknown as {
    Export(req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void): void;
    close(): void;
  };
  return {
    send: (bytes) => new Promise((resolve) => client.Export(bytes, (err, res) => resolve(err ? { error: err } : { response: decodeResponse(res) }))),
    close: () => client.close(),
  };
}

export type ExportResponseBytes = { error: ServiceError } | { response: ReturnType<typeof decodeResponse> };
