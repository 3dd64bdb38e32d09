import pino from 'pino';
import { defaultConfig } from '../../src/config.js';
import { OtlpReceiver } from '../../src/otlp/receiver.js';
import { runToEnd } from '../../src/otlp/slices.js';
import { decodeWriteRequest } from '../../src/remotewrite/decode.js';
import { decompressSnappy } from '../../src/remotewrite/snappy.js';
import { RemoteWriteStats } from '../../src/remotewrite/stats.js';
import { RemoteWriteStore } from '../../src/remotewrite/store.js';
import type { RemoteWriteVersion } from './remote-write-clients.js';
import { Tsdb } from '../../src/tsdb/db.js';

export interface InprocResult {
  /** Points per second over the steps after the first (every series already exists), median of the rounds. */
  pps: number;
  rounds: number[];
}

/**
 * OTLP protobuf decode + append on this thread, through the receiver the transports use,
 * so the figure is the per-core ceiling of ingest without any networking.
 */
export function ingestInproc(steps: readonly (readonly Buffer[])[], pointsPerStep: number, rounds: number): InprocResult {
  return timeRounds(steps, pointsPerStep, rounds, (tsdb) => {
    const receiver = new OtlpReceiver(tsdb, CONFIG, pino({ level: 'silent' }));
    return (body) => {
      const response = receiver.ingestNow(body, 'protobuf', 'grpc');
      if (response.partialSuccess) throw new Error(`in-process ingest refused points: ${response.partialSuccess.errorMessage}`);
    };
  });
}

/** The same for remote-write bodies: snappy, decode and append on this thread, as the receiver does them. */
export function ingestInprocRemoteWrite(
  steps: readonly (readonly Buffer[])[],
  pointsPerStep: number,
  rounds: number,
  version: RemoteWriteVersion,
): InprocResult {
  return timeRounds(steps, pointsPerStep, rounds, (tsdb) => {
    const store = new RemoteWriteStore(tsdb, new RemoteWriteStats());
    return (body) => {
      const batch = decodeWriteRequest(runToEnd(decompressSnappy(body, CONFIG.maxDecompressedBytes)), version);
      const result = runToEnd(store.storeSlices(batch));
      if (result.rejected > 0) throw new Error(`in-process remote write refused samples: ${result.errorMessage}`);
    };
  });
}

// Decoding on this thread: the figure is one core's.
const CONFIG = defaultConfig({ maxSeries: 10_000_000, ingestThreads: 0 });

/** Median points/s over the steps after the first, each round into a fresh store. */
function timeRounds(
  steps: readonly (readonly Buffer[])[],
  pointsPerStep: number,
  rounds: number,
  ingester: (tsdb: Tsdb) => (body: Buffer) => void,
): InprocResult {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const tsdb = new Tsdb({
      retentionMs: CONFIG.retentionMs,
      maxSeries: CONFIG.maxSeries,
      maxSamplesPerSeries: CONFIG.maxSamplesPerSeries,
      outOfOrderWindowMs: CONFIG.outOfOrderWindowMs,
    });
    const ingest = ingester(tsdb);
    for (const body of steps[0]!) ingest(body);
    const t0 = performance.now();
    for (let s = 1; s < steps.length; s++) for (const body of steps[s]!) ingest(body);
    const seconds = (performance.now() - t0) / 1000;
    results.push(((steps.length - 1) * pointsPerStep) / seconds);
  }
  const sorted = [...results].sort((a, b) => a - b);
  return { pps: sorted[Math.floor(sorted.length / 2)]!, rounds: results };
}
