import { AppChild } from '../app/child.js';
import { KedaClient } from '../clients/keda.js';
import { grpcClient, sendSteps } from '../clients/otlp.js';
import type { DataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { pollGetMetrics, warmGetMetrics } from './getmetrics-load.js';
import { httpGetter } from './http-get.js';
import { APP_CONFIG } from './per-size.js';
import type { Latency } from './stats.js';

export interface BesideQueriesResult {
  getMetrics: Latency;
  /** The scaler's longest event-loop delay while the large answers were written, ms. */
  loopDelayMaxMs: number;
  /** Large answers written while GetMetrics was being called. */
  queries: number;
  /** Bytes of one large answer. */
  answerBytes: number;
}

/**
 * KEDA's GetMetrics, called back to back (10 ms apart) while the API answers an instant query for
 * every series of the data set, one after another: how long KEDA waits behind a large answer
 * being evaluated and written, and the scaler's longest event-loop delay meanwhile.
 */
export async function getMetricsBesideQueries(data: DataSet, batch: number, concurrency: number, seconds: number): Promise<BesideQueriesResult> {
  const app = await AppChild.start(APP_CONFIG);
  const otlp = grpcClient(app.ports.otlpGrpc);
  const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  const api = httpGetter(app.ports.http);
  const everySeries = `/api/v1/query?query=${encodeURIComponent('{__name__=~".+"}')}&time=${data.endMs / 1000}`;
  try {
    await sendSteps(encodeAll(data, batch), concurrency, otlp.send);
    await warmGetMetrics(keda);
    const first = await api.get(everySeries);
    if (first.status !== 200) throw new Error(`the large query answered ${first.status}: ${first.body.slice(0, 200)}`);
    await app.stats();
    const end = performance.now() + seconds * 1000;
    let queries = 0;
    const load = (async () => {
      while (performance.now() < end) {
        const res = await api.get(everySeries);
        if (res.status !== 200) throw new Error(`the large query answered ${res.status}`);
        queries++;
      }
    })();
    const getMetrics = await pollGetMetrics(keda, end);
    await load;
    const { lagMaxMs } = await app.stats();
    return { getMetrics, loopDelayMaxMs: lagMaxMs, queries, answerBytes: Buffer.byteLength(first.body) };
  } finally {
    api.close();
    keda.close();
    otlp.close();
    await app.stop();
  }
}
