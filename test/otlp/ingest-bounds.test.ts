import { gzipSync } from 'node:zlib';
import { compressionAlgorithms, credentials, makeGenericClientConstructor, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_AHEAD_MS } from '../../src/otlp/translate/rejections.js';
import { metricsServiceDefinition, RETRY_INFO_TYPE_URL, RetryInfo, RpcStatus } from '../../src/otlp/transport/proto.js';
import { paddedRequest } from '../../harness/fuzz/otlp-valid.js';
import { useTestApp } from '../support/app.js';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { decodeResponse, exportClient, latest, oneResource, sdk, startHarness, type Harness, useHarness } from './harness.js';

const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
const gauge = (name: string, points: { attributes?: Record<string, string>; value: number; timeMs?: number; timeNs?: string }[]) => ({
  name,
  gauge: {
    data_points: points.map((p) => ({
      as_double: p.value,
      time_unix_nano: p.timeNs ?? ns(p.timeMs ?? Date.now()),
      attributes: Object.entries(p.attributes ?? {}).map(([key, v]) => ({ key, value: { string_value: v } })),
    })),
  },
});

/** Protobuf bytes where each `marker` string's last byte is replaced by `byte` (making the string invalid UTF-8). */
function withByte(body: Buffer, marker: string, byte: number): Buffer {
  const at = body.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in body`);
  const out = Buffer.from(body);
  out[at + marker.length - 1] = byte;
  return out;
}

async function postProtobuf(h: Harness, body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: Buffer.from(await res.arrayBuffer()) };
}

async function postJson(h: Harness, text: string | Buffer) {
  const res = await fetch(`${h.httpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
  return { status: res.status, body: (await res.json()) as { partialSuccess?: { rejectedDataPoints: string; errorMessage: string }; message?: string } };
}

/** The retry delay (seconds) in a gRPC error's google.rpc.Status RetryInfo, or undefined without one. */
function retryDelay(metadata: Metadata | undefined): number | undefined {
  const bin = metadata?.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Buffer)) return undefined;
  const st = RpcStatus.toObject(RpcStatus.decode(bin), { longs: Number }) as { details?: { type_url: string; value: Uint8Array }[] };
  const info = st.details?.find((d) => d.type_url === RETRY_INFO_TYPE_URL);
  if (!info) return undefined;
  return (RetryInfo.toObject(RetryInfo.decode(info.value), { longs: Number }) as { retry_delay: { seconds: number } }).retry_delay.seconds;
}

/** A grpc-js client of Export that compresses its messages with gzip, as collectors configured with `compression: gzip` do. */
function gzipExportClient(h: Harness) {
  const Client = makeGenericClientConstructor(metricsServiceDefinition(), 'MetricsService');
  const client = new Client(h.grpcAddress, credentials.createInsecure(), { 'grpc.default_compression_algorithm': compressionAlgorithms.gzip }) as unknown as {
    Export(req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void): void;
    close(): void;
  };
  return {
    send: (bytes: Buffer) => new Promise<{ error?: ServiceError }>((resolve) => client.Export(bytes, (err) => resolve(err ? { error: err } : {}))),
    close: () => client.close(),
  };
}

describe('the in-flight budget: bytes held at once across requests and transports', () => {
  const LIMITS = { maxRequestBytes: 64 * 1024, maxDecompressedBytes: 1024 * 1024, maxInflightBytes: 3 * 1024 * 1024 };
  const h = useHarness(LIMITS);

  it('answers a burst of 16 gzip bodies, each under the limits, with 200 or 429 + Retry-After, never holding more than the budget', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) =>
      gzipSync(
        paddedRequest(
          oneResource({ 'service.name': 'burst' }, [gauge('burst', [{ attributes: { i: String(i) }, value: i }])]),
          LIMITS.maxDecompressedBytes - 1024,
        ),
      ),
    );
    expect(bodies[0]!.length).toBeLessThan(LIMITS.maxRequestBytes);
    const answers = await Promise.all(bodies.map((b) => postProtobuf(h, b, { 'content-encoding': 'gzip' })));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.length - refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.retryAfter).toBe('1');
      expect(RpcStatus.toObject(RpcStatus.decode(r.body))).toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        message: expect.stringMatching(/in flight, its limit: retry after 1s/),
      });
    }
    expect(h.receiver.budget.peak).toBeLessThanOrEqual(LIMITS.maxInflightBytes);
    expect(h.receiver.budget.inUse).toBe(0);
    // Retried one at a time, as a client honouring Retry-After would, every refused body is stored.
    for (let i = 0; i < bodies.length; i++) {
      if (answers[i]!.status === 429) expect((await postProtobuf(h, bodies[i]!, { 'content-encoding': 'gzip' })).status).toBe(200);
    }
    expect(Object.keys(latest(h.tsdb, 'burst'))).toHaveLength(16);
  });

  it('answers a burst of 16 gzip gRPC messages with OK or RESOURCE_EXHAUSTED carrying RetryInfo', async () => {
    const client = gzipExportClient(h);
    const body = paddedRequest(oneResource({ 'service.name': 'grpc-burst' }, [gauge('grpc_burst', [{ value: 1 }])]), LIMITS.maxDecompressedBytes - 1024);
    const answers = await Promise.all(Array.from({ length: 16 }, () => client.send(body)));
    client.close();
    const refused = answers.filter((a) => a.error !== undefined);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.length - refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.error!.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(retryDelay(r.error!.metadata)).toBe(1);
    }
    expect(h.receiver.budget.peak).toBeLessThanOrEqual(LIMITS.maxInflightBytes);
    expect(h.receiver.budget.inUse).toBe(0);
  });

  it('lets the real OpenTelemetry gRPC exporter push gzip when the budget has room', async () => {
    const pod = sdk(new GrpcExporter({ url: `http://${h.grpcAddress}`, compression: CompressionAlgorithm.GZIP }), { 'service.name': 'gz' });
    pod.meter.createCounter('gz.pushed').add(3);
    await pod.flush();
    await pod.shutdown();
    expect(Object.values(latest(h.tsdb, 'gz_pushed_total'))).toEqual([3]);
    expect(h.receiver.budget.inUse).toBe(0);
  });
});

describe('maxRequestBytes holds on gRPC as on HTTP: the message size as sent', () => {
  const LIMITS = { maxRequestBytes: 16 * 1024, maxDecompressedBytes: 256 * 1024 };
  const h = useHarness(LIMITS);

  it('refuses a 20 KiB uncompressed message with RESOURCE_EXHAUSTED (413 over HTTP) naming the limit, without RetryInfo', async () => {
    const body = paddedRequest(oneResource({}, [gauge('sent_size', [{ value: 1 }])]), 20 * 1024);
    const client = exportClient(h);
    const res = await client.send(body);
    client.close();
    expect('error' in res && res.error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect('error' in res && res.error.details).toBe(`request of ${body.length} bytes as sent is over the limit of ${LIMITS.maxRequestBytes} bytes`);
    expect('error' in res && retryDelay(res.error.metadata)).toBeUndefined();
    expect((await postProtobuf(h, body)).status).toBe(413);
  });

  it('accepts the same 20 KiB sent gzip-compressed, on both transports', async () => {
    const body = paddedRequest(oneResource({}, [gauge('sent_size', [{ value: 2 }])]), 20 * 1024);
    const client = gzipExportClient(h);
    expect(await client.send(body)).toEqual({});
    client.close();
    expect((await postProtobuf(h, gzipSync(body), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(Object.values(latest(h.tsdb, 'sent_size'))).toEqual([2]);
  });
});

describe('bytes per series', () => {
  const h = useHarness({ maxSeriesBytes: 1024 });

  it('rejects only the points of a series whose labels pass maxSeriesBytes, reports them and counts them, on every transport', async () => {
    const request = oneResource({ 'service.name': 'wide' }, [
      gauge('wide', [
        { attributes: { id: 'small' }, value: 1 },
        { attributes: { id: 'large', a: 'x'.repeat(600), b: 'y'.repeat(600) }, value: 2 },
      ]),
    ]);
    const http = await postProtobuf(h, encodeRequest(request));
    expect(decodeResponse(http.body).partial_success).toEqual({
      rejected_data_points: 1,
      error_message: expect.stringMatching(
        /1 over the label limits \(e\.g\. metric wide: labels of \d+ bytes \(names and values\), over the limit of 1024 bytes a series\)/,
      ),
    });
    const client = exportClient(h);
    const grpc = await client.send(encodeRequest(request));
    client.close();
    expect('response' in grpc && grpc.response.partial_success?.rejected_data_points).toBe(1);
    expect(h.receiver.stats.pointsRejected.label_limit).toBe(2);
    expect(Object.keys(latest(h.tsdb, 'wide'))).toEqual(['wide{id="small", job="wide"}']);
  });
});

describe('a rejected point creates nothing', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('stores no series for 2,000 points older than retention, so good series still fit under the limit', async () => {
    h = await startHarness({}, { retentionMs: 60_000, maxSeries: 100 });
    const old = Date.now() - 120_000;
    const points = Array.from({ length: 2_000 }, (_, i) => ({ attributes: { i: String(i) }, value: i, timeMs: old }));
    const res = await postProtobuf(h, encodeRequest(oneResource({}, [gauge('too_old', points)])));
    expect(decodeResponse(res.body).partial_success).toMatchObject({
      rejected_data_points: 2_000,
      error_message: expect.stringMatching(/^2000 data points rejected: 2000 older than the retention/),
    });
    expect(h.tsdb.seriesCount).toBe(0);
    const good = await postProtobuf(
      h,
      encodeRequest(
        oneResource({}, [
          gauge(
            'fresh',
            Array.from({ length: 100 }, (_, i) => ({ attributes: { i: String(i) }, value: i })),
          ),
        ]),
      ),
    );
    expect(decodeResponse(good.body).partial_success).toBeUndefined();
    expect(h.tsdb.seriesCount).toBe(100);
  });

  it("creates none of a histogram point's series when one of them refuses it, or when they do not all fit the limit", async () => {
    h = await startHarness({}, { maxSeries: 5, outOfOrderWindowMs: 1_000 });
    const now = Date.now();
    const histogram = (bounds: number[], timeMs: number) => ({
      name: 'h',
      histogram: {
        aggregation_temporality: 2,
        data_points: [{ time_unix_nano: ns(timeMs), count: 3, sum: 1, explicit_bounds: bounds, bucket_counts: [...bounds.map(() => 1), 1] }],
      },
    });
    // 1 bucket + +Inf + _count + _sum: 4 series.
    expect(decodeResponse((await postProtobuf(h, encodeRequest(oneResource({}, [histogram([1], now)])))).body).partial_success).toBeUndefined();
    expect(h.tsdb.seriesCount).toBe(4);
    // A new bound, 10 s older than what the others hold: they refuse it out of order, so the new bucket is not created.
    const late = decodeResponse((await postProtobuf(h, encodeRequest(oneResource({}, [histogram([0.5, 1], now - 10_000)])))).body);
    expect(late.partial_success).toMatchObject({ rejected_data_points: 1, error_message: expect.stringMatching(/out-of-order window/) });
    expect(h.tsdb.seriesCount).toBe(4);
    // Two new bounds need two new series, one more than the limit leaves: nothing of the point is stored.
    const wide = decodeResponse((await postProtobuf(h, encodeRequest(oneResource({}, [histogram([0.25, 0.5, 1], now + 1_000)])))).body);
    expect(wide.partial_success).toMatchObject({ rejected_data_points: 1, error_message: expect.stringMatching(/over the series limit/) });
    expect(h.tsdb.seriesCount).toBe(4);
    expect(Object.values(latest(h.tsdb, 'h_count'))).toEqual([3]);
    expect(h.tsdb.select([]).every((s) => s.length === 1)).toBe(true);
  });
});

describe('times out of range are a per-point rejection', () => {
  const h = useHarness();

  it('rejects an OTLP/JSON time past 2^64 ns beside a good point of the same series, storing only what the answer counts', async () => {
    const now = Date.now();
    const res = await postJson(
      h,
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'far',
                    gauge: {
                      dataPoints: [
                        { asDouble: 1, timeUnixNano: ns(now - 1000) },
                        { asDouble: 2, timeUnixNano: '99999999999999999999999' },
                        { asDouble: 3, timeUnixNano: '-5' },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess?.rejectedDataPoints).toBe('2');
    expect(res.body.partialSuccess?.errorMessage).toMatch(
      /1 more than 10 minutes ahead of the receiver's clock \(e\.g\. metric far at 1\d{17} ms since the epoch\); 1 invalid \(e\.g\. metric far at a negative time\)/,
    );
    const series = h.tsdb.select([]).filter((s) => s.metricName === 'far');
    expect(series).toHaveLength(1);
    expect(series[0]!.length).toBe(1);
    expect(series[0]!.valueAt(0)).toBe(1);
  });

  it('stores a sum point whose start time is past its time, or past 2^64 ns, without a start time', async () => {
    const now = Date.now();
    const sum = (startNs: string) => ({
      name: 'started',
      sum: { aggregation_temporality: 2, is_monotonic: true, data_points: [{ as_double: 1, time_unix_nano: ns(now), start_time_unix_nano: startNs }] },
    });
    expect(decodeResponse((await postProtobuf(h, encodeRequest(oneResource({}, [sum(ns(now + 60_000))])))).body).partial_success).toBeUndefined();
    const json = await postJson(
      h,
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'started',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: [{ asDouble: 2, timeUnixNano: ns(now + 1), startTimeUnixNano: '99999999999999999999999' }],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(json.body.partialSuccess).toBeUndefined();
    const [series] = h.tsdb.select([]).filter((s) => s.metricName === 'started_total');
    expect(series!.length).toBe(2);
    expect(series!.hasStartTimes).toBe(false);
  });

  it('takes a point up to 10 minutes ahead and rejects one past that, in protobuf too (fixed64 at its maximum)', async () => {
    const now = Date.now();
    const before = h.receiver.stats.pointsRejected.too_far_ahead;
    const request = oneResource({}, [
      gauge('ahead', [
        { attributes: { at: 'soon' }, value: 1, timeMs: now + MAX_AHEAD_MS - 60_000 },
        { attributes: { at: 'later' }, value: 2, timeMs: now + MAX_AHEAD_MS + 60_000 },
        { attributes: { at: 'never' }, value: 3, timeNs: '18446744073709551615' },
      ]),
    ]);
    const res = await postProtobuf(h, encodeRequest(request));
    expect(decodeResponse(res.body).partial_success?.rejected_data_points).toBe(2);
    const client = exportClient(h);
    const grpc = await client.send(encodeRequest(request));
    client.close();
    expect('response' in grpc && grpc.response.partial_success?.rejected_data_points).toBe(2);
    expect(Object.keys(latest(h.tsdb, 'ahead'))).toEqual(['ahead{at="soon"}']);
    expect(h.receiver.stats.pointsRejected.too_far_ahead - before).toBe(4);
  });
});

describe('strings that are not UTF-8', () => {
  const h = useHarness();

  const request = oneResource({ 'service.name': 'utf8' }, [
    gauge('utf8', [
      { attributes: { v: 'okay' }, value: 1 },
      { attributes: { v: 'bad1~' }, value: 2 },
      { attributes: { v: 'bad2~' }, value: 3 },
    ]),
  ]);
  const body = withByte(withByte(encodeRequest(request), 'bad1~', 0xff), 'bad2~', 0xfe);

  it('rejects each point whose attribute value is not UTF-8 (no silent merge) and keeps the valid one, over HTTP and gRPC', async () => {
    const res = await postProtobuf(h, body);
    expect(decodeResponse(res.body).partial_success).toEqual({
      rejected_data_points: 2,
      error_message: '2 data points rejected: 2 with a string that is not valid UTF-8 (e.g. metric utf8: an attribute value is not valid UTF-8)',
    });
    const client = exportClient(h);
    const grpc = await client.send(body);
    client.close();
    expect('response' in grpc && grpc.response.partial_success?.rejected_data_points).toBe(2);
    expect(Object.keys(latest(h.tsdb, 'utf8'))).toEqual(['utf8{job="utf8", v="okay"}']);
    expect(h.receiver.stats.pointsRejected.invalid_utf8).toBe(4);
  });

  it('rejects the points of a metric whose name is not UTF-8, and of a resource with such an attribute', async () => {
    const named = withByte(encodeRequest(oneResource({}, [gauge('name~', [{ value: 1 }]), gauge('kept_name', [{ value: 2 }])])), 'name~', 0xc3);
    expect(decodeResponse((await postProtobuf(h, named)).body).partial_success).toMatchObject({
      rejected_data_points: 1,
      error_message: expect.stringMatching(/its name, description or unit is not valid UTF-8/),
    });
    const resource = withByte(
      encodeRequest(oneResource({ 'host.name': 'host~' }, [gauge('from_bad_resource', [{ value: 1 }, { value: 2, attributes: { a: 'b' } }])])),
      'host~',
      0x80,
    );
    expect(decodeResponse((await postProtobuf(h, resource)).body).partial_success).toMatchObject({
      rejected_data_points: 2,
      error_message: expect.stringMatching(/resource: an attribute value is not valid UTF-8/),
    });
    expect(
      h.tsdb
        .select([])
        .map((s) => s.metricName)
        .filter((n) => n !== 'utf8'),
    ).toEqual(['kept_name']);
  });

  it('rejects a histogram point with such an attribute and keeps the other (the protobufjs path)', async () => {
    const hist = (v: string) => ({
      time_unix_nano: ns(Date.now()),
      count: 1,
      sum: 1,
      explicit_bounds: [1],
      bucket_counts: [1, 0],
      attributes: [{ key: 'v', value: { string_value: v } }],
    });
    const histBody = withByte(
      encodeRequest(oneResource({}, [{ name: 'hist_utf8', histogram: { aggregation_temporality: 2, data_points: [hist('good'), hist('bad~')] } }])),
      'bad~',
      0xff,
    );
    expect(decodeResponse((await postProtobuf(h, histBody)).body).partial_success?.rejected_data_points).toBe(1);
    expect(Object.keys(latest(h.tsdb, 'hist_utf8_count'))).toEqual(['hist_utf8_count{v="good"}']);
  });

  it('refuses an OTLP/JSON body that is not UTF-8 with 400, and rejects a lone-surrogate escape per point', async () => {
    const text = Buffer.from(
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"j","gauge":{"dataPoints":[{"asDouble":1,"attributes":[{"key":"v","value":{"stringValue":"a~"}}]}]}}]}]}]}',
    );
    text[text.indexOf('a~') + 1] = 0xff;
    const bad = await postJson(h, text);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('the body is not valid UTF-8 (OTLP/JSON must be)');
    const surrogate = await postJson(
      h,
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"j","gauge":{"dataPoints":[{"asDouble":1,"attributes":[{"key":"v","value":{"stringValue":"a\\ud800"}}]},{"asDouble":2,"attributes":[{"key":"v","value":{"stringValue":"fine"}}]}]}}]}]}]}',
    );
    expect(surrogate.body.partialSuccess).toMatchObject({
      rejectedDataPoints: '1',
      errorMessage: expect.stringMatching(/not valid Unicode \(a lone surrogate\)/),
    });
    expect(Object.keys(latest(h.tsdb, 'j'))).toEqual(['j{v="fine"}']);
  });
});

describe('rejections on /metrics, in the running app', () => {
  const app = useTestApp({ maxSeriesBytes: 1024 });

  it('counts points rejected for each new reason by reason', async () => {
    const now = Date.now();
    const request = oneResource({}, [
      gauge('counted', [
        { attributes: { v: 'bad~' }, value: 1 },
        { attributes: { v: 'ahead' }, value: 2, timeMs: now + 2 * MAX_AHEAD_MS },
        { attributes: { v: 'x'.repeat(2_000) }, value: 3 },
      ]),
    ]);
    const body = withByte(encodeRequest(request), 'bad~', 0xff);
    const res = await fetch(`http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    expect(decodeResponse(Buffer.from(await res.arrayBuffer())).partial_success?.rejected_data_points).toBe(3);
    const metrics = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    for (const reason of ['invalid_utf8', 'too_far_ahead', 'label_limit']) {
      expect(metrics).toContain(`keda_otlp_scaler_otlp_points_rejected_total{reason="${reason}"} 1`);
    }
  });
});
