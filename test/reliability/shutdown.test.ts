import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../harness/clients/otlp.js';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';
import { KedaClient } from '../../harness/clients/keda.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

function gauge(value: number): Buffer {
  return encodeRequest({
    resource_metrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'shutdown' } }] },
        scope_metrics: [{ metrics: [{ name: 'queue.size', gauge: { data_points: [{ as_double: value, time_unix_nano: `${Date.now()}000000` }] } }] }],
      },
    ],
  });
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

interface StreamEvents {
  results: boolean[];
  ended: Promise<{ code: number; details: string }>;
}

describe('graceful shutdown of the real process on SIGTERM', () => {
  let server: ServerProcess;
  let keda: KedaClient;
  beforeAll(async () => {
    // A two-second lookback delta: the fresh process answers `sum(queue_size)` once it has held two seconds of its samples.
    server = await spawnServer({
      entry: MAIN,
      execArgv: ['--import', REGISTER, '--no-warnings'],
      env: { SCALER_LOG_LEVEL: 'info', SCALER_LOOKBACK_DELTA: '2s' },
    });
    keda = new KedaClient(`127.0.0.1:${server.ports.otlpGrpc}`);
  });
  afterAll(() => {
    keda.close();
    if (!server.gone()) server.child.kill('SIGKILL');
  });

  it('turns unready first, answers the request in flight, ends the stream cleanly and exits 0', async () => {
    const { ports } = server;
    const post = (body: Buffer) =>
      fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    const ref = { name: 'so', namespace: 'default', scalerMetadata: { metricQuery: 'sum(queue_size)', targetValue: '1' } };
    // The collector pushes every 200 ms; the scaler answers once it holds two seconds of that.
    expect((await post(gauge(3))).status).toBe(200);
    const pushing = setInterval(() => void post(gauge(3)), 200);
    await expect.poll(() => keda.valueOrUndefined(ref), { interval: 100, timeout: 10_000 }).toBe(3);
    expect(await get(ports.http, '/readyz')).toBe(200);

    const call = keda.raw.StreamIsActive!(ref);
    const stream: StreamEvents = {
      results: [],
      ended: new Promise((resolve) => {
        call.on('status', (s: { code: number; details: string }) => resolve(s));
      }),
    };
    call.on('data', (m: { result: boolean }) => stream.results.push(m.result));
    call.on('error', () => undefined);
    await expect.poll(() => stream.results).toEqual([true]);
    clearInterval(pushing);

    // A request in flight: headers and half the body sent before the signal, the rest after it.
    const body = gauge(5);
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ports.otlpHttp,
          method: 'POST',
          path: '/v1/metrics',
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      setTimeout(() => req.end(body.subarray(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 50));

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    await expect.poll(() => get(ports.http, '/readyz'), { interval: 20, timeout: 1_000 }).toBe(503);
    expect(await inFlight).toBe(200);
    expect(await stream.ended).toMatchObject({ code: 0 });
    expect(await server.exited).toBe(0);
    const shutdownMs = Date.now() - signalled;
    // The 2 s drain, then everything closes at once: nothing waits for a forced close.
    expect(shutdownMs).toBeLessThan(4_500);
    expect(server.logs.map((l) => l.msg)).toContain('shutting down');
  });
});
