import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';

/*
 * Debian's Prometheus (2.42) speaks Remote-Write 1.0 only: its config has no `protobuf_message`,
 * so 2.0 is covered by the requests http-handler.test.ts builds itself.
 */
const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));

const title = PROMETHEUS
  ? 'Prometheus (Debian package) scraping a target and remote-writing to the scaler'
  : 'Prometheus remote-writing to the scaler: SKIPPED, prometheus not found (apt-get install prometheus)';

/** Long enough for Prometheus to start, scrape, cut a WAL record and send it (about 3 s here). */
const ARRIVAL_TIMEOUT_MS = 30_000;

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

/** A target serving what `body()` gives, Prometheus scraping it every second and remote-writing to the scaler. */
async function scrapedByPrometheus(app: App, content: { type: string; body: () => Buffer | string }, flags: string[] = [], remoteWrite: string[] = []) {
  const target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': content.type });
    res.end(content.body());
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetPort = (target.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'rw-prometheus-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: {scrape_interval: 1s, scrape_timeout: 1s}',
      'scrape_configs:',
      `  - {job_name: shop, static_configs: [{targets: ['127.0.0.1:${targetPort}']}]}`,
      'remote_write:',
      `  - url: http://127.0.0.1:${app.ports.http}/api/v1/write`,
      '    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}',
      '    metadata_config: {send_interval: 1s}',
      ...remoteWrite.map((line) => `    ${line}`),
    ].join('\n'),
  );
  const prometheus = spawn(
    PROMETHEUS!,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--log.level=warn',
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  return {
    log: () => log,
    async close(): Promise<void> {
      if (prometheus.exitCode === null) {
        const exited = new Promise((resolve) => prometheus.once('exit', resolve));
        prometheus.kill('SIGTERM');
        await exited;
      }
      await new Promise((resolve) => target.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Scraped = Awaited<ReturnType<typeof scrapedByPrometheus>>;

/** Polls a query until `done` holds for its result; fails with Prometheus's log if it never does. */
async function waitFor<T>(app: App, prometheus: Scraped, q: string, done: (result: T[]) => boolean): Promise<T[]> {
  const deadline = Date.now() + ARRIVAL_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/query?query=${encodeURIComponent(q)}`);
    const result = ((await res.json()) as { data: { result: T[] } }).data.result;
    if (done(result)) return result;
    if (Date.now() > deadline) throw new Error(`${q} never matched; last result ${JSON.stringify(result)}; prometheus said:\n${prometheus.log()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * For one describe block: a scaler, KEDA's client for it, and Prometheus scraping a target that
 * serves `content` and remote-writing to the scaler.
 */
function usePrometheusScraping(content: { type: string; body: () => Buffer | string }, flags: string[] = [], remoteWrite: string[] = []) {
  const ctx = {} as { app: App; keda: KedaClient; prometheus: Scraped };
  beforeAll(async () => {
    ctx.app = await startTestApp();
    ctx.keda = new KedaClient(`127.0.0.1:${ctx.app.ports.otlpGrpc}`);
    ctx.prometheus = await scrapedByPrometheus(ctx.app, content, flags, remoteWrite);
  }, 30_000);
  afterAll(async () => {
    await ctx.prometheus?.close();
    ctx.keda?.close();
    await ctx.app?.close();
  }, 30_000);
  return ctx;
}

describe.skipIf(!PROMETHEUS)(title, () => {
  let exposition = queueExposition(17, 1234);
  const ctx = usePrometheusScraping({ type: 'text/plain; version=0.0.4', body: () => exposition });

  const query = async (q: string): Promise<Vector[]> => {
    const res = await fetch(`http://127.0.0.1:${ctx.app.ports.http}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await res.json()) as { data: { result: Vector[] } }).data.result;
  };
  const waitForVector = (q: string, done: (result: Vector[]) => boolean) => waitFor(ctx.app, ctx.prometheus, q, done);

  it("stores the scraped values with Prometheus's job and instance labels, readable through the API and by KEDA", async () => {
    const [depth] = await waitForVector('shop_queue_depth', (r) => r.length === 1);
    expect(depth!.metric).toEqual({ __name__: 'shop_queue_depth', queue: 'emails', job: 'shop', instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(depth!.value[1]).toBe('17');
    expect((await waitForVector('shop_jobs_total', (r) => r.length === 1))[0]!.value[1]).toBe('1234');
    // Prometheus's own series about the scrape come along.
    expect((await waitForVector('up{job="shop"}', (r) => r.length === 1))[0]!.value[1]).toBe('1');
    expect(await ctx.keda.value('sum(shop_queue_depth{queue="emails"})')).toBe(17);
    expect(ctx.app.tsdb.metadata('shop_queue_depth').get('shop_queue_depth')).toMatchObject({ type: 'gauge', help: 'Messages waiting.' });
  }, 60_000);

  it('follows new values, and ends a series with the staleness marker Prometheus sends when it disappears', async () => {
    exposition = queueExposition(42, 1300);
    await waitForVector('shop_queue_depth', (r) => r[0]?.value[1] === '42');
    expect(await ctx.keda.value('sum(shop_queue_depth)')).toBe(42);
    expect(await ctx.keda.value('sum(increase(shop_jobs_total[1m])) > 0')).toBeGreaterThan(0);
    exposition = '# TYPE shop_jobs_total counter\nshop_jobs_total{queue="emails"} 1300\n';
    // Without the marker the last value would stay visible for the 5 minute lookback.
    await waitForVector('shop_queue_depth', (r) => r.length === 0);
    expect(await query('shop_jobs_total')).toHaveLength(1);
    expect(ctx.app.tsdb.stats.samplesAppended).toBeGreaterThan(0);
  }, 60_000);
});

describe.skipIf(!PROMETHEUS)(`${title}: native histograms`, () => {
  const started = Date.now();
  // Each second one more request of (0.5, 1] s and three more of (1, 2] s.
  const body = () => histogramExposition(Math.floor((Date.now() - started) / 1000) + 1);
  const ctx = usePrometheusScraping({ type: PROTOBUF_EXPOSITION, body }, ['--enable-feature=native-histograms'], ['send_native_histograms: true']);

  it('stores the native histogram Prometheus scraped as one series, and KEDA reads a quantile of its rate', async () => {
    const { app, prometheus, keda } = ctx;
    type Histogram = { metric: Record<string, string>; histogram: [number, { count: string; sum: string }] };
    const [first] = await waitFor<Histogram>(app, prometheus, 'shop_request_seconds', (r) => r.length === 1);
    expect(first!.metric).toEqual({ __name__: 'shop_request_seconds', job: 'shop', instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(Number(first!.histogram[1].count) % 4).toBe(0);
    expect(await waitFor(app, prometheus, 'shop_request_seconds_bucket', () => true)).toEqual([]);
    await waitFor<Vector>(app, prometheus, 'histogram_count(rate(shop_request_seconds[1m]))', (r) => Number(r[0]?.value[1]) > 0);
    // Three of every four requests took (1, 2] s.
    const median = await keda.value('histogram_quantile(0.5, sum(rate(shop_request_seconds[1m])))');
    expect(median).toBeGreaterThan(1);
    expect(median).toBeLessThanOrEqual(2);
    const metrics = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_samples_written_total\{kind="histogram"\} [1-9]/);
  }, 60_000);
});

/** Prometheus's protobuf exposition, which it asks for once native histograms are on. */
const PROTOBUF_EXPOSITION = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/**
 * A MetricFamily (field numbers of io.prometheus.client's metrics.proto) holding one native
 * histogram at schema 0: `n` observations in (0.5, 1] and 3n in (1, 2], sent as bucket deltas.
 */
function histogramExposition(n: number): Buffer {
  const span = protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .sint32(0)
    .uint32((2 << 3) | 0)
    .uint32(2)
    .finish();
  const deltas = protobuf.Writer.create()
    .sint64(n)
    .sint64(2 * n)
    .finish();
  const histogram = protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .uint64(4 * n)
    .uint32((2 << 3) | 1)
    .double(6 * n)
    .uint32((5 << 3) | 0)
    .sint32(0)
    .uint32((6 << 3) | 1)
    .double(1e-128)
    .uint32((12 << 3) | 2)
    .bytes(span)
    .uint32((13 << 3) | 2)
    .bytes(deltas)
    .finish();
  const metric = protobuf.Writer.create()
    .uint32((7 << 3) | 2)
    .bytes(histogram)
    .finish();
  const family = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string('shop_request_seconds')
    .uint32((2 << 3) | 2)
    .string('Request latency.')
    .uint32((3 << 3) | 0)
    .uint32(4)
    .uint32((4 << 3) | 2)
    .bytes(metric)
    .finish();
  return Buffer.from(protobuf.Writer.create().bytes(family).finish());
}

function queueExposition(depth: number, jobs: number): string {
  return [
    '# HELP shop_queue_depth Messages waiting.',
    '# TYPE shop_queue_depth gauge',
    `shop_queue_depth{queue="emails"} ${depth}`,
    '# HELP shop_jobs_total Jobs done.',
    '# TYPE shop_jobs_total counter',
    `shop_jobs_total{queue="emails"} ${jobs}`,
    '',
  ].join('\n');
}
