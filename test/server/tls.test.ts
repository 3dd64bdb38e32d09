import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto, serviceDefinition } from '../../src/protobuf.js';
import type { App } from '../../src/server/app.js';
import { TlsFiles } from '../../src/server/tls.js';
import { startTestApp } from '../support/app.js';
import { hasOpenssl, makeTestCerts, type Pem, type TestCerts } from '../support/certs.js';
import { KedaClient, type KedaTls } from '../../harness/clients/keda.js';
import { podMeterProvider } from '../support/otel.js';

/** What a client presents: the CA it trusts the server by, and optionally its own certificate. */
interface ClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const OPENSSL = hasOpenssl();
const HOST = '127.0.0.1';
/** Bounds how long a rotation may take to show; generous because the machine is shared, never asserted as speed. */
const ROTATION_WAIT_MS = 15_000;

function kedaTls(c: ClientTls): KedaTls {
  return { caCert: c.ca, ...(c.cert && c.key ? { tlsClientCert: c.cert, tlsClientKey: c.key } : {}) };
}

/** KEDA's value for a query, over a fresh channel that is closed afterwards. */
async function kedaValue(port: number, c: ClientTls | undefined, query: string): Promise<number> {
  const client = new KedaClient(`${HOST}:${port}`, c ? kedaTls(c) : undefined);
  try {
    return await client.value(query);
  } finally {
    client.close();
  }
}

interface Reply {
  status: number;
  body: string;
}

/**
 * One HTTPS request on its own connection (no agent), so every call does a fresh handshake.
 * `alpn` is what the client offers; node's own client offers nothing unless told.
 */
function https(port: number, c: ClientTls, method: string, path: string, body?: string, alpn?: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: HOST,
        port,
        method,
        path,
        agent: false,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        ...(alpn ? { ALPNProtocols: alpn } : {}),
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function plainHttp(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: HOST, port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: '' }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the port is served. */
function servedFingerprint(port: number, c: ClientTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: HOST, port, ca: c.ca, cert: c.cert, key: c.key, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

/** A small OTLP/JSON body: one gauge point. */
function otlpGauge(name: string, value: number): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tls-test' } }] },
        scopeMetrics: [
          {
            metrics: [{ name, gauge: { dataPoints: [{ asDouble: value, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] } }],
          },
        ],
      },
    ],
  });
}

/** One gauge point sent over HTTPS by the real OTLP/HTTP JSON exporter, presenting `c`'s certificate if it has one. */
async function exportGauge(port: number, c: ClientTls, name: string, value: number): Promise<void> {
  const exporter = new HttpJsonExporter({ url: `https://${HOST}:${port}/v1/metrics`, httpAgentOptions: { ca: c.ca, cert: c.cert, key: c.key } });
  const pod = podMeterProvider(exporter, { 'service.name': 'tls-exporter' });
  pod.meter.createObservableGauge(name).addCallback((r) => r.observe(value));
  try {
    await pod.flush();
  } finally {
    await pod.provider.shutdown();
  }
}

type HealthCheck = (req: { service: string }, cb: (err: ServiceError | null, res: { status: number }) => void) => void;

/** grpc.health.v1 Check, as a load balancer or `grpc_health_probe -tls` asks it. */
async function healthCheck(port: number, c: ClientTls): Promise<number> {
  const Ctor = makeGenericClientConstructor(serviceDefinition(loadProto('grpc/health/v1/health.proto'), 'grpc.health.v1.Health'), 'Health');
  const client = new Ctor(`${HOST}:${port}`, credentials.createSsl(c.ca, c.key ?? null, c.cert ?? null)) as unknown as Client & { Check: HealthCheck };
  try {
    return await new Promise((resolve, reject) => client.Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res.status))));
  } finally {
    client.close();
  }
}

describe.skipIf(!OPENSSL)('TLS on every port (needs the openssl CLI)', () => {
  let certs: TestCerts;

  beforeAll(() => {
    certs = makeTestCerts();
  });

  afterAll(() => {
    certs?.remove();
  });

  describe('server certificate only', () => {
    let app: App;
    let trusted: ClientTls;

    beforeAll(async () => {
      app = await startTestApp({ tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile });
      trusted = { ca: certs.ca.cert };
    });

    afterAll(async () => {
      await app?.close();
    });

    it('answers KEDA configured with enableTLS and caCert on 4317 and 4318', async () => {
      expect(await kedaValue(app.ports.otlpGrpc, trusted, 'vector(3)')).toBe(3);
      expect(await kedaValue(app.ports.otlpHttp, trusted, 'vector(4)')).toBe(4);
    });

    it('serves the API over HTTPS on 9090', async () => {
      expect(await https(app.ports.http, trusted, 'GET', '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    });

    it('takes OTLP/HTTP over HTTPS on 4318 from the real exporter and from a plain JSON POST', async () => {
      await exportGauge(app.ports.otlpHttp, trusted, 'tls_exporter_probe', 11);
      expect(await kedaValue(app.ports.otlpGrpc, trusted, 'sum(tls_exporter_probe)')).toBe(11);

      const posted = await https(app.ports.otlpHttp, trusted, 'POST', '/v1/metrics', otlpGauge('tls_json_probe', 5));
      expect(posted.status).toBe(200);
      expect(await kedaValue(app.ports.otlpGrpc, trusted, 'sum(tls_json_probe)')).toBe(5);
    });

    it('speaks HTTP/1.1 on 4318 and 9090 to clients that offer h2 as well (browsers, Go net/http: Grafana, otlphttp)', async () => {
      const both = ['h2', 'http/1.1'];
      expect(await https(app.ports.http, trusted, 'GET', '/readyz', undefined, both)).toEqual({ status: 200, body: 'ready\n' });
      const posted = await https(app.ports.otlpHttp, trusted, 'POST', '/v1/metrics', otlpGauge('tls_alpn_probe', 6), both);
      expect(posted.status).toBe(200);
      expect(await kedaValue(app.ports.otlpHttp, trusted, 'sum(tls_alpn_probe)')).toBe(6);
    });

    it('serves the certificate for 127.0.0.1 on every port', async () => {
      for (const port of Object.values(app.ports)) {
        expect(await servedFingerprint(port, trusted)).toBe(certs.server.fingerprint256);
      }
    });

    it('refuses plaintext clients', async () => {
      await expect(kedaValue(app.ports.otlpGrpc, undefined, 'vector(1)')).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(kedaValue(app.ports.otlpHttp, undefined, 'vector(1)')).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await expect(plainHttp(app.ports.otlpHttp, '/v1/metrics')).rejects.toThrow();
      await expect(plainHttp(app.ports.http, '/readyz')).rejects.toThrow();
    });
  });

  describe('client CA configured (mTLS)', () => {
    let app: App;
    let valid: ClientTls;
    let noCert: ClientTls;
    let foreign: ClientTls;

    beforeAll(async () => {
      app = await startTestApp({ tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile, tlsCaFile: certs.ca.certFile });
      valid = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
      noCert = { ca: certs.ca.cert };
      foreign = { ca: certs.ca.cert, cert: certs.foreignClient.cert, key: certs.foreignClient.key };
    });

    afterAll(async () => {
      await app?.close();
    });

    for (const [label, port] of [
      ['4317', (a: App) => a.ports.otlpGrpc],
      ['4318', (a: App) => a.ports.otlpHttp],
    ] as const) {
      it(`gRPC on ${label}: only a client certificate the CA signed gets in`, async () => {
        await expect(kedaValue(port(app), noCert, 'vector(1)')).rejects.toMatchObject({ code: status.UNAVAILABLE });
        await expect(kedaValue(port(app), foreign, 'vector(1)')).rejects.toMatchObject({ code: status.UNAVAILABLE });
        expect(await kedaValue(port(app), valid, 'vector(7)')).toBe(7);
      });
    }

    it('HTTPS OTLP on 4318: only a client certificate the CA signed gets in', async () => {
      const body = otlpGauge('mtls_probe', 9);
      await expect(https(app.ports.otlpHttp, noCert, 'POST', '/v1/metrics', body)).rejects.toThrow();
      await expect(https(app.ports.otlpHttp, foreign, 'POST', '/v1/metrics', body)).rejects.toThrow();
      expect(await kedaValue(app.ports.otlpGrpc, valid, 'absent(mtls_probe)')).toBe(1);

      await exportGauge(app.ports.otlpHttp, valid, 'mtls_probe', 9);
      expect(await kedaValue(app.ports.otlpGrpc, valid, 'sum(mtls_probe)')).toBe(9);
    });

    it('HTTPS API on 9090: only a client certificate the CA signed gets in', async () => {
      await expect(https(app.ports.http, noCert, 'GET', '/readyz')).rejects.toThrow();
      await expect(https(app.ports.http, foreign, 'GET', '/readyz')).rejects.toThrow();
      expect(await https(app.ports.http, valid, 'GET', '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    });

    it('reports SERVING on grpc.health.v1 over mTLS on both gRPC ports', async () => {
      expect(await healthCheck(app.ports.otlpGrpc, valid)).toBe(1);
      expect(await healthCheck(app.ports.otlpHttp, valid)).toBe(1);
      await expect(healthCheck(app.ports.otlpGrpc, noCert)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    });
  });

  describe('certificate rotation without a restart', () => {
    const dirs: string[] = [];
    const apps: App[] = [];

    afterAll(async () => {
      await Promise.all(apps.map((a) => a.close()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    function freshDir(): string {
      const dir = mkdtempSync(join(tmpdir(), 'scaler-rotation-'));
      dirs.push(dir);
      return dir;
    }

    async function expectServedEverywhere(app: App, c: ClientTls, expected: Pem): Promise<void> {
      for (const port of Object.values(app.ports)) {
        await expect.poll(() => servedFingerprint(port, c), { timeout: ROTATION_WAIT_MS, interval: 200 }).toBe(expected.fingerprint256);
      }
    }

    it(
      'serves a certificate overwritten in place to new connections',
      async () => {
        const dir = freshDir();
        const certFile = join(dir, 'tls.crt');
        const keyFile = join(dir, 'tls.key');
        copyFileSync(certs.server.certFile, certFile);
        copyFileSync(certs.server.keyFile, keyFile);
        const app = await startTestApp({ tlsCertFile: certFile, tlsKeyFile: keyFile });
        apps.push(app);
        const trusted = { ca: certs.ca.cert };
        await expectServedEverywhere(app, trusted, certs.server);

        writeFileSync(keyFile, certs.server2.key);
        writeFileSync(certFile, certs.server2.cert);
        await expectServedEverywhere(app, trusted, certs.server2);
        expect(await kedaValue(app.ports.otlpHttp, trusted, 'vector(2)')).toBe(2);
      },
      ROTATION_WAIT_MS * 4,
    );

    it(
      'follows a cert-manager style swap of the ..data symlink, with mTLS still enforced',
      async () => {
        const dir = freshDir();
        const publish = (version: string, server: Pem) => {
          const target = join(dir, version);
          mkdirSync(target);
          copyFileSync(server.certFile, join(target, 'tls.crt'));
          copyFileSync(server.keyFile, join(target, 'tls.key'));
          copyFileSync(certs.ca.certFile, join(target, 'ca.crt'));
          // The kubelet's atomic writer: a new timestamped dir, then ..data renamed over to point at it.
          symlinkSync(version, join(dir, '..data_tmp'));
          renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
        };
        publish('..2024_01_01_00_00_00.000000001', certs.server);
        for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(join('..data', f), join(dir, f));
        const app = await startTestApp({ tlsCertFile: join(dir, 'tls.crt'), tlsKeyFile: join(dir, 'tls.key'), tlsCaFile: join(dir, 'ca.crt') });
        apps.push(app);
        const valid = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
        await expectServedEverywhere(app, valid, certs.server);

        publish('..2024_01_02_00_00_00.000000002', certs.server2);
        rmSync(join(dir, '..2024_01_01_00_00_00.000000001'), { recursive: true });
        await expectServedEverywhere(app, valid, certs.server2);

        expect(await kedaValue(app.ports.otlpGrpc, valid, 'vector(5)')).toBe(5);
        await expect(kedaValue(app.ports.otlpGrpc, { ca: certs.ca.cert }, 'vector(5)')).rejects.toMatchObject({ code: status.UNAVAILABLE });
        await expect(https(app.ports.http, { ca: certs.ca.cert }, 'GET', '/readyz')).rejects.toThrow();
        expect((await https(app.ports.http, valid, 'GET', '/readyz')).status).toBe(200);
      },
      ROTATION_WAIT_MS * 4,
    );
  });
});

describe.skipIf(!OPENSSL)('TlsFiles (needs the openssl CLI)', () => {
  let certs: TestCerts;
  let dir: string;

  beforeAll(() => {
    certs = makeTestCerts();
    dir = mkdtempSync(join(tmpdir(), 'scaler-tlsfiles-'));
  });

  afterAll(() => {
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'keeps the previous pair while a rotation is half written, takes the new one once complete, and closing one watcher leaves another watching',
    async () => {
      const certFile = join(dir, 'tls.crt');
      const keyFile = join(dir, 'tls.key');
      copyFileSync(certs.server.certFile, certFile);
      copyFileSync(certs.server.keyFile, keyFile);
      const warnings: string[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
      const closed = new TlsFiles({ certFile, keyFile, caFile: undefined }, log);
      const files = new TlsFiles({ certFile, keyFile, caFile: undefined }, log);
      const received: Buffer[] = [];
      files.subscribe((options) => received.push(options.cert as Buffer));
      closed.close();
      try {
        writeFileSync(certFile, certs.server2.cert);
        await expect
          .poll(() => warnings, { timeout: ROTATION_WAIT_MS, interval: 100 })
          .toContainEqual(expect.stringContaining('did not form a valid certificate and key'));
        expect(received).toEqual([]);
        expect(files.options.cert).toEqual(certs.server.cert);

        writeFileSync(keyFile, certs.server2.key);
        await expect.poll(() => received.at(-1), { timeout: ROTATION_WAIT_MS, interval: 100 }).toEqual(certs.server2.cert);
        expect(files.options).toMatchObject({ cert: certs.server2.cert, key: certs.server2.key });
      } finally {
        files.close();
      }
    },
    ROTATION_WAIT_MS * 3,
  );

  it('takes a rotation written in place at the same size, with the old time stamps put back', async () => {
    const certFile = join(dir, 'same-stamp.crt');
    const keyFile = join(dir, 'same-stamp.key');
    // Old and new files padded to one length (PEM allows trailing newlines), so only the bytes differ.
    const padded = (old: Buffer, next: Buffer) => {
      const n = Math.max(old.length, next.length);
      return [old, next].map((b) => Buffer.concat([b, Buffer.from('\n'.repeat(n - b.length))]));
    };
    const [oldCert, newCert] = padded(certs.server.cert, certs.server2.cert);
    const [oldKey, newKey] = padded(certs.server.key, certs.server2.key);
    writeFileSync(certFile, oldCert!);
    writeFileSync(keyFile, oldKey!);
    const files = new TlsFiles({ certFile, keyFile, caFile: undefined }, pino({ level: 'silent' }));
    try {
      // Written in place with the old time stamps put back, as two writes within one clock tick leave them.
      for (const [file, next] of [
        [certFile, newCert!],
        [keyFile, newKey!],
      ] as const) {
        const { atime, mtime } = statSync(file);
        writeFileSync(file, next);
        utimesSync(file, atime, mtime);
      }
      await expect.poll(() => files.options.cert, { timeout: ROTATION_WAIT_MS, interval: 100 }).toEqual(newCert);
    } finally {
      files.close();
    }
  });
});

if (!OPENSSL) {
  describe('TLS on every port', () => {
    it.skip('skipped: the openssl CLI is not on PATH, and it generates the test certificates', () => {});
  });
}
