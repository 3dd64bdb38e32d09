import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe.skipIf(!PROMETHEUS)(title, () => {
  let app: App;
  let target: Server;
  let prometheus: ChildProcess;
  let dir: string;
  let keda: KedaClient;
  let exposition = '';
  let prometheusLog = '';

  beforeAll(async () => {
    app = await startTestApp();
    keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    target = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exposition);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetPort = (target.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'rw-prometheus-'));
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
      ].join('\n'),
    );
    exposition = queueExposition(17, 1234);
    prometheus = spawn(
      PROMETHEUS!,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (chunk: Buffer) => {
      prometheusLog = (prometheusLog + chunk.toString()).slice(-4000);
    });
  }, 30_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    keda?.close();
    await new Promise((resolve) => target?.close(resolve));
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const query = async (q: string): Promise<Vector[]> => {
    const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await res.json()) as { data: { result: Vector[] } }).data.result;
  };

  /** Polls a query until `done` holds for its result; fails with Prometheus's log if it never does. */
  const waitFor = async (q: string, done: (result: Vector[]) => boolean): Promise<Vector[]> => {
    const deadline = Date.now() + ARRIVAL_TIMEOUT_MS;
    for (;;) {
      const result = await query(q);
      if (done(result)) return result;
      if (Date.now() > deadline) throw new Error(`${q} never matched; last result ${JSON.stringify(result)}; prometheus said:\n${prometheusLog}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it("stores the scraped values with Prometheus's job and instance labels, readable through the API and by KEDA", async () => {
    const [depth] = await waitFor('shop_queue_depth', (r) => r.length === 1);
    expect(depth!.metric).toEqual({ __name__: 'shop_queue_depth', queue: 'emails', job: 'shop', instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(depth!.value[1]).toBe('17');
    expect((await waitFor('shop_jobs_total', (r) => r.length === 1))[0]!.value[1]).toBe('1234');
    // Prometheus's own series about the scrape come along.
    expect((await waitFor('up{job="shop"}', (r) => r.length === 1))[0]!.value[1]).toBe('1');
    expect(await keda.value('sum(shop_queue_depth{queue="emails"})')).toBe(17);
    expect(app.tsdb.metadata('shop_queue_depth').get('shop_queue_depth')).toMatchObject({ type: 'gauge', help: 'Messages waiting.' });
  }, 60_000);

  it('follows new values, and ends a series with the staleness marker Prometheus sends when it disappears', async () => {
    exposition = queueExposition(42, 1300);
    await waitFor('shop_queue_depth', (r) => r[0]?.value[1] === '42');
    expect(await keda.value('sum(shop_queue_depth)')).toBe(42);
    expect(await keda.value('sum(increase(shop_jobs_total[1m])) > 0')).toBeGreaterThan(0);
    exposition = '# TYPE shop_jobs_total counter\nshop_jobs_total{queue="emails"} 1300\n';
    // Without the marker the last value would stay visible for the 5 minute lookback.
    await waitFor('shop_queue_depth', (r) => r.length === 0);
    expect(await query('shop_jobs_total')).toHaveLength(1);
    expect(app.tsdb.stats.samplesAppended).toBeGreaterThan(0);
  }, 60_000);
});

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
