import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Config } from '../../src/config.js';
import { WriteAheadLog } from '../../src/persist/wal.js';
import { AppChild } from '../app/child.js';
import type { DataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { APP_CONFIG, timedIngest, type NetworkIngest } from './per-size.js';

export interface WalResult {
  /** The data set over gRPC into a scaler without a data dir, with snapshots only, and with the write-ahead log too. */
  memory: NetworkIngest;
  snapshots: NetworkIngest;
  wal: NetworkIngest;
  /** Bytes the log held a point once the push was done (the request bodies as sent, and a record header each). */
  walBytesPerPoint: number;
  /** The log's own cost, in this process: appending every request body of the data set, µs a request and ns a point. */
  appendUsPerRequest: number;
  appendNsPerPoint: number;
}

/**
 * What the write-ahead log costs ingest: the same gRPC push into three fresh scalers, each in a
 * data dir of its own under the system's temporary directory. The snapshot interval is longer
 * than the push, so the only disk writes in the second and third runs are the log's.
 */
export async function walBench(data: DataSet, batch: number, concurrency: number): Promise<WalResult> {
  const steps = encodeAll(data, batch);
  const points = data.series.length * steps.length;
  let walBytes = 0;
  const run = async (persist: Partial<Config>): Promise<NetworkIngest> => {
    const app = await AppChild.start({ ...APP_CONFIG, ...persist });
    try {
      const ingest = await timedIngest(app, steps, points, 'grpc', concurrency);
      // Read before the shutdown snapshot, which deletes the log it makes redundant.
      if (persist.wal === true) walBytes = dirBytes(join(persist.dataDir!, 'wal'));
      return ingest;
    } finally {
      await app.stop();
    }
  };
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'bench-wal-')));
  try {
    const memory = await run({});
    const snapshots = await run({ dataDir: dirs[0], snapshotIntervalMs: 3_600_000 });
    const wal = await run({ dataDir: dirs[1], snapshotIntervalMs: 3_600_000, wal: true });
    const append = appendCost(steps.flat(), points);
    return { memory, snapshots, wal, walBytesPerPoint: walBytes / points, ...append };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Appends every body to a log in a temporary data dir, three times over, and keeps the fastest pass. */
function appendCost(bodies: Buffer[], points: number): { appendUsPerRequest: number; appendNsPerPoint: number } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wal-append-'));
  try {
    const wal = new WriteAheadLog(dir, pino({ level: 'silent' }));
    wal.open(Date.now());
    let best = Infinity;
    for (let pass = 0; pass < 3; pass++) {
      const t0 = performance.now();
      for (const body of bodies) wal.append('otlp-protobuf', body, Date.now());
      best = Math.min(best, performance.now() - t0);
      wal.cut(Date.now());
    }
    wal.close();
    return { appendUsPerRequest: (best * 1000) / bodies.length, appendNsPerPoint: (best * 1e6) / points };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
