import { gzipSync, deflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../harness/clients/otlp.js';
import { decodeResponse, oneResource, startHarness, value, type Harness, INGEST_THREADS } from '../harness.js';

const gauge = (name: string, v: number, attrs: Record<string, string> = {}) => ({
  name,
  gauge: {
    data_points: [
      {
        as_double: v,
        time_unix_nano: String(BigInt(Date.now()) * 1_000_000n),
        attributes: Object.entries(attrs).map(([key, s]) => ({ key, value: { string_value: s } })),
      },
    ],
  },
});

/** google.rpc.Status read back from a protobuf error body. */
function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  const reader = protobuf.Reader.create(bytes);
  const out = { code: 0, message: '' };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) out.code = reader.int32();
    else if (tag >>> 3 === 2) out.message = reader.string();
    else reader.skipType(tag & 7);
  }
  return out;
}

describe.each(INGEST_THREADS)('OTLP/HTTP handler, %i ingest threads', (ingestThreads) => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness({ maxRequestBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024, ingestThreads }, { maxSeries: 5 });
    url = `${h.httpUrl}/v1/metrics`;
  });
  afterAll(() => h.close());

  const post = (body: Buffer | string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });

  it('accepts protobuf and answers with an empty protobuf ExportMetricsServiceResponse', async () => {
    const res = await post(encodeRequest(oneResource({ 'service.name': 'a' }, [gauge('proto.gauge', 1.5)])), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(new Uint8Array(await res.arrayBuffer()).length).toBe(0);
    expect(value(h.tsdb, 'proto_gauge', { job: 'a' })).toBe(1.5);
  });

  it('accepts gzip and deflate bodies', async () => {
    const body = encodeRequest(oneResource({ 'service.name': 'a' }, [gauge('zipped', 2)]));
    expect((await post(gzipSync(body), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(200);
    expect(value(h.tsdb, 'zipped')).toBe(2);
    const json = JSON.stringify({
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 'deflated', gauge: { dataPoints: [{ asInt: '3', timeUnixNano: String(Date.now()) + '000000' }] } }] }] },
      ],
    });
    expect((await post(deflateSync(json), { 'content-type': 'application/json', 'content-encoding': 'deflate' })).status).toBe(200);
    expect(value(h.tsdb, 'deflated')).toBe(3);
  });

  it('accepts OTLP/JSON with int64 as strings, snake_case names and enum names', async () => {
    const now = `${Date.now()}000000`;
    const body = {
      resource_metrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'json.counter',
                  sum: {
                    aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                    isMonotonic: true,
                    dataPoints: [{ asInt: '42', time_unix_nano: now, attributes: [{ key: 'code', value: { intValue: 200 } }] }],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await post(JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{}');
    expect(value(h.tsdb, 'json_counter_total', { job: 'json-svc', code: '200' })).toBe(42);
  });

  it('answers a malformed protobuf body with 400 and a protobuf google.rpc.Status', async () => {
    const res = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(400);
    const status = decodeStatus(new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/invalid protobuf ExportMetricsServiceRequest/);
  });

  it('answers malformed JSON with 400 naming the field path', async () => {
    const bad = {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x' }, { name: 'y' }, { name: 'z', sum: { dataPoints: [{ timeUnixNano: 'soon' }] } }] }] }],
    };
    const res = await post(JSON.stringify(bad), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 3,
      message: 'resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints[0]: timeUnixNano is not an integer',
    });
    const notJson = await post('{"resourceMetrics": [', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { message: string }).message).toMatch(/^invalid JSON/);
  });

  it('answers a corrupt gzip body with 400', async () => {
    const res = await post(Buffer.from('not gzip at all'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(/invalid gzip body/);
  });

  it('refuses unsupported content types and encodings with 415, other paths 404, other methods 405', async () => {
    const type = await post('x', { 'content-type': 'text/plain' });
    expect(type.status).toBe(415);
    expect(((await type.json()) as { message: string }).message).toMatch(/unsupported content-type "text\/plain"/);
    for (const encoding of ['br', 'constructor']) {
      const enc = await post('x', { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(enc.status).toBe(415);
    }
    expect((await post('x', { 'content-type': 'constructor' })).status).toBe(415);
    expect((await fetch(`${h.httpUrl}/v1/traces`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(404);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('refuses a body over maxRequestBytes with 413', async () => {
    const big = encodeRequest(oneResource({}, [gauge('big', 1, { pad: 'x'.repeat(70 * 1024) })]));
    const res = await post(big, { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(/over the limit of 65536 bytes/);
  });

  it('refuses a gzip body inflating past maxDecompressedBytes with 413 (a gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toMatch(/decompressed request body is over the limit of 262144 bytes/);
  });

  it('keeps the good points and reports the rest in partial_success when maxSeries is reached', async () => {
    const before = h.tsdb.seriesCount;
    const room = 5 - before;
    const metrics = Array.from({ length: room + 3 }, (_, i) => gauge(`limited_${i}`, i));
    const res = await post(encodeRequest(oneResource({}, metrics)), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    const body = decodeResponse(new Uint8Array(await res.arrayBuffer()));
    expect(body.partial_success?.rejected_data_points).toBe(3);
    expect(body.partial_success?.error_message).toMatch(/^3 data points rejected: 3 over the series limit \(e\.g\. limited_\d+/);
    for (let i = 0; i < room; i++) expect(value(h.tsdb, `limited_${i}`)).toBe(i);
    expect(h.receiver.stats.pointsRejected.series_limit).toBe(3);

    const json = await post(
      JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'one_more', gauge: { dataPoints: [{ asDouble: 1 }] } }] }] }] }),
      {
        'content-type': 'application/json',
      },
    );
    expect(await json.json()).toEqual({
      partialSuccess: { rejectedDataPoints: '1', errorMessage: expect.stringMatching(/^1 data points rejected: 1 over the series limit/) },
    });
  });

  it('still serves after all of that', async () => {
    const res = await post(encodeRequest(oneResource({ 'service.name': 'a' }, [gauge('proto.gauge', 9)])), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    expect(value(h.tsdb, 'proto_gauge', { job: 'a' })).toBe(9);
    expect(h.receiver.stats.requestsFailed.http).toBeGreaterThanOrEqual(8);
  });
});
