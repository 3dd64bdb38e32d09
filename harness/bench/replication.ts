import { parsePeers } from '../../src/config.js';
import { freePorts } from '../free-ports.js';
import { AppChild } from '../app/child.js';
import type { DataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { APP_CONFIG, timedIngest, type NetworkIngest } from './per-size.js';

export interface ReplicationResult {
  /** Peers each request is forwarded to: 0 is a lone replica, replication off. */
  peers: number;
  /** Ingest as the collector sees it: answered by the replica it pushed to. */
  ingest: NetworkIngest;
  /** Points a second until every replica held every point. */
  allHeldPps: number;
  /** Requests the first replica could not forward (its queue for a peer was full). */
  dropped: number;
}

/** Larger than the data set, so the figure is the cost of forwarding everything, not of dropping. */
const QUEUE_BYTES = 2 ** 31 - 1;

async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`keda_otlp_scaler_${name}`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * The cost of replication: the data set pushed over gRPC into one replica that forwards every
 * request to 0, 1 or 2 peers, each a process of its own on the same machine, as in production.
 */
export async function replicationBench(data: DataSet, batch: number, concurrency: number): Promise<ReplicationResult[]> {
  const steps = encodeAll(data, batch);
  const requests = steps.reduce((n, s) => n + s.length, 0);
  const points = data.series.length * steps.length;
  const results: ReplicationResult[] = [];
  for (const peers of [0, 1, 2]) {
    const flat = await freePorts(3 * (peers + 1));
    const ports = Array.from({ length: peers + 1 }, (_, i) => ({ otlpGrpcPort: flat[3 * i]!, otlpHttpPort: flat[3 * i + 1]!, httpPort: flat[3 * i + 2]! }));
    const list = peers === 0 ? [] : parsePeers(ports.map((p) => `127.0.0.1:${p.otlpGrpcPort}:${p.httpPort}`).join(','));
    const apps = await Promise.all(ports.map((p) => AppChild.start({ ...APP_CONFIG, ...p, peers: list, peerQueueBytes: QUEUE_BYTES })));
    try {
      const t0 = performance.now();
      const ingest = await timedIngest(apps[0]!, steps, points, 'grpc', concurrency);
      for (const peer of apps.slice(1)) {
        while ((await metricSum(peer.ports.http, 'replication_received_total')) < requests) await new Promise((r) => setTimeout(r, 20));
      }
      const allHeldPps = points / ((performance.now() - t0) / 1000);
      results.push({ peers, ingest, allHeldPps, dropped: await metricSum(apps[0]!.ports.http, 'replication_dropped_total') });
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  }
  return results;
}
