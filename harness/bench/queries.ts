import { latency, type Latency } from './stats.js';
import { httpGetter } from './http-get.js';

/** The four queries of the peer harness, under the peer's keys. */
export const QUERIES: Record<string, string> = {
  sum_rate: 'sum(rate(otelcol_receiver_accepted_spans[1m]))',
  sum_by_instance_rate: 'sum by (service_instance_id) (rate(otelcol_receiver_accepted_spans[1m]))',
  max_gauge: 'max(otelcol_exporter_queue_size)',
  histogram_p99: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[1m])))',
};

export interface QueryResult extends Latency {
  resultSeries: number;
  /** The first result's value, to hold against the peer's. */
  sampleValue: number | null;
}

/**
 * Instant queries at the last sample's time over the HTTP API on one keep-alive socket,
 * sequential, warm-up first: the peer harness's method, so the latencies compare.
 */
export async function runQueries(port: number, timeMs: number, warmup: number, runs: number): Promise<Record<string, QueryResult>> {
  const client = httpGetter(port);
  const out: Record<string, QueryResult> = {};
  try {
    for (const [key, query] of Object.entries(QUERIES)) {
      const path = `/api/v1/query?${new URLSearchParams({ query, time: (timeMs / 1000).toFixed(3) })}`;
      const times: number[] = [];
      let body = '';
      for (let i = 0; i < warmup + runs; i++) {
        const r = await client.get(path);
        if (r.status !== 200) throw new Error(`query ${key} answered HTTP ${r.status}: ${r.body.slice(0, 300)}`);
        if (i >= warmup) times.push(r.ms);
        body = r.body;
      }
      const result = (JSON.parse(body) as { data: { result: { value: [number, string] }[] } }).data.result;
      out[key] = { ...latency(times), resultSeries: result.length, sampleValue: result.length > 0 ? Number(result[0]!.value[1]) : null };
    }
  } finally {
    client.close();
  }
  return out;
}
