import pino from 'pino';
import { defaultConfig, type Config } from '../../src/config.js';
import { OtlpReceiver } from '../../src/otlp/receiver.js';
import { Engine } from '../../src/promql/eval/engine.js';
import { parseQuery } from '../../src/promql/parser/parse.js';
import { ExportMetricsServiceRequest } from '../../src/otlp/transport/proto.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { unit } from './dataset.js';
import { nanos } from './encode.js';
import { latency } from './stats.js';

/** One of `--exponential-histograms` on the same histograms: bytes a histogram, and a quantile over all of them. */
export interface HistogramResult {
  mode: Config['exponentialHistograms'];
  histograms: number;
  /** Series the store holds for them: one a histogram when native, a bucket series a boundary and two more when classic. */
  series: number;
  bytesPerHistogram: number;
  quantileP50Ms: number;
  quantileP99Ms: number;
  /** The quantile's value, which both modes must agree on to the bucket. */
  value: number;
}

const STEPS = 30;
const INTERVAL_MS = 10_000;
const POINTS_PER_REQUEST = 1000;
/** Scale 3 (8 buckets a power of two) over 2^-4 … 2^2.5 s: 52 buckets, most of a request-duration histogram's range. */
const SCALE = 3;
const OFFSET = -32;
const BUCKETS = 52;

const QUERIES: Record<Config['exponentialHistograms'], string> = {
  native: 'histogram_quantile(0.9, sum(rate(latency_seconds[1m])))',
  classic: 'histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[1m])))',
};

/** Cumulative exponential histograms of `n` pods, one request a POINTS_PER_REQUEST pods, one list a step. */
function encodeHistograms(n: number, endMs: number): Buffer[][] {
  const startMs = endMs - STEPS * INTERVAL_MS - 3_600_000;
  const counts = Array.from({ length: n }, () => new Array<number>(BUCKETS).fill(0));
  const steps: Buffer[][] = [];
  for (let step = 0; step < STEPS; step++) {
    const t = endMs - (STEPS - 1 - step) * INTERVAL_MS;
    const bodies: Buffer[] = [];
    for (let from = 0; from < n; from += POINTS_PER_REQUEST) {
      const points = [];
      for (let pod = from; pod < Math.min(n, from + POINTS_PER_REQUEST); pod++) {
        const c = counts[pod]!;
        // 20–40 observations a step around bucket 20 + pod % 8, spread over its neighbours.
        for (let k = 0; k < 20 + Math.floor(20 * unit(pod, step, 0)); k++)
          c[Math.min(BUCKETS - 1, 12 + (pod % 8) + Math.floor(16 * unit(pod, step, 1000 + k)))]!++;
        const count = c.reduce((a, b) => a + b, 0);
        points.push({
          attributes: [{ key: 'pod', value: { string_value: `pod-${pod}` } }],
          start_time_unix_nano: nanos(startMs),
          time_unix_nano: nanos(t),
          count,
          sum: count * 0.5,
          scale: SCALE,
          zero_count: 0,
          positive: { offset: OFFSET, bucket_counts: c },
        });
      }
      const request = {
        resource_metrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { string_value: 'gateway' } }] },
            scope_metrics: [{ metrics: [{ name: 'latency', unit: 's', exponential_histogram: { aggregation_temporality: 2, data_points: points } }] }],
          },
        ],
      };
      bodies.push(Buffer.from(ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(request)).finish()));
    }
    steps.push(bodies);
  }
  return steps;
}

function heapBytes(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * `n` cumulative exponential histograms, 30 samples each, through the OTLP receiver in this
 * process under each `--exponential-histograms`: the store's bytes a histogram (heap + external
 * after GC, less the empty store's) and histogram_quantile(0.9) over the sum of all of them.
 */
export function histogramBench(n: number, runs: number): HistogramResult[] {
  const endMs = Math.floor(Date.now() / 1000) * 1000;
  const steps = encodeHistograms(n, endMs);
  return (['native', 'classic'] as const).map((mode) => {
    const config = defaultConfig({ maxSeries: 10_000_000, exponentialHistograms: mode });
    const before = heapBytes();
    const tsdb = new Tsdb({ retentionMs: config.retentionMs, maxSeries: config.maxSeries, outOfOrderWindowMs: config.outOfOrderWindowMs });
    const receiver = new OtlpReceiver(tsdb, config, pino({ level: 'silent' }));
    for (const bodies of steps) {
      for (const body of bodies) {
        const response = receiver.ingestNow(body, 'protobuf', 'grpc');
        if (response.partialSuccess) throw new Error(`histogram bench: points refused: ${response.partialSuccess.errorMessage}`);
      }
    }
    const bytes = heapBytes() - before;
    const engine = new Engine(tsdb);
    const query = parseQuery(QUERIES[mode]);
    const times: number[] = [];
    let value = NaN;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const result = engine.instant(query, endMs);
      times.push(performance.now() - t0);
      if (result.value.type === 'vector') value = result.value.samples[0]?.v ?? NaN;
    }
    const { p50, p99 } = latency(times);
    return { mode, histograms: n, series: tsdb.seriesCount, bytesPerHistogram: bytes / n, quantileP50Ms: p50, quantileP99Ms: p99, value };
  });
}
