import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportMetricsServiceResponse } from '../../src/otlp/transport/proto.js';
import type { App } from '../../src/server/app.js';
import { manySeriesRequest } from '../../harness/clients/otlp.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';

const MAX_SERIES = 1_000;
const EARLY = 100;
const BOMB = 10 * MAX_SERIES;
const BATCH = 1_000;

interface Partial {
  rejected: number;
  message: string;
}

function decodePartial(bytes: Uint8Array): Partial {
  const r = ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(bytes), { longs: Number }) as {
    partial_success?: { rejected_data_points: number; error_message: string };
  };
  return { rejected: r.partial_success?.rejected_data_points ?? 0, message: r.partial_success?.error_message ?? '' };
}

describe(`a cardinality bomb: ${BOMB} new series against a limit of ${MAX_SERIES}`, () => {
  let app: App;
  let grpc: Client;
  const viaHttp = async (body: Buffer): Promise<Partial> => {
    const res = await fetch(`http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    expect(res.status).toBe(200);
    return decodePartial(new Uint8Array(await res.arrayBuffer()));
  };
  const viaGrpc = (body: Buffer): Promise<Partial> =>
    new Promise((resolve, reject) =>
      grpc.makeUnaryRequest(
        '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        (err: ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(decodePartial(res!))),
      ),
    );
  const results: Partial[] = [];

  beforeAll(async () => {
    app = await startTestApp({ maxSeries: MAX_SERIES });
    grpc = new Client(`127.0.0.1:${app.ports.otlpGrpc}`, credentials.createInsecure());
    expect(await viaHttp(manySeriesRequest('early', 0, EARLY, 7))).toEqual({ rejected: 0, message: '' });
    for (let from = 0; from < BOMB; from += BATCH) {
      results.push(await (from % (2 * BATCH) === 0 ? viaHttp : viaGrpc)(manySeriesRequest('bomb', from, BATCH, 1)));
    }
  });
  afterAll(async () => {
    grpc.close();
    await app.close();
  });

  it('stores series up to the limit and no more', () => {
    expect(app.tsdb.seriesCount).toBe(MAX_SERIES);
  });

  it('reports every rejected point through OTLP partial_success, on both transports', () => {
    const rejected = results.reduce((n, r) => n + r.rejected, 0);
    expect(rejected).toBe(BOMB - (MAX_SERIES - EARLY));
    expect(results[0]!.rejected).toBe(BATCH - (MAX_SERIES - EARLY));
    expect(results.at(-1)).toEqual({
      rejected: BATCH,
      message: expect.stringMatching(/^1000 data points rejected: 1000 over the series limit \(e\.g\. bomb\{job="bomber", user="u9\d{3}"\}/),
    });
  });

  it('counts the rejections in the stats and in /metrics', async () => {
    const rejected = BOMB - (MAX_SERIES - EARLY);
    expect(app.tsdb.stats.seriesRejected).toBe(rejected);
    const text = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    expect(text).toContain(`keda_otlp_scaler_otlp_points_rejected_total{reason="series_limit"} ${rejected}`);
  });

  it('still answers for the series stored before the bomb, and accepts their new samples', async () => {
    const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    expect(await keda.value('count(early)')).toBe(EARLY);
    expect(await keda.value('sum(early)')).toBe(7 * EARLY);
    expect(await viaGrpc(manySeriesRequest('early', 0, EARLY, 8))).toEqual({ rejected: 0, message: '' });
    // KEDA is answered from an evaluation younger than --answer-max-age: the new samples show within it.
    await expect.poll(() => keda.value('sum(early)'), { interval: 50, timeout: 5_000 }).toBe(8 * EARLY);
    await expect(keda.value('count(bomb)')).resolves.toBe(MAX_SERIES - EARLY);
    keda.close();
  });

  it('frees room once series are gone, so new series are taken again', async () => {
    app.tsdb.gc(Date.now() + app.config.retentionMs + 60_000);
    expect(app.tsdb.seriesCount).toBe(0);
    expect(await viaHttp(manySeriesRequest('after', 0, 10, 1))).toEqual({ rejected: 0, message: '' });
  });
});
