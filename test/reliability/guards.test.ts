import { rawUnary } from '../../harness/clients/grpc-raw.js';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LABELS_PER_SERIES, MAX_LABEL_VALUE_LENGTH } from '../../src/otlp/translate/label-limits.js';
import { MAX_CONCURRENT_STREAMS, type App } from '../../src/server/app.js';
import { Listener } from '../../src/server/listeners.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';

const LIMITS = { maxRequestBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024 };
const EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

function attrs(rec: Record<string, string>) {
  return Object.entries(rec).map(([key, v]) => ({ key, value: { string_value: v } }));
}

function gaugeRequest(points: { attributes: Record<string, string>; value: number }[], resource: Record<string, string> = { 'service.name': 'guards' }) {
  const now = `${Date.now()}000000`;
  return {
    resource_metrics: [
      {
        resource: { attributes: attrs(resource) },
        scope_metrics: [
          {
            metrics: [
              { name: 'guarded', gauge: { data_points: points.map((p) => ({ attributes: attrs(p.attributes), as_double: p.value, time_unix_nano: now })) } },
            ],
          },
        ],
      },
    ],
  };
}

describe('guards against hostile input, through the running app', () => {
  let app: App;
  let otlpUrl: string;
  let apiUrl: string;
  let keda: KedaClient;
  const post = (body: Buffer | string, headers: Record<string, string>) => fetch(otlpUrl, { method: 'POST', headers, body });
  const query = async (q: string) => {
    const res = await fetch(`${apiUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    return { status: res.status, body: (await res.json()) as { errorType?: string; error?: string; data?: { result: { metric: Record<string, string> }[] } } };
  };

  beforeAll(async () => {
    app = await startTestApp({ ...LIMITS, queryMaxSamples: 5_000, queryTimeoutMs: 200 });
    otlpUrl = `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics`;
    apiUrl = `http://127.0.0.1:${app.ports.http}`;
    keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  });
  afterAll(async () => {
    keda.close();
    await app.close();
  });

  describe('request size, before and after decompression', () => {
    it('refuses an OTLP/HTTP body over maxRequestBytes with 413, declared or streamed', async () => {
      const big = Buffer.alloc(LIMITS.maxRequestBytes + 1);
      const declared = await post(big, { 'content-type': 'application/x-protobuf' });
      expect(declared.status).toBe(413);
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = request(otlpUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        for (let i = 0; i < 4; i++) req.write(Buffer.alloc(LIMITS.maxRequestBytes / 2));
        req.end();
      });
      expect(streamed).toBe(413);
    });

    it('refuses a gzip bomb with 413 without inflating it', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      expect(bomb.length).toBeLessThan(LIMITS.maxRequestBytes);
      const res = await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
      expect(res.status).toBe(413);
      expect(await res.text()).toContain(`over the limit of ${LIMITS.maxDecompressedBytes} bytes`);
    });

    it('refuses a gRPC message over the limit with RESOURCE_EXHAUSTED, on both gRPC ports', async () => {
      const body = encodeRequest(gaugeRequest([{ attributes: { pad: 'x'.repeat(LIMITS.maxDecompressedBytes) }, value: 1 }]));
      for (const port of [app.ports.otlpGrpc, app.ports.otlpHttp]) {
        expect((await rawUnary(`127.0.0.1:${port}`, EXPORT, body)).code).toBe(status.RESOURCE_EXHAUSTED);
      }
    });
  });

  describe('OTLP/JSON depth', () => {
    it('refuses attribute values nested deeper than 32 levels, naming the path', async () => {
      let value = '{"stringValue":"x"}';
      for (let i = 0; i < 40; i++) value = `{"arrayValue":{"values":[${value}]}}`;
      const res = await post(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"deep","value":${value}}]}}]}`, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/resourceMetrics\[0\]\.resource\.attributes\[0\]\.value.*nested deeper than 32 levels/);
    });

    it('refuses a document nested 30,000 levels deep with 400, and keeps serving', async () => {
      const res = await post(`{"resourceMetrics":${'['.repeat(30_000)}${']'.repeat(30_000)}}`, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect((await post('{"resourceMetrics":[]}', { 'content-type': 'application/json' })).status).toBe(200);
    });
  });

  describe('label count and label value length', () => {
    it('rejects only the point over a label limit, reporting why in partial_success', async () => {
      const many: Record<string, string> = {};
      for (let i = 0; i < MAX_LABELS_PER_SERIES; i++) many[`a${i}`] = 'v';
      const req = gaugeRequest([
        { attributes: { id: 'ok' }, value: 1 },
        { attributes: many, value: 2 },
        { attributes: { id: 'long', blob: 'x'.repeat(MAX_LABEL_VALUE_LENGTH + 1) }, value: 3 },
      ]);
      const res = await post(encodeRequest(req), { 'content-type': 'application/x-protobuf' });
      expect(res.status).toBe(200);
      const jsonRes = await post(
        JSON.stringify({
          resourceMetrics: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'guards-json' } }] },
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'guarded',
                      gauge: { dataPoints: [{ asDouble: 1, attributes: [{ key: 'blob', value: { stringValue: 'y'.repeat(MAX_LABEL_VALUE_LENGTH + 1) } }] }] },
                    },
                  ],
                },
              ],
            },
          ],
        }),
        { 'content-type': 'application/json' },
      );
      const partial = (await jsonRes.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
      expect(partial.partialSuccess.rejectedDataPoints).toBe('1');
      expect(partial.partialSuccess.errorMessage).toMatch(/over the label limits .*label blob has a value 16385 characters long, over the limit of 16384/);
      const ids = (await query('guarded{job="guards"}')).body.data!.result.map((s) => s.metric.id);
      expect(ids).toEqual(['ok']);
    });
  });

  describe('query limits', () => {
    it('stops a query over the sample limit: 422 from the API, RESOURCE_EXHAUSTED to KEDA', async () => {
      const now = Date.now();
      for (let i = 0; i < 6_000; i++) app.tsdb.appendLabels(labelsFromRecord({ __name__: 'dense', i: String(i % 100) }), now - (6_000 - i) * 10, i);
      const res = await query('dense[5m]');
      expect(res.status).toBe(422);
      expect(res.body.error).toMatch(/too many samples/);
      // KEDA needs an instant vector; the subquery inside loads a sample a series and step.
      await expect(keda.value('sum(count_over_time(dense[5m:10ms]))')).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    });

    it('stops a query running past the timeout: timeout from the API, DEADLINE_EXCEEDED to KEDA', async () => {
      const impatient = await startTestApp({ queryTimeoutMs: 1 });
      try {
        const now = Date.now();
        for (let i = 0; i < 30_000; i++) impatient.tsdb.appendLabels(labelsFromRecord({ __name__: 'wide', i: String(i) }), now, i);
        const slow = 'count(wide * on(i) wide)';
        const res = await fetch(`http://127.0.0.1:${impatient.ports.http}/api/v1/query?query=${encodeURIComponent(slow)}`);
        const body = (await res.json()) as { errorType: string; error: string };
        expect(body).toMatchObject({ errorType: 'timeout', error: 'query timed out in expression evaluation after 0.001s' });
        const client = new KedaClient(`127.0.0.1:${impatient.ports.otlpGrpc}`);
        await expect(client.value(slow)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
        client.close();
      } finally {
        await impatient.close();
      }
    });
  });

  describe('regex matchers in linear time (RE2)', () => {
    it('matches pathological regexes against a 1 MiB label value and gives the right answer', async () => {
      const now = Date.now();
      app.tsdb.appendLabels(labelsFromRecord({ __name__: 'big', v: `${'a'.repeat(1024 * 1024 - 1)}!` }), now, 1);
      app.tsdb.appendLabels(labelsFromRecord({ __name__: 'big', v: `${'a'.repeat(1024 * 1024 - 1)}b` }), now, 2);
      const matched = async (re: string) => (await query(`big{v=~"${re}"}`)).body.data!.result.map((s) => s.metric.v!.slice(-1));
      expect(await matched('(a+)+$')).toEqual([]);
      expect(await matched('(a|a)*b')).toEqual(['b']);
      expect(await matched('(a|aa)+!')).toEqual(['!']);
      expect((await matched('(a*)*.')).sort()).toEqual(['!', 'b']);
    });
  });

  describe('malformed gRPC requests to the scaler', () => {
    it('answers undecodable ExternalScaler and health requests with INVALID_ARGUMENT, not INTERNAL', async () => {
      // Field 15 with wire type 7, which protobuf does not have.
      const garbage = Buffer.from([0x7f, 0x01]);
      for (const path of ['/externalscaler.ExternalScaler/GetMetrics', '/externalscaler.ExternalScaler/IsActive', '/grpc.health.v1.Health/Check']) {
        const r = await rawUnary(`127.0.0.1:${app.ports.otlpGrpc}`, path, garbage);
        expect(r.code, path).toBe(status.INVALID_ARGUMENT);
        expect(r.details).toMatch(/^malformed \w+ message: /);
      }
    });
  });

  describe('connection and stream limits', () => {
    it('advertises the concurrent-stream limit in its HTTP/2 SETTINGS on both gRPC ports', async () => {
      for (const port of [app.ports.otlpGrpc, app.ports.otlpHttp]) {
        expect(await advertisedMaxStreams(port)).toBe(MAX_CONCURRENT_STREAMS);
      }
    });

    it("closes connections past a listener's limit at once, and serves again when one closes", async () => {
      const limits = { maxConnections: 2, maxConnectionsPerAddress: 2, headerTimeoutMs: 10_000, requestTimeoutMs: 10_000, idleTimeoutMs: 10_000 };
      const listener = new Listener('limited', { http: (_req, res) => res.end('ok') }, pino({ level: 'silent' }), { limits });
      const port = await listener.listen('127.0.0.1', 0);
      const open = () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        });
      const served = (s: Socket) =>
        new Promise<boolean>((resolve) => {
          let text = '';
          s.on('data', (d: Buffer) => (text += d.toString()));
          s.on('close', () => resolve(text.startsWith('HTTP/1.1 200')));
          s.on('error', () => undefined);
          s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
        });
      const [a, b] = [await open(), await open()];
      expect(await served(await open())).toBe(false);
      expect(await served(a)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(await served(await open())).toBe(true);
      b.destroy();
      await listener.close();
    });

    it('closes a gRPC connection left mid-frame once it has idled, and idle clients reconnect on their next call', async () => {
      const idle = await startTestApp({ connectionIdleMs: 300 });
      try {
        for (const port of [idle.ports.otlpGrpc, idle.ports.otlpHttp]) {
          const socket = connect(port, '127.0.0.1');
          const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
          socket.on('error', () => undefined);
          socket.resume();
          // A frame header announcing more bytes than ever follow: the server waits for them until the idle bound.
          socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 60, 4, 0, 0, 0, 0, 0, 1, 2])]));
          await closed;
        }
        const client = new KedaClient(`127.0.0.1:${idle.ports.otlpGrpc}`);
        expect(await client.value('vector(2)')).toBe(2);
        await new Promise((r) => setTimeout(r, 700));
        expect(await client.value('vector(2)')).toBe(2);
        client.close();
      } finally {
        await idle.close();
      }
    });
  });
});

/**
 * The SETTINGS_MAX_CONCURRENT_STREAMS a gRPC client is told, once its first call has been answered
 * (on a port that also serves OTLP/HTTP, the gRPC server takes the connection at its first request).
 */
function advertisedMaxStreams(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const call = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    call.on('error', reject);
    call.on('response', () => {
      resolve(session.remoteSettings.maxConcurrentStreams);
      session.destroy();
    });
    call.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}
