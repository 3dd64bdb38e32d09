import { credentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, parsePeers, type Config } from '../../src/config.js';
import { FORWARD_PATH } from '../../src/replicate/wire.js';
import { startApp, type App } from '../../src/server/app.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import { freePorts } from '../../harness/free-ports.js';
import { hasOpenssl, makeTestCerts } from '../support/certs.js';
import { podMeterProvider } from '../support/otel.js';
import { postRemoteWrite, snappy, encodeV1, V1_CONTENT_TYPE } from '../remotewrite/client.js';

interface Ports {
  otlpGrpc: number;
  otlpHttp: number;
  http: number;
}

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function portsFor(n: number): Promise<Ports[]> {
  const flat = await freePorts(3 * n);
  return Array.from({ length: n }, (_, i) => ({ otlpGrpc: flat[3 * i]!, otlpHttp: flat[3 * i + 1]!, http: flat[3 * i + 2]! }));
}

const peerList = (all: Ports[]) => all.map((p) => `127.0.0.1:${p.otlpGrpc}:${p.http}`).join(',');

async function start(ports: Ports, all: Ports[], overrides: Partial<Config> = {}): Promise<App> {
  const config = defaultConfig({
    listenAddress: '127.0.0.1',
    otlpGrpcPort: ports.otlpGrpc,
    otlpHttpPort: ports.otlpHttp,
    httpPort: ports.http,
    peers: parsePeers(peerList(all)),
    ...overrides,
  });
  const app = await startApp(config, pino({ level: 'silent' }));
  apps.push(app);
  return app;
}

function samples(app: App, name: string): number[] {
  return app.tsdb.select([new Matcher('=', '__name__', name)]).flatMap((s) => Array.from({ length: s.length }, (_, i) => s.valueAt(i)));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metric(app: App, name: string): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`keda_otlp_scaler_${name}`));
}

function forwardRaw(app: App, sender: string, seq: number, body: Buffer, kind = 'otlp-protobuf'): Promise<ServiceError | null> {
  const client = new Client(`127.0.0.1:${app.ports.otlpGrpc}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('x-scaler-kind', kind);
  md.set('x-scaler-sender', sender);
  md.set('x-scaler-seq', String(seq));
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      FORWARD_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      (err) => {
        client.close();
        resolve(err);
      },
    ),
  );
}

describe('replication between replicas in one process (real gRPC, real OTel exporter)', () => {
  it('stores a request on every replica, whichever one received it, and never forwards a forwarded one', async () => {
    const all = await portsFor(3);
    const [a, b, c] = [await start(all[0]!, all), await start(all[1]!, all), await start(all[2]!, all)];
    const pod = podMeterProvider(new OTLPMetricExporter({ url: `http://127.0.0.1:${a.ports.otlpGrpc}` }), { 'service.name': 'gateway' });
    pod.meter.createObservableGauge('queue_size').addCallback((r) => r.observe(42));
    await pod.flush();
    await postRemoteWrite(
      `http://127.0.0.1:${b.ports.http}/api/v1/write`,
      snappy(encodeV1([{ labels: { __name__: 'rw_gauge', job: 'prom' }, samples: [{ value: 7, timestamp: Date.now() }] }])),
      V1_CONTENT_TYPE,
    );
    await pod.provider.shutdown();
    for (const app of [a, b, c]) {
      await until('the gauge on every replica', () => samples(app, 'queue_size').includes(42));
      await until('the remote-write sample on every replica', () => samples(app, 'rw_gauge').includes(7));
    }
    // Each replica got each request once: A and B from the senders, the others from them.
    const exports = Number((await metric(a, 'otlp_requests_total')).find((l) => l.includes('grpc'))!.split(' ')[1]);
    expect(exports).toBeGreaterThanOrEqual(1);
    const received = async (app: App) => Number((await metric(app, 'replication_received_total'))[0]!.split(' ')[1]);
    await until('every forward stored', async () => (await received(c)) === exports + 1);
    expect(await received(a)).toBe(1);
    expect(await received(b)).toBe(exports);
    expect(await metric(a, 'replication_forwarded_total')).toEqual([
      expect.stringContaining(`peer="127.0.0.1:${b.ports.otlpGrpc}"} ${exports}`),
      expect.stringContaining(`peer="127.0.0.1:${c.ports.otlpGrpc}"} ${exports}`),
    ]);
    expect(await metric(c, 'replication_peers')).toEqual(['keda_otlp_scaler_replication_peers 2']);
  }, 30_000);

  it('catches a new replica up from a peer before it reports ready: its store holds the window at once', async () => {
    const all = await portsFor(2);
    const a = await start(all[0]!, all);
    const t0 = Date.now() - 60_000;
    await postRemoteWrite(
      `http://127.0.0.1:${a.ports.http}/api/v1/write`,
      snappy(
        encodeV1([
          { labels: { __name__: 'old_gauge', job: 'prom' }, samples: Array.from({ length: 7 }, (_, i) => ({ value: i, timestamp: t0 + i * 10_000 })) },
        ]),
      ),
      V1_CONTENT_TYPE,
    );
    const b = await start(all[1]!, all);
    expect(samples(b, 'old_gauge')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The restored span reaches back to A's start, before B's own.
    expect(b.tsdb.coverage.gapFreeSinceMs).toBeLessThan(b.tsdb.coverage.liveSinceMs);
    expect(b.tsdb.coverage.gapFreeSinceMs).toBeLessThanOrEqual(a.tsdb.coverage.liveSinceMs);
    const ready = await fetch(`http://127.0.0.1:${b.ports.http}/readyz`);
    expect(ready.status).toBe(200);
  }, 30_000);

  it('loses no sample that arrives while a replica catches up: it ends with exactly what its peer holds', async () => {
    const all = await portsFor(2);
    const a = await start(all[0]!, all);
    const t0 = Date.now() - 60_000;
    let i = 0;
    let pushing = true;
    const pusher = (async () => {
      while (pushing) {
        const res = await postRemoteWrite(
          `http://127.0.0.1:${a.ports.http}/api/v1/write`,
          snappy(encodeV1([{ labels: { __name__: 'seq', job: 'prom' }, samples: [{ value: i, timestamp: t0 + i * 10 }] }])),
          V1_CONTENT_TYPE,
        );
        expect(res.status).toBe(204);
        i++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await until('a few samples before the new replica starts', () => i > 20);
    const b = await start(all[1]!, all);
    const atReady = i;
    await until('samples after the new replica is ready', () => i > atReady + 50);
    pushing = false;
    await pusher;
    await until('every sample on the new replica', () => samples(b, 'seq').length === i);
    expect(samples(b, 'seq')).toEqual(samples(a, 'seq'));
    expect(samples(a, 'seq')).toEqual(Array.from({ length: i }, (_, k) => k));
  }, 30_000);

  it('answers collectors at once while a peer is down, and counts what it could not forward', async () => {
    const all = await portsFor(2);
    const a = await start(all[0]!, all, { peerQueueBytes: 2048 });
    const pod = podMeterProvider(new OTLPMetricExporter({ url: `http://127.0.0.1:${a.ports.otlpGrpc}` }), { 'service.name': 'gateway' });
    let n = 0;
    pod.meter.createObservableGauge('queue_size').addCallback((r) => r.observe(n++, { padding: 'x'.repeat(600) }));
    const took: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await pod.flush();
      took.push(performance.now() - t);
    }
    await pod.provider.shutdown();
    expect(samples(a, 'queue_size').length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...took)).toBeLessThan(1_000);
    const dropped = await metric(a, 'replication_dropped_total');
    const queueFull = dropped.find((l) => l.includes('reason="queue_full"'))!;
    expect(Number(queueFull.split(' ')[1])).toBeGreaterThan(0);
  }, 30_000);

  it('restarts its coverage when a sender skips a forwarded request, so windows across the loss wait', async () => {
    const all = await portsFor(1);
    const a = await start(all[0]!, all, { maxRequestBytes: 16 * 1024, maxDecompressedBytes: 64 * 1024, maxInflightBytes: 200 * 1024 });
    const empty = Buffer.alloc(0);
    const liveBefore = a.tsdb.coverage.liveSinceMs;
    expect(await forwardRaw(a, 'sender-1', 1, empty)).toBeNull();
    expect(await forwardRaw(a, 'sender-1', 2, empty)).toBeNull();
    expect(await metric(a, 'replication_gaps_total')).toEqual(['keda_otlp_scaler_replication_gaps_total 0']);
    await new Promise((r) => setTimeout(r, 20));
    expect(await forwardRaw(a, 'sender-1', 4, empty)).toBeNull();
    expect(await metric(a, 'replication_gaps_total')).toEqual(['keda_otlp_scaler_replication_gaps_total 1']);
    expect(a.tsdb.coverage.liveSinceMs).toBeGreaterThan(liveBefore);
    // A sender first heard from after catching up that does not start at 1 lost requests here too.
    expect(await forwardRaw(a, 'sender-2', 5, empty)).toBeNull();
    expect(await metric(a, 'replication_gaps_total')).toEqual(['keda_otlp_scaler_replication_gaps_total 2']);
    const big = await forwardRaw(a, 'sender-1', 5, Buffer.alloc(a.config.maxDecompressedBytes + 1));
    expect(big?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(big?.details).toMatch(/over the limit of/);
    const bad = await forwardRaw(a, 'sender-1', 5, empty, 'carrier-pigeon');
    expect(bad?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad?.details).toMatch(/x-scaler-kind must be one of/);
  }, 30_000);

  it.skipIf(!hasOpenssl())(
    'forwards and catches up under mTLS, presenting its own certificate to its peers',
    async () => {
      const certs = makeTestCerts();
      try {
        const all = await portsFor(2);
        const tls = { tlsCertFile: certs.peer.certFile, tlsKeyFile: certs.peer.keyFile, tlsCaFile: certs.ca.certFile };
        const a = await start(all[0]!, all, tls);
        const exporter = new OTLPMetricExporter({
          url: `https://127.0.0.1:${a.ports.otlpGrpc}`,
          credentials: credentials.createSsl(certs.ca.cert, certs.client.key, certs.client.cert),
        });
        const pod = podMeterProvider(exporter, { 'service.name': 'gateway' });
        let value = 42;
        pod.meter.createObservableGauge('queue_size').addCallback((r) => r.observe(value));
        await pod.flush();
        // B catches up over HTTPS from A, and A forwards to it over gRPC with TLS from then on.
        const b = await start(all[1]!, all, tls);
        expect(samples(b, 'queue_size')).toEqual([42]);
        value = 43;
        await pod.flush();
        await pod.provider.shutdown();
        await until('the forwarded gauge', () => samples(b, 'queue_size').includes(43));
      } finally {
        certs.remove();
      }
    },
    30_000,
  );
});
