import { request, type ClientRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AHEAD_MS } from '../../src/otlp/translate/rejections.js';
import type { App } from '../../src/server/app.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import { paddedRequest } from '../../harness/fuzz/otlp-valid.js';
import { oneResource } from '../otlp/harness.js';
import { startTestApp, useTestApp } from '../support/app.js';
import { encodeV1, encodeV2, postRemoteWrite, snappy, V1_CONTENT_TYPE, V2_CONTENT_TYPE } from './client.js';

const MINUTE = 60_000;

describe('remote write: rejected samples create nothing; the future bound and --max-series-bytes', () => {
  const MAX_SERIES_BYTES = 1024;
  let app: App;
  let writeUrl: string;
  beforeAll(async () => {
    app = await startTestApp({ maxSeries: 4, retentionMs: 10 * MINUTE, maxSeriesBytes: MAX_SERIES_BYTES });
    writeUrl = `http://127.0.0.1:${app.ports.http}/api/v1/write`;
  });
  afterAll(() => app.close());

  const seriesMatching = async (match: string): Promise<unknown[]> => {
    const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/series?match[]=${encodeURIComponent(match)}`);
    return ((await res.json()) as { data: unknown[] }).data;
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();

  it('creates no series for samples too old for retention or too far ahead, so they do not fill --max-series', async () => {
    const t = Date.now();
    const rejected = Array.from({ length: 20 }, (_, i) => ({
      labels: { __name__: 'rw_rejected', i: String(i) },
      samples: [
        { value: 1, timestamp: t - 11 * MINUTE },
        { value: 2, timestamp: t + MAX_AHEAD_MS + MINUTE },
      ],
    }));
    for (const [body, type] of [
      [encodeV1(rejected), V1_CONTENT_TYPE],
      [encodeV2(rejected), V2_CONTENT_TYPE],
    ] as const) {
      const res = await postRemoteWrite(writeUrl, snappy(body), type);
      expect(res.status, type).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written'), type).toBe('0');
      const message = await res.text();
      expect(message, type).toContain('40 samples rejected');
      expect(message, type).toContain('20 older than the retention');
      expect(message, type).toContain('20 more than 10 minutes ahead of the receiver');
    }
    expect(app.tsdb.seriesCount).toBe(0);
    expect(await seriesMatching('{__name__="rw_rejected"}')).toEqual([]);
    // The series limit (4) still has room for new good series.
    const good = [1, 2, 3].map((i) => ({ labels: { __name__: 'rw_good_after', i: String(i) }, samples: [{ value: i, timestamp: t }] }));
    const res = await postRemoteWrite(writeUrl, snappy(encodeV1(good)), V1_CONTENT_TYPE);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('3');
    expect(await seriesMatching('{__name__="rw_good_after"}')).toHaveLength(3);
    expect(await metrics()).toMatch(/keda_otlp_scaler_remote_write_samples_rejected_total\{reason="too_far_ahead"\} 40/);
  });

  it('keeps a sample up to 10 minutes ahead, and the good samples beside a rejected one of the same series', async () => {
    const limited = await startTestApp({ retentionMs: 10 * MINUTE });
    try {
      const t = Date.now();
      const body = encodeV2([
        { labels: { __name__: 'rw_ahead', at: 'nine' }, samples: [{ value: 9, timestamp: t + 9 * MINUTE }] },
        {
          labels: { __name__: 'rw_mixed' },
          samples: [
            { value: 1, timestamp: t - 11 * MINUTE },
            { value: 2, timestamp: t },
            { value: 3, timestamp: t + 11 * MINUTE },
          ],
        },
      ]);
      const res = await postRemoteWrite(`http://127.0.0.1:${limited.ports.http}/api/v1/write`, snappy(body), V2_CONTENT_TYPE);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
      expect(await res.text()).toMatch(/^2 samples rejected: 1 older than the retention \(e\.g\. rw_mixed\{\} at .*\); 1 more than 10 minutes ahead/);
      const mixed = limited.tsdb.select([new Matcher('=', '__name__', 'rw_mixed')]);
      expect(mixed.map((s) => [s.length, s.valueAt(0)])).toEqual([[1, 2]]);
      expect(limited.tsdb.select([new Matcher('=', '__name__', 'rw_ahead')])).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });

  it('refuses a series over --max-series-bytes, counted as a label limit, and stores the one under it', async () => {
    const t = Date.now();
    const body = encodeV1([
      { labels: { __name__: 'rw_wide', pod: 'p'.repeat(MAX_SERIES_BYTES) }, samples: [{ value: 1, timestamp: t }] },
      { labels: { __name__: 'rw_narrow', pod: 'p'.repeat(MAX_SERIES_BYTES / 2) }, samples: [{ value: 1, timestamp: t }] },
    ]);
    const before = app.tsdb.seriesCount;
    const res = await postRemoteWrite(writeUrl, snappy(body), V1_CONTENT_TYPE);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
    expect(await res.text()).toContain(
      `1 samples rejected: 1 over the label limits (e.g. labels of ${'__name__rw_widepod'.length + MAX_SERIES_BYTES} bytes (names and values), over the limit of ${MAX_SERIES_BYTES} bytes a series`,
    );
    expect(await seriesMatching('rw_wide')).toEqual([]);
    expect(app.tsdb.seriesCount).toBe(before + 1);
  });
});

describe('remote write: the in-flight budget shared with OTLP', () => {
  const LIMITS = { maxRequestBytes: 64 * 1024, maxDecompressedBytes: 512 * 1024, maxInflightBytes: 640 * 1024, maxSeriesBytes: 1024 * 1024 };
  const HELD = 60 * 1024;
  const app = useTestApp(LIMITS);

  /** A POST whose body is sent but for its last byte, so the receiver holds what arrived until the client goes. */
  const holdUpload = (port: number, path: string, headers: Record<string, string>): ClientRequest => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(HELD + 1) } });
    req.on('error', () => {});
    req.write(Buffer.alloc(HELD, 1));
    return req;
  };
  /** Sends until the answer has the wanted status: held uploads take a moment to arrive, and a dropped one to be given back. */
  const until = async (status: number, send: () => Promise<Response>): Promise<Response> => {
    for (let i = 0; i < 200; i++) {
      const res = await send();
      if (res.status === status) return res;
      await res.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`never answered ${status}`);
  };

  // 25 labels of 16,000 characters: about 400 KB decompressed from a body of a few KB.
  const wide = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`pad${String(i).padStart(2, '0')}`, 'a'.repeat(16_000)]));
  const remoteWrite = () =>
    postRemoteWrite(
      `http://127.0.0.1:${app.ports.http}/api/v1/write`,
      snappy(encodeV1([{ labels: { __name__: 'rw_budget', ...wide }, samples: [{ value: 1, timestamp: Date.now() }] }])),
      V1_CONTENT_TYPE,
    );

  it('reserves the decompressed body: 429 with Retry-After while OTLP uploads hold the budget, stored once they are gone', async () => {
    expect((await remoteWrite()).status).toBe(204);
    const held = Array.from({ length: 5 }, () => holdUpload(app.ports.otlpHttp, '/v1/metrics', { 'content-type': 'application/x-protobuf' }));
    const refused = await until(429, remoteWrite);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('x-prometheus-remote-write-samples-written')).toBe('0');
    expect(await refused.text()).toBe(`the receiver is holding ${LIMITS.maxInflightBytes} bytes of requests in flight, its limit: retry after 1s\n`);
    for (const req of held) req.destroy();
    expect((await until(204, remoteWrite)).status).toBe(204);
  });

  it('reserves the body as it arrives: held remote-write uploads make OTLP answer 429 until they are gone', async () => {
    const otlp = gzipSync(paddedRequest(oneResource({ 'service.name': 'rw-budget' }, []), 250 * 1024));
    const post = () =>
      fetch(`http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
        body: otlp,
      });
    expect((await post()).status).toBe(200);
    const held = Array.from({ length: 5 }, () =>
      holdUpload(app.ports.http, '/api/v1/write', { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy' }),
    );
    expect((await until(429, post)).headers.get('retry-after')).toBe('1');
    for (const req of held) req.destroy();
    expect((await until(200, post)).status).toBe(200);
  });
});
