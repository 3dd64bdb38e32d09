import pino from 'pino';
import { defaultConfig } from '../src/config.js';
import { OtlpReceiver } from '../src/otlp/receiver.js';
import { Tsdb } from '../src/tsdb/db.js';

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
  const config = defaultConfig({ maxSeries: 10_000_000 });
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const tsdb = new Tsdb({ retentionMs: config.retentionMs, maxSeries: config.maxSeries, maxSamplesPerSeries: config.maxSamplesPerSeries, outOfOrderWindowMs: config.outOfOrderWindowMs });
    const receiver = new OtlpReceiver(tsdb, config, pino({ level: 'silent' }));
    for (const body of steps[0]!) receiver.exportProtobuf(body, 'grpc');
    const t0 = performance.now();
    for (let s = 1; s < steps.length; s++) {
      for (const body of steps[s]!) {
        const response = receiver.exportProtobuf(body, 'grpc');
        if (response.partialSuccess) throw new Error(`in-process ingest refused points: ${response.partialSuccess.errorMessage}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    results.push(((steps.length - 1) * pointsPerStep) / seconds);
  }
  const sorted = [...results].sort((a, b) => a - b);
  return { pps: sorted[Math.floor(sorted.length / 2)]!, rounds: results };
}
