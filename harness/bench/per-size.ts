import { AppChild } from '../app/child.js';
import type { DataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { grpcClient, httpClient, sendSteps } from '../clients/otlp.js';
import { runQueries, type QueryResult } from './queries.js';
import { encodeRemoteWriteAll, remoteWriteClient } from './remote-write-clients.js';

/** OTLP over gRPC or HTTP, or Prometheus remote write 1.0 / 2.0 (to the API port). */
export type Transport = 'grpc' | 'http' | 'rw1' | 'rw2';

export interface NetworkIngest {
  /** All steps, the first (which creates every series) included, as the peer's samples_per_s. */
  pps: number;
  /** The steps after the first: appends to existing series only. */
  appendPps: number;
  /** CPU seconds the scaler process spent a million points. */
  serverCpuSecondsPerMillion: number;
}

export interface SizeResult {
  n: number;
  grpc: NetworkIngest;
  heapBytesPerSeries: number;
  heap: { heapUsed: number; external: number; rss: number };
  queries: Record<string, QueryResult>;
}

// An hour's retention: a `--steps 60` data set ends 590 s back and takes a while to send, and a
// run measures every sample it sent.
export const APP_CONFIG = { maxSeries: 10_000_000, retentionMs: 3_600_000 };

/** Pushes every step through a transport into a running scaler and times it. */
export async function timedIngest(app: AppChild, steps: Buffer[][], points: number, transport: Transport, concurrency: number): Promise<NetworkIngest> {
  const client =
    transport === 'grpc'
      ? grpcClient(app.ports.otlpGrpc)
      : transport === 'http'
        ? httpClient(app.ports.otlpHttp, concurrency)
        : remoteWriteClient(app.ports.http, concurrency, transport === 'rw1' ? 'v1' : 'v2');
  try {
    const cpu0 = app.cpuSeconds();
    const t0 = performance.now();
    await sendSteps(steps.slice(0, 1), concurrency, client.send);
    const t1 = performance.now();
    await sendSteps(steps.slice(1), concurrency, client.send);
    const t2 = performance.now();
    const cpu = app.cpuSeconds() - cpu0;
    const perStep = points / steps.length;
    return {
      pps: points / ((t2 - t0) / 1000),
      appendPps: (points - perStep) / ((t2 - t1) / 1000),
      serverCpuSecondsPerMillion: (cpu / points) * 1e6,
    };
  } finally {
    client.close();
  }
}

/**
 * One fresh scaler process for one N: gRPC ingest of the whole data set, then memory after a
 * forced GC (less the empty process's), then the queries.
 */
export async function runSize(data: DataSet, batch: number, concurrency: number, warmup: number, runs: number): Promise<SizeResult> {
  const n = data.series.length;
  const steps = encodeAll(data, batch);
  const app = await AppChild.start(APP_CONFIG);
  try {
    const before = await app.stats(true);
    const grpc = await timedIngest(app, steps, n * steps.length, 'grpc', concurrency);
    steps.length = 0;
    const after = await app.stats(true);
    if (after.series !== n) throw new Error(`scaler holds ${after.series} series after ingesting ${n}`);
    const heapUsed = after.heapUsed - before.heapUsed;
    const external = after.external - before.external;
    const queries = await runQueries(app.ports.http, data.endMs, warmup, runs);
    return {
      n,
      grpc,
      heapBytesPerSeries: (heapUsed + external) / n,
      heap: { heapUsed, external, rss: after.rss - before.rss },
      queries,
    };
  } finally {
    await app.stop();
  }
}

/** Ingest of the whole data set into a fresh scaler over one transport. */
export async function runNetworkIngest(data: DataSet, batch: number, concurrency: number, transport: Transport): Promise<NetworkIngest> {
  const steps = transport === 'rw1' || transport === 'rw2' ? encodeRemoteWriteAll(data, batch, transport === 'rw1' ? 'v1' : 'v2') : encodeAll(data, batch);
  const app = await AppChild.start(APP_CONFIG);
  try {
    return await timedIngest(app, steps, data.series.length * steps.length, transport, concurrency);
  } finally {
    await app.stop();
  }
}
