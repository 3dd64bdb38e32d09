import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress } from 'snappyjs';
import { loadProto } from '../../src/protobuf.js';
import { STEPS, buildDataSet, type DataSet } from './dataset.js';
import { runQueries, type QueryResult } from './queries.js';
import { round3, sleep } from './stats.js';

/** What the report reads of one Prometheus run. */
export interface PeerResult {
  prometheus: string;
  series: number;
  ingest: { samples_per_s: number; append_only_samples_per_s: number; prom_cpu_us_per_sample: number };
  memory: { heap_inuse_bytes_per_series_post_gc: { delta_vs_empty: number } };
  queries: Record<string, { p50_ms: number; p99_ms: number; sample_value: number | null; result_series: number }>;
}

/** After ingest, Prometheus gets this long to finish appending before its heap is read. */
const SETTLE_MS = 5_000;
/** Linux's clock ticks a second in /proc/<pid>/stat (getconf CLK_TCK on every x86_64 and arm64 kernel). */
const CLOCK_TICKS = 100;

function ensurePrometheus(bin: string): void {
  if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0) return;
  console.error(`[peer] ${bin} not found: installing Debian's prometheus package`);
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) => execFileSync(asRoot ? args[0]! : 'sudo', asRoot ? args.slice(1) : args, { stdio: 'inherit' });
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', 'prometheus']);
}

function request(
  port: number,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string | number> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A Prometheus of its own, scraping nothing, taking remote write on a loopback port. */
class PrometheusServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(bin: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-scaler-peer-'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 10s\nscrape_configs: []\n');
    const port = await freePort();
    const child = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--storage.tsdb.retention.time=1d',
      ],
      { stdio: 'ignore' },
    );
    const server = new PrometheusServer(child, port, dir);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} before it was ready`);
      const ready = await request(port, 'GET', '/-/ready').catch(() => undefined);
      if (ready?.status === 200) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error('prometheus was not ready after 60 s');
      }
      await sleep(100);
    }
  }

  /** Go heap in use after a forced collection (the pprof heap handler with gc=1 runs one). */
  async heapInUse(): Promise<number> {
    await request(this.port, 'GET', '/debug/pprof/heap?gc=1');
    await sleep(500);
    const text = (await request(this.port, 'GET', '/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith('go_memstats_heap_inuse_bytes '));
    if (line === undefined) throw new Error('prometheus /metrics has no go_memstats_heap_inuse_bytes');
    return Number(line.slice(line.indexOf(' ') + 1));
  }

  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Remote-write 1.0 bodies (snappy-compressed prometheus.WriteRequest), `batch` series a body, one list a step. */
function encodeRemoteWrite(data: DataSet, batch: number): Buffer[][] {
  const WriteRequest = loadProto('prometheus/remote.proto').lookupType('prometheus.WriteRequest');
  const steps: Buffer[][] = [];
  for (let step = 0; step < data.values.length; step++) {
    const values = data.values[step]!;
    const timestamp = data.timeAt(step);
    const bodies: Buffer[] = [];
    for (let from = 0; from < data.series.length; from += batch) {
      const timeseries = data.series.slice(from, from + batch).map((s, i) => ({ labels: s.labels, samples: [{ value: values[from + i]!, timestamp }] }));
      bodies.push(compress(Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish())));
    }
    steps.push(bodies);
  }
  return steps;
}

const REMOTE_WRITE_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
};

/** Pushes every step in time order (a step's bodies `concurrency` at a time); returns the seconds the first step and all took. */
async function pushAll(port: number, steps: Buffer[][], concurrency: number): Promise<{ firstS: number; allS: number }> {
  const t0 = performance.now();
  let firstS = 0;
  for (let step = 0; step < steps.length; step++) {
    const bodies = steps[step]!;
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const r = await request(port, 'POST', '/api/v1/write', body, { ...REMOTE_WRITE_HEADERS, 'content-length': body.length });
        if (r.status >= 300) throw new Error(`prometheus answered remote write with ${r.status}: ${r.body.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
    if (step === 0) firstS = (performance.now() - t0) / 1000;
  }
  return { firstS, allS: (performance.now() - t0) / 1000 };
}

function peerQueries(queries: Record<string, QueryResult>): PeerResult['queries'] {
  return Object.fromEntries(
    Object.entries(queries).map(([key, q]) => [
      key,
      { p50_ms: round3(q.p50), p99_ms: round3(q.p99), sample_value: q.sampleValue, result_series: q.resultSeries },
    ]),
  );
}

/**
 * Prometheus (Debian's package) fed the same data set over remote write, with the same batch size
 * and concurrency, then asked the same queries the same way: the figures our own are held against.
 * One fresh server a size; the client encodes every body before the timed push.
 */
export async function runPeer(
  sizes: readonly number[],
  batch: number,
  concurrency: number,
  warmup: number,
  runs: number,
  bin = 'prometheus',
  steps = STEPS,
): Promise<Map<number, PeerResult>> {
  ensurePrometheus(bin);
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  const out = new Map<number, PeerResult>();
  for (const n of sizes) {
    console.error(`[peer] Prometheus with N=${n}`);
    const data = buildDataSet(n, steps);
    const bodies = encodeRemoteWrite(data, batch);
    const prom = await PrometheusServer.start(bin);
    try {
      await sleep(2_000);
      const emptyHeap = await prom.heapInUse();
      const cpu0 = prom.cpuSeconds();
      const { firstS, allS } = await pushAll(prom.port, bodies, concurrency);
      const cpuS = prom.cpuSeconds() - cpu0;
      await sleep(SETTLE_MS);
      const heap = await prom.heapInUse();
      const samples = n * steps;
      out.set(n, {
        prometheus: version,
        series: n,
        ingest: {
          samples_per_s: Math.round(samples / allS),
          append_only_samples_per_s: Math.round((n * (steps - 1)) / (allS - firstS)),
          prom_cpu_us_per_sample: round3((cpuS * 1e6) / samples),
        },
        memory: { heap_inuse_bytes_per_series_post_gc: { delta_vs_empty: round3((heap - emptyHeap) / n) } },
        queries: peerQueries(await runQueries(prom.port, data.endMs, warmup, runs)),
      });
    } finally {
      await prom.stop();
    }
  }
  return out;
}
