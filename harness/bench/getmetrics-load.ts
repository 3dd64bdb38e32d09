import { AppChild } from '../app/child.js';
import type { DataSet } from './dataset.js';
import { encodeAll, encodeBatch, nanos } from './encode.js';
import { KedaClient } from '../clients/keda.js';
import { grpcClient, sendSteps } from '../clients/otlp.js';
import { APP_CONFIG } from './per-size.js';
import { latency, sleep, type Latency } from './stats.js';

export interface LoadResult {
  getMetrics: Latency;
  targetPps: number;
  achievedPps: number;
  /** The scaler's event-loop delay during the load, ms: how long one piece of work held it. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** The gateway tier's trigger, as KEDA asks for it in the sections that time GetMetrics. */
const QUERY_REF = {
  name: 'bench',
  namespace: 'default',
  scalerMetadata: { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans[1m]))', targetValue: '100' },
};
/** Time between two GetMetrics calls of one poller. */
const GET_METRICS_GAP_MS = 10;

/** Calls GetMetrics for the gateway trigger, 10 ms apart, until `end` (performance.now() time): the latencies KEDA saw. */
export async function pollGetMetrics(keda: KedaClient, end: number): Promise<Latency> {
  const times: number[] = [];
  while (performance.now() < end) {
    const t0 = performance.now();
    await keda.getMetrics(QUERY_REF);
    times.push(performance.now() - t0);
    await sleep(GET_METRICS_GAP_MS);
  }
  return latency(times);
}

/** Warms the gateway trigger's evaluation before GetMetrics is timed. */
export async function warmGetMetrics(keda: KedaClient): Promise<void> {
  for (let i = 0; i < 20; i++) await keda.getMetrics(QUERY_REF);
}

/** Offsets of every 8-byte timestamp equal to `ms` in an encoded request, to rewrite them per send. */
function timestampOffsets(body: Buffer, ms: number): number[] {
  const { low, high } = nanos(ms);
  const needle = Buffer.alloc(8);
  needle.writeInt32LE(low, 0);
  needle.writeInt32LE(high, 4);
  const out: number[] = [];
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + 8)) out.push(at);
  return out;
}

/**
 * KEDA's GetMetrics, called back to back (10 ms apart) while OTLP pushes arrive over gRPC at
 * `targetPps`: the latency KEDA sees when the scaler is busy ingesting. The load re-sends the
 * data set's last step with the wall-clock time, so every push appends to existing series.
 */
export async function getMetricsUnderLoad(data: DataSet, batch: number, concurrency: number, targetPps: number, seconds: number): Promise<LoadResult> {
  const app = await AppChild.start(APP_CONFIG);
  const otlp = grpcClient(app.ports.otlpGrpc);
  const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  try {
    await sendSteps(encodeAll(data, batch), concurrency, otlp.send);
    const marker = data.endMs + 123;
    const last = data.values.length - 1;
    const templates: { body: Buffer; offsets: number[]; points: number }[] = [];
    for (let from = 0; from < data.series.length; from += batch) {
      const to = Math.min(data.series.length, from + batch);
      const body = encodeBatch(data, last, from, to, marker);
      templates.push({ body, offsets: timestampOffsets(body, marker), points: to - from });
    }
    await warmGetMetrics(keda);
    await app.stats();

    const requestsPerSecond = targetPps / batch;
    const start = performance.now();
    const end = start + seconds * 1000;
    let sentPoints = 0;
    let inFlight = 0;
    let lastMs = 0;
    let failure: unknown;
    const load = (async () => {
      for (let i = 0; performance.now() < end && failure === undefined; i++) {
        const due = start + (i * 1000) / requestsPerSecond;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        // Behind schedule with every slot busy: wait for one rather than queue without bound.
        while (inFlight >= concurrency) await sleep(1);
        const template = templates[i % templates.length]!;
        if (i % templates.length === 0) lastMs = Math.max(lastMs + 1, Date.now());
        const body = Buffer.from(template.body);
        const { low, high } = nanos(lastMs);
        for (const at of template.offsets) {
          body.writeInt32LE(low, at);
          body.writeInt32LE(high, at + 4);
        }
        inFlight++;
        otlp.send(body).then(
          () => {
            inFlight--;
            sentPoints += template.points;
          },
          (e: unknown) => {
            failure = e;
          },
        );
      }
      while (inFlight > 0 && failure === undefined) await sleep(1);
    })();
    const getMetrics = await pollGetMetrics(keda, end);
    await load;
    const achievedPps = sentPoints / ((performance.now() - start) / 1000);
    const { lagP99Ms, lagMaxMs } = await app.stats();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what a send() rejected with
    if (failure !== undefined) throw failure;
    return { getMetrics, targetPps, achievedPps, loopDelayP99Ms: lagP99Ms, loopDelayMaxMs: lagMaxMs };
  } finally {
    keda.close();
    otlp.close();
    await app.stop();
  }
}
