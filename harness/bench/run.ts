import { activationLatency } from './activation.js';
import { getMetricsBesideQueries } from './beside-queries.js';
import { buildDataSet } from './dataset.js';
import { encodeAll } from './encode.js';
import { getMetricsUnderLoad } from './getmetrics-load.js';
import { histogramBench } from './histograms.js';
import { ingestBench } from './ingest.js';
import { ingestInproc, ingestInprocRemoteWrite } from './ingest-inproc.js';
import { parseOptions, type AloneSection, type BenchOptions } from './options.js';
import { runPeer } from './peer.js';
import { runNetworkIngest, runSize, type SizeResult } from './per-size.js';
import { encodeRemoteWriteAll } from './remote-write-clients.js';
import type { DataSet } from './dataset.js';
import {
  besideQueriesFigures,
  besideQueriesRows,
  figures,
  histogramFigures,
  histogramRows,
  ingestFigures,
  ingestRows,
  loadFigures,
  loadRows,
  memoryFigures,
  memoryRows,
  replicationFigures,
  replicationRows,
  snapshotFigures,
  snapshotRows,
  table,
  walFigures,
  walRows,
  type MemoryResult,
} from './report.js';
import { replicationBench } from './replication.js';
import { snapshotBench } from './snapshot.js';
import { walBench } from './wal.js';

/** Samples a series in the snapshot benchmark: 10 minutes of 10 s pushes. */
const SNAPSHOT_SAMPLES = 60;

type Section = { figures: Record<string, unknown>; rows: string[] };

/** The sections `--only` runs alone, each in fresh processes on the shared data set. */
const ALONE_SECTIONS: Record<AloneSection, (o: BenchOptions, data: DataSet, log: (msg: string) => void) => Promise<Section>> = {
  replication: async (o, data, log) => {
    log(`replication to 0, 1 and 2 peers, N=${o.ingestSeries}`);
    const r = await replicationBench(data, o.batch, o.concurrency);
    return { figures: replicationFigures(r), rows: replicationRows(r) };
  },
  load: async (o, data, log) => {
    log(`gRPC ingest, N=${o.ingestSeries}, for its maximum`);
    const grpc = await runNetworkIngest(data, o.batch, o.concurrency, 'grpc');
    log(`GetMetrics under ${Math.round(grpc.appendPps / 2)} pps for ${o.loadSeconds} s`);
    const r = await getMetricsUnderLoad(data, o.batch, o.concurrency, grpc.appendPps / 2, o.loadSeconds);
    return { figures: { ingest_pps_grpc: Math.round(grpc.pps), ...loadFigures(r) }, rows: loadRows(r) };
  },
  'beside-queries': async (o, data, log) => {
    log(`GetMetrics beside queries for every series, N=${o.ingestSeries}, ${o.loadSeconds} s`);
    const r = await getMetricsBesideQueries(data, o.batch, o.concurrency, o.loadSeconds);
    return { figures: besideQueriesFigures(r), rows: besideQueriesRows(r) };
  },
  snapshot: async (o, _data, log) => {
    log(`snapshot write and load, ${o.snapshotSeries} series × ${SNAPSHOT_SAMPLES} samples`);
    const r = await snapshotBench(o.snapshotSeries, SNAPSHOT_SAMPLES);
    return { figures: snapshotFigures(r), rows: snapshotRows(r) };
  },
  histograms: async (o, _data, log) => {
    log(`${o.ingestSeries} exponential histograms × 30 samples, native and classic, in process`);
    const r = histogramBench(o.ingestSeries, o.runs);
    return { figures: histogramFigures(r), rows: histogramRows(r) };
  },
  memory: async (o, _data, log) => {
    const results: MemoryResult[] = [];
    for (const n of o.sizes) {
      log(`N=${n} × ${o.steps} samples: bytes a series, ours${o.peer ? " and Prometheus's" : ''}`);
      // One query run each: runSize measures the heap before it queries.
      const ours = (await runSize(buildDataSet(n, o.steps), o.batch, o.concurrency, 1, 1)).heapBytesPerSeries;
      const peer = o.peer ? (await runPeer([n], o.batch, o.concurrency, 1, 1, o.promBin, o.steps)).get(n) : undefined;
      results.push({ n, steps: o.steps, ours, prometheus: peer?.memory.heap_inuse_bytes_per_series_post_gc.delta_vs_empty });
    }
    return { figures: memoryFigures(results), rows: memoryRows(results) };
  },
  ingest: async (o, data, log) => {
    log(`ingest, N=${o.ingestSeries}: in process and over gRPC and HTTP, with and without decoding threads`);
    const r = await ingestBench(data, o.batch, o.concurrency, o.rounds, log);
    return { figures: ingestFigures(r), rows: ingestRows(r) };
  },
  wal: async (o, data, log) => {
    log(`gRPC ingest with a data dir and the write-ahead log, N=${o.ingestSeries}`);
    const r = await walBench(data, o.batch, o.concurrency);
    return { figures: walFigures(r), rows: walRows(r) };
  },
};

/**
 * `npm run bench`: every figure of BENCHMARKS.md on the shared data set, each section in a fresh
 * scaler process; `--peer` then runs the Prometheus harness on the same data for the ratios.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (msg: string) => console.error(`[bench] ${msg}`);
  const ingestData = buildDataSet(options.ingestSeries);
  if (options.only !== undefined) {
    const section = await ALONE_SECTIONS[options.only](options, ingestData, log);
    console.log(options.json ? JSON.stringify(section.figures) : section.rows.join('\n'));
    return;
  }

  log(`in-process ingest, N=${options.ingestSeries}, ${options.rounds} rounds`);
  const inproc = ingestInproc(encodeAll(ingestData, options.batch), options.ingestSeries, options.rounds);
  log(`gRPC ingest, N=${options.ingestSeries}`);
  const grpc = await runNetworkIngest(buildDataSet(options.ingestSeries), options.batch, options.concurrency, 'grpc');
  log(`HTTP ingest, N=${options.ingestSeries}`);
  const http = await runNetworkIngest(buildDataSet(options.ingestSeries), options.batch, options.concurrency, 'http');
  log(`in-process remote-write ingest (1.0, 2.0), N=${options.ingestSeries}`);
  const inprocRw1 = ingestInprocRemoteWrite(encodeRemoteWriteAll(ingestData, options.batch, 'v1'), options.ingestSeries, options.rounds, 'v1');
  const inprocRw2 = ingestInprocRemoteWrite(encodeRemoteWriteAll(ingestData, options.batch, 'v2'), options.ingestSeries, options.rounds, 'v2');
  log(`remote-write ingest (1.0, 2.0), N=${options.ingestSeries}`);
  const rw1 = await runNetworkIngest(buildDataSet(options.ingestSeries), options.batch, options.concurrency, 'rw1');
  const rw2 = await runNetworkIngest(buildDataSet(options.ingestSeries), options.batch, options.concurrency, 'rw2');

  const sizes: SizeResult[] = [];
  for (const n of options.sizes) {
    log(`N=${n}: gRPC ingest, heap after GC, queries`);
    sizes.push(await runSize(buildDataSet(n, options.steps), options.batch, options.concurrency, options.warmup, options.runs));
  }

  log(`GetMetrics under ${Math.round(grpc.appendPps / 2)} pps for ${options.loadSeconds} s`);
  const load = await getMetricsUnderLoad(buildDataSet(options.ingestSeries), options.batch, options.concurrency, grpc.appendPps / 2, options.loadSeconds);
  log(`GetMetrics beside queries for every series, N=${options.ingestSeries}, ${options.loadSeconds} s`);
  const beside = await getMetricsBesideQueries(buildDataSet(options.ingestSeries), options.batch, options.concurrency, options.loadSeconds);
  log(`activation, ${options.activationRounds} rounds`);
  const activation = await activationLatency(buildDataSet(options.ingestSeries), options.batch, options.concurrency, options.activationRounds);

  log(`snapshot write and load, ${options.snapshotSeries} series × ${SNAPSHOT_SAMPLES} samples`);
  const snapshot = await snapshotBench(options.snapshotSeries, SNAPSHOT_SAMPLES);
  log(`gRPC ingest with a data dir and the write-ahead log, N=${options.ingestSeries}`);
  const wal = await walBench(buildDataSet(options.ingestSeries), options.batch, options.concurrency);

  log(`replication to 0, 1 and 2 peers, N=${options.ingestSeries}`);
  const replication = await replicationBench(buildDataSet(options.ingestSeries), options.batch, options.concurrency);

  const peerSizes = [...new Set([...options.sizes, options.ingestSeries])].sort((a, b) => a - b);
  const peer = options.peer
    ? await runPeer(peerSizes, options.batch, options.concurrency, options.warmup, options.runs, options.promBin, options.steps)
    : undefined;

  const measurements = { inproc, grpc, http, inprocRw1, inprocRw2, rw1, rw2, sizes, load, beside, activation, snapshot, wal, replication, peer };
  if (options.json) console.log(JSON.stringify(figures(measurements, options)));
  else console.log(table(measurements, options));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
