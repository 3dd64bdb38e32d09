import { gzipSync } from 'node:zlib';
import { Client, compressionAlgorithms, credentials, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { RETRY_INFO_TYPE_URL } from '../../src/otlp/transport/proto.js';
import { checkAlive, type Ports } from './canary.js';
import { httpCall } from './http-call.js';
import { paddedRequest } from './otlp-valid.js';

const EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

export interface BurstOptions {
  /** Requests sent at once on each transport. */
  concurrency: number;
  rounds: number;
  /** What each body inflates to: under the server's decompressed limit, so only the total is at stake. */
  inflatedBytes: number;
  /** The server's peak resident memory so far (VmHWM). */
  peakRssBytes: () => number;
}

export interface BurstReport {
  /** Answers by outcome, per transport: `200`, `429`, `OK`, `RESOURCE_EXHAUSTED`, or what went wrong. */
  http: Record<string, number>;
  grpc: Record<string, number>;
  /** Answers that were neither stored nor a retryable refusal (429 with Retry-After, RESOURCE_EXHAUSTED with RetryInfo). */
  faults: string[];
  compressedBytes: number;
  rssPeakBytes: number;
  alive: string[];
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function hasRetryInfo(metadata: Metadata | undefined): boolean {
  const bin = metadata?.get('grpc-status-details-bin')[0];
  return bin instanceof Buffer && bin.includes(RETRY_INFO_TYPE_URL);
}

/**
 * Many gzip bodies at once on both transports, each a few KiB that inflates to just under the
 * per-request limit: what the per-request limits alone let through. The server must answer each
 * with success or a retryable refusal, stay alive, and keep its memory below the bound the
 * caller judges `rssPeakBytes` against.
 */
export async function inflightBurst(host: string, ports: Ports, o: BurstOptions): Promise<BurstReport> {
  const request = (i: number) => ({
    resource_metrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'burst' } }] },
        scope_metrics: [{ metrics: [{ name: 'burst', gauge: { data_points: [{ as_double: i, time_unix_nano: `${Date.now()}000000` }] } }] }],
      },
    ],
  });
  const raw = paddedRequest(request(1), o.inflatedBytes);
  const gzipped = gzipSync(raw);
  const report: BurstReport = { http: {}, grpc: {}, faults: [], compressedBytes: gzipped.length, rssPeakBytes: 0, alive: [] };
  const clients = Array.from(
    { length: o.concurrency },
    () => new Client(`${host}:${ports.otlpGrpc}`, credentials.createInsecure(), { 'grpc.default_compression_algorithm': compressionAlgorithms.gzip }),
  );

  const viaHttp = async () => {
    const res = await httpCall(
      host,
      ports.otlpHttp,
      'POST',
      '/v1/metrics',
      { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      gzipped,
    ).catch((e: Error) => ({ status: -1, body: Buffer.from(e.message) }));
    count(report.http, String(res.status));
    if (res.status !== 200 && res.status !== 429) report.faults.push(`HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  };
  const viaGrpc = (client: Client) =>
    new Promise<void>((resolve) => {
      client.makeUnaryRequest(
        EXPORT,
        (b: Buffer) => b,
        (b: Buffer) => b,
        raw,
        (err: ServiceError | null) => {
          const outcome = err ? status[err.code] : 'OK';
          count(report.grpc, outcome);
          if (err && !(err.code === status.RESOURCE_EXHAUSTED && hasRetryInfo(err.metadata))) report.faults.push(`gRPC ${outcome}: ${err.details}`);
          resolve();
        },
      );
    });

  for (let round = 0; round < o.rounds; round++) {
    await Promise.all([...clients.map(() => viaHttp()), ...clients.map(viaGrpc)]);
  }
  for (const c of clients) c.close();
  report.rssPeakBytes = o.peakRssBytes();
  report.alive = await checkAlive(host, ports);
  return report;
}

export function formatBurstReport(r: BurstReport, concurrency: number, inflatedBytes: number, boundBytes: number): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const held = r.faults.length === 0 && r.alive.length === 0 && r.rssPeakBytes < boundBytes;
  return [
    `in-flight burst: ${concurrency} gzip bodies at once on each transport, ${(r.compressedBytes / 1024).toFixed(0)} KiB each inflating to ${mib(inflatedBytes)} — ${held ? 'held' : 'FAILED'}`,
    `  HTTP ${JSON.stringify(r.http)}, gRPC ${JSON.stringify(r.grpc)}; peak RSS ${mib(r.rssPeakBytes)} (bound ${mib(boundBytes)}, the chart's memory limit); alive ${r.alive.length === 0 ? 'yes' : r.alive.join('; ')}`,
    ...r.faults.slice(0, 10).map((f) => `  FAULT ${f}`),
  ].join('\n');
}
