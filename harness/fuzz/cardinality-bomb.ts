import { ExportMetricsServiceResponse } from '../../src/otlp/transport/proto.js';
import { httpCall } from './http-call.js';
import { manySeriesRequest } from '../clients/otlp.js';
import type { Ports } from './canary.js';

const BATCH = 2_000;

export interface BombReport {
  /** Series the server took before refusing, pushed before the bomb. */
  filled: number;
  /** New series in the bomb, all past the limit. */
  bombSeries: number;
  /** Points the server said it rejected (OTLP partial_success), during the bomb. */
  rejectedReported: number;
  /** The server's `series_limit` rejection counter on /metrics, before and after the bomb. */
  metricsRejectedBefore: number;
  metricsRejectedAfter: number;
  rssFilledBytes: number;
  rssPeakBytes: number;
  /** `count(bomb_fill)` from the API after the bomb: the series stored before it. */
  earlierCounted: number;
}

/** The body of a request that must answer 200. */
async function ok(host: string, port: number, path: string, body?: Buffer): Promise<Buffer> {
  const res = await httpCall(host, port, body ? 'POST' : 'GET', path, body ? { 'content-type': 'application/x-protobuf' } : {}, body);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  return res.body;
}

async function rejectedIn(host: string, ports: Ports, body: Buffer): Promise<number> {
  const r = ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(await ok(host, ports.otlpHttp, '/v1/metrics', body)), {
    longs: Number,
  }) as {
    partial_success?: { rejected_data_points?: number };
  };
  return r.partial_success?.rejected_data_points ?? 0;
}

async function seriesLimitRejections(host: string, ports: Ports): Promise<number> {
  const text = (await ok(host, ports.http, '/metrics')).toString();
  const m = /keda_otlp_scaler_otlp_points_rejected_total\{reason="series_limit"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Fills the server up to its series limit, then sends `factor` times the limit in new series,
 * watching its RSS: rejected series must cost nothing that stays.
 */
export async function cardinalityBomb(host: string, ports: Ports, maxSeries: number, factor: number, rssBytes: () => number): Promise<BombReport> {
  let filled = 0;
  for (let from = 0; ; from += BATCH) {
    const rejected = await rejectedIn(host, ports, manySeriesRequest('bomb_fill', from, BATCH));
    filled += BATCH - rejected;
    if (rejected > 0) break;
    if (from > 2 * maxSeries) throw new Error(`no series refused after ${from} new ones: is the limit ${maxSeries}?`);
  }
  const rssFilledBytes = rssBytes();
  const metricsRejectedBefore = await seriesLimitRejections(host, ports);
  const bombSeries = factor * maxSeries;
  let rejectedReported = 0;
  let rssPeakBytes = rssFilledBytes;
  for (let from = 0; from < bombSeries; from += BATCH) {
    rejectedReported += await rejectedIn(host, ports, manySeriesRequest('bomb', from, Math.min(BATCH, bombSeries - from)));
    rssPeakBytes = Math.max(rssPeakBytes, rssBytes());
  }
  const metricsRejectedAfter = await seriesLimitRejections(host, ports);
  const answer = JSON.parse((await ok(host, ports.http, `/api/v1/query?query=${encodeURIComponent('count(bomb_fill)')}`)).toString()) as {
    data: { result: { value: [number, string] }[] };
  };
  const earlierCounted = Number(answer.data.result[0]?.value[1] ?? 0);
  return { filled, bombSeries, rejectedReported, metricsRejectedBefore, metricsRejectedAfter, rssFilledBytes, rssPeakBytes, earlierCounted };
}
