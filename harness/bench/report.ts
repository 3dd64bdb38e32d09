import os from 'node:os';
import type { PeerResult } from './peer.js';
import { QUERIES } from './queries.js';
import { round3 } from './stats.js';
import type { BenchOptions } from './options.js';
import type { BesideQueriesResult } from './beside-queries.js';
import type { LoadResult } from './getmetrics-load.js';
import type { NetworkIngest, SizeResult } from './per-size.js';
import type { InprocResult } from './ingest-inproc.js';
import type { ReplicationResult } from './replication.js';
import type { SnapshotResult } from './snapshot.js';
import type { WalResult } from './wal.js';
import type { IngestResult } from './ingest.js';
import type { HistogramResult } from './histograms.js';
import type { Latency } from './stats.js';

export interface Measurements {
  inproc: InprocResult;
  grpc: NetworkIngest;
  http: NetworkIngest;
  /** Prometheus remote write 1.0 and 2.0 of the same data: in process, and over HTTP to the API port. */
  inprocRw1: InprocResult;
  inprocRw2: InprocResult;
  rw1: NetworkIngest;
  rw2: NetworkIngest;
  sizes: SizeResult[];
  load: LoadResult;
  beside: BesideQueriesResult;
  activation: Latency;
  snapshot: SnapshotResult;
  wal: WalResult;
  replication: ReplicationResult[];
  peer: Map<number, PeerResult> | undefined;
}

type PerQuery = Record<string, Record<string, number>>;

/** The named figures of one run, as the `--json` line prints them. */
export function figures(m: Measurements, options: BenchOptions): Record<string, unknown> {
  const p50: PerQuery = {};
  const p99: PerQuery = {};
  for (const key of Object.keys(QUERIES)) {
    p50[key] = {};
    p99[key] = {};
    for (const s of m.sizes) {
      p50[key]![s.n] = round3(s.queries[key]!.p50);
      p99[key]![s.n] = round3(s.queries[key]!.p99);
    }
  }
  const largest = m.sizes.reduce((a, b) => (b.n > a.n ? b : a));
  const out: Record<string, unknown> = {
    bench: 'keda-otlp-scaler',
    host: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      mem_gib: round3(os.totalmem() / 2 ** 30),
      node: process.version,
      loadavg_1m_at_end: round3(os.loadavg()[0]!),
    },
    params: {
      sizes: options.sizes,
      ingest_series: options.ingestSeries,
      batch: options.batch,
      concurrency: options.concurrency,
      rounds: options.rounds,
      warmup: options.warmup,
      runs: options.runs,
      load_seconds: options.loadSeconds,
      activation_rounds: options.activationRounds,
    },
    ingest_pps_inproc: Math.round(m.inproc.pps),
    ingest_pps_grpc: Math.round(m.grpc.pps),
    ingest_pps_http: Math.round(m.http.pps),
    ingest_append_pps_grpc: Math.round(m.grpc.appendPps),
    ingest_append_pps_http: Math.round(m.http.appendPps),
    ingest_pps_inproc_remote_write_v1: Math.round(m.inprocRw1.pps),
    ingest_pps_inproc_remote_write_v2: Math.round(m.inprocRw2.pps),
    ingest_pps_remote_write_v1: Math.round(m.rw1.pps),
    ingest_pps_remote_write_v2: Math.round(m.rw2.pps),
    ingest_append_pps_remote_write_v1: Math.round(m.rw1.appendPps),
    ingest_append_pps_remote_write_v2: Math.round(m.rw2.appendPps),
    ingest_server_cpu_s_per_million_remote_write_v1: round3(m.rw1.serverCpuSecondsPerMillion),
    ingest_server_cpu_s_per_million_grpc: round3(m.grpc.serverCpuSecondsPerMillion),
    query_p50_ms: p50,
    query_p99_ms: p99,
    query_values: Object.fromEntries(Object.keys(QUERIES).map((k) => [k, Object.fromEntries(m.sizes.map((s) => [s.n, s.queries[k]!.sampleValue]))])),
    heap_bytes_per_series: Math.round(largest.heapBytesPerSeries),
    heap_series: largest.n,
    heap_detail: largest.heap,
    ...loadFigures(m.load),
    ...besideQueriesFigures(m.beside),
    activation_p50_ms: round3(m.activation.p50),
    activation_p99_ms: round3(m.activation.p99),
    snapshot: snapshotFigures(m.snapshot),
    wal: walFigures(m.wal),
  };
  out.replication = replicationFigures(m.replication);
  if (m.peer) {
    const peerIngest = m.peer.get(options.ingestSeries);
    const peerHeap = m.peer.get(largest.n);
    const ratioP50: PerQuery = {};
    for (const key of Object.keys(QUERIES)) {
      ratioP50[key] = {};
      for (const s of m.sizes) {
        const peer = m.peer.get(s.n)?.queries[key];
        if (peer) ratioP50[key]![s.n] = round3(s.queries[key]!.p50 / peer.p50_ms);
      }
    }
    out.peer = {
      prometheus: [...m.peer.values()][0]?.prometheus,
      ingest_samples_per_s: Object.fromEntries([...m.peer].map(([n, r]) => [n, r.ingest.samples_per_s])),
      query_p50_ms: Object.fromEntries(Object.keys(QUERIES).map((k) => [k, Object.fromEntries([...m.peer!].map(([n, r]) => [n, r.queries[k]?.p50_ms]))])),
      query_values: Object.fromEntries(Object.keys(QUERIES).map((k) => [k, Object.fromEntries([...m.peer!].map(([n, r]) => [n, r.queries[k]?.sample_value]))])),
      heap_bytes_per_series: Object.fromEntries([...m.peer].map(([n, r]) => [n, r.memory.heap_inuse_bytes_per_series_post_gc.delta_vs_empty])),
    };
    out.ratio_ours_to_peer = {
      ingest_grpc: peerIngest ? round3(m.grpc.pps / peerIngest.ingest.samples_per_s) : null,
      ingest_http: peerIngest ? round3(m.http.pps / peerIngest.ingest.samples_per_s) : null,
      ingest_remote_write_v1: peerIngest ? round3(m.rw1.pps / peerIngest.ingest.samples_per_s) : null,
      ingest_remote_write_v2: peerIngest ? round3(m.rw2.pps / peerIngest.ingest.samples_per_s) : null,
      query_p50: ratioP50,
      heap_per_series: peerHeap ? round3(largest.heapBytesPerSeries / peerHeap.memory.heap_inuse_bytes_per_series_post_gc.delta_vs_empty) : null,
    };
  }
  return out;
}

const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** One figure of ours as a table row, for the sections with no peer column. */
const oursRow = (name: string, value: number) => `${name.padEnd(44)} ${fmt(value).padStart(14)}`;

/** The human table. */
export function table(m: Measurements, options: BenchOptions): string {
  const lines: string[] = [];
  const row = (name: string, ours: string, peer = '', ratio = '') =>
    lines.push(`${name.padEnd(44)} ${ours.padStart(14)} ${peer.padStart(14)} ${ratio.padStart(8)}`);
  row('figure', 'ours', m.peer ? 'prometheus' : '', m.peer ? 'ratio' : '');
  const peerIngest = m.peer?.get(options.ingestSeries)?.ingest.samples_per_s;
  const ratio = (ours: number, peer: number | undefined) => (peer ? (ours / peer).toFixed(2) : '');
  row('ingest_pps_inproc (append, 1 core)', fmt(m.inproc.pps));
  row(`ingest_pps_grpc (N=${options.ingestSeries})`, fmt(m.grpc.pps), peerIngest ? fmt(peerIngest) : '', ratio(m.grpc.pps, peerIngest));
  row(`ingest_pps_http (N=${options.ingestSeries})`, fmt(m.http.pps), peerIngest ? fmt(peerIngest) : '', ratio(m.http.pps, peerIngest));
  row('ingest_pps_inproc_remote_write_v1 (1 core)', fmt(m.inprocRw1.pps));
  row('ingest_pps_inproc_remote_write_v2 (1 core)', fmt(m.inprocRw2.pps));
  // The peer's harness pushes Prometheus remote write 1.0 into Prometheus's own receiver: the like-for-like row.
  row(`ingest_pps_remote_write_v1 (N=${options.ingestSeries})`, fmt(m.rw1.pps), peerIngest ? fmt(peerIngest) : '', ratio(m.rw1.pps, peerIngest));
  row(`ingest_pps_remote_write_v2 (N=${options.ingestSeries})`, fmt(m.rw2.pps), peerIngest ? fmt(peerIngest) : '', ratio(m.rw2.pps, peerIngest));
  for (const s of m.sizes) {
    const peer = m.peer?.get(s.n);
    row(`ingest_pps_grpc N=${s.n}`, fmt(s.grpc.pps), peer ? fmt(peer.ingest.samples_per_s) : '', ratio(s.grpc.pps, peer?.ingest.samples_per_s));
  }
  for (const key of Object.keys(QUERIES)) {
    for (const s of m.sizes) {
      const q = s.queries[key]!;
      const peer = m.peer?.get(s.n)?.queries[key];
      row(`query p50 ms ${key} N=${s.n}`, fmt(q.p50), peer ? fmt(peer.p50_ms) : '', ratio(q.p50, peer?.p50_ms));
      row(`query p99 ms ${key} N=${s.n}`, fmt(q.p99), peer ? fmt(peer.p99_ms) : '', ratio(q.p99, peer?.p99_ms));
    }
  }
  for (const s of m.sizes) {
    const peer = m.peer?.get(s.n)?.memory.heap_inuse_bytes_per_series_post_gc.delta_vs_empty;
    row(`heap bytes/series N=${s.n} (after GC)`, fmt(s.heapBytesPerSeries), peer ? fmt(peer) : '', ratio(s.heapBytesPerSeries, peer));
  }
  lines.push(...loadRows(m.load));
  for (const line of besideQueriesRows(m.beside)) lines.push(line);
  row('activation p50 ms', fmt(m.activation.p50));
  row('activation p99 ms', fmt(m.activation.p99));
  lines.push(...snapshotRows(m.snapshot), ...walRows(m.wal));
  lines.push(...replicationRows(m.replication));
  return lines.join('\n');
}

/** Replication's figures by number of peers, as `--json` prints them. */
export function replicationFigures(results: readonly ReplicationResult[]): Record<string, unknown> {
  return Object.fromEntries(
    results.map((r) => [
      `peers_${r.peers}`,
      {
        ingest_pps_grpc: Math.round(r.ingest.pps),
        all_replicas_hold_pps: Math.round(r.allHeldPps),
        server_cpu_s_per_million: round3(r.ingest.serverCpuSecondsPerMillion),
        dropped: r.dropped,
      },
    ]),
  );
}

export function replicationRows(results: readonly ReplicationResult[]): string[] {
  return results.flatMap((r) => [
    oursRow(`replication to ${r.peers} peers: ingest_pps_grpc`, r.ingest.pps),
    oursRow(`replication to ${r.peers} peers: all replicas hold, pps`, r.allHeldPps),
    oursRow(`replication to ${r.peers} peers: cpu s/M points, first`, r.ingest.serverCpuSecondsPerMillion),
    `${`replication to ${r.peers} peers: dropped`.padEnd(44)} ${String(r.dropped).padStart(14)}`,
  ]);
}

/** GetMetrics's latency beside some other work, as `--json` names it (`getmetrics_p50_ms_<beside>` …). */
function getMetricsFigures(l: Latency, beside: string): Record<string, number> {
  return { [`getmetrics_p50_ms_${beside}`]: round3(l.p50), [`getmetrics_p99_ms_${beside}`]: round3(l.p99), [`getmetrics_max_ms_${beside}`]: round3(l.max) };
}

/** The same as table rows. */
function getMetricsRows(l: Latency, row: (name: string, value: number) => string): string[] {
  return [row('getmetrics p50 ms', l.p50), row('getmetrics p99 ms', l.p99), row('getmetrics max ms', l.max)];
}

/** GetMetrics under ingest at half the measured maximum, as `--json` prints it. */
export function loadFigures(r: LoadResult): Record<string, number> {
  return {
    ...getMetricsFigures(r.getMetrics, 'under_load'),
    getmetrics_calls_under_load: r.getMetrics.count,
    load_pps_target: Math.round(r.targetPps),
    load_pps_achieved: Math.round(r.achievedPps),
    loop_delay_p99_ms_under_load: round3(r.loopDelayP99Ms),
    loop_delay_max_ms_under_load: round3(r.loopDelayMaxMs),
  };
}

/** The same as table rows. */
export function loadRows(r: LoadResult): string[] {
  const row = (name: string, value: number) => oursRow(`${name} under ${fmt(r.achievedPps)} pps`, value);
  return [...getMetricsRows(r.getMetrics, row), row('loop delay p99 ms', r.loopDelayP99Ms), row('loop delay max ms', r.loopDelayMaxMs)];
}

/** GetMetrics beside queries for every series, as `--json` prints it. */
export function besideQueriesFigures(r: BesideQueriesResult): Record<string, number> {
  return {
    ...getMetricsFigures(r.getMetrics, 'beside_queries'),
    loop_delay_max_ms_beside_queries: round3(r.loopDelayMaxMs),
    queries_beside: r.queries,
    answer_bytes_beside: r.answerBytes,
  };
}

/** The same as table rows. */
export function besideQueriesRows(r: BesideQueriesResult): string[] {
  const row = (name: string, value: number) => oursRow(`${name} beside large answers`, value);
  return [
    ...getMetricsRows(r.getMetrics, row),
    row('longest loop delay ms', r.loopDelayMaxMs),
    row('answers written', r.queries),
    row('bytes an answer', r.answerBytes),
  ];
}

/** The snapshot write and load, as `--json` prints them. */
export function snapshotFigures(snap: SnapshotResult): Record<string, number> {
  return {
    series: snap.series,
    samples_per_series: snap.samplesPerSeries,
    write_ms: round3(snap.writeMs),
    write_cpu_ms: round3(snap.writeCpuMs),
    bytes: snap.bytes,
    load_ms: round3(snap.loadMs),
    load_cpu_ms: round3(snap.loadCpuMs),
    fill_by_append_ms: round3(snap.fillMs),
    loop_pause_max_ms: round3(snap.loopPauseMs.max),
    loop_pause_p99_ms: round3(snap.loopPauseMs.p99),
    loop_turns: snap.loopPauseMs.count,
    loop_pauses_over_10ms: snap.loopPausesOver10Ms,
    idle_loop_pause_max_ms: round3(snap.idlePauseMaxMs),
    idle_loop_pauses_over_10ms: snap.idlePausesOver10Ms,
  };
}

export function snapshotRows(snap: SnapshotResult): string[] {
  const at = `${snap.series / 1000}k×${snap.samplesPerSeries}`;
  return [
    oursRow(`snapshot write ms ${at}`, snap.writeMs),
    oursRow(`snapshot write cpu ms ${at}`, snap.writeCpuMs),
    oursRow(`snapshot bytes ${at}`, snap.bytes),
    oursRow(`snapshot load ms ${at}`, snap.loadMs),
    oursRow('snapshot: longest loop pause ms in write', snap.loopPauseMs.max),
    oursRow('snapshot: loop pauses over 10 ms in write', snap.loopPausesOver10Ms),
  ];
}

/** gRPC ingest without a data dir, with snapshots, and with the write-ahead log, as `--json` prints it. */
export function walFigures(r: WalResult): Record<string, number> {
  return {
    ingest_pps_grpc_memory: Math.round(r.memory.pps),
    ingest_pps_grpc_snapshots: Math.round(r.snapshots.pps),
    ingest_pps_grpc_wal: Math.round(r.wal.pps),
    server_cpu_s_per_million_memory: round3(r.memory.serverCpuSecondsPerMillion),
    server_cpu_s_per_million_wal: round3(r.wal.serverCpuSecondsPerMillion),
    wal_bytes_per_point: round3(r.walBytesPerPoint),
    wal_append_us_per_request: round3(r.appendUsPerRequest),
    wal_append_ns_per_point: round3(r.appendNsPerPoint),
  };
}

export function walRows(r: WalResult): string[] {
  return [
    oursRow('ingest_pps_grpc, no data dir', r.memory.pps),
    oursRow('ingest_pps_grpc, data dir', r.snapshots.pps),
    oursRow('ingest_pps_grpc, data dir and --wal', r.wal.pps),
    oursRow('cpu s/M points, no data dir', r.memory.serverCpuSecondsPerMillion),
    oursRow('cpu s/M points, data dir and --wal', r.wal.serverCpuSecondsPerMillion),
    oursRow('write-ahead log bytes a point', r.walBytesPerPoint),
    oursRow('write-ahead log append µs a request', r.appendUsPerRequest),
    oursRow('write-ahead log append ns a point', r.appendNsPerPoint),
  ];
}

/** Bytes a series at one size and sample count, ours and (with `--peer`) Prometheus's on the same data. */
export interface MemoryResult {
  n: number;
  steps: number;
  ours: number;
  prometheus: number | undefined;
}

/** `--only memory`, as `--json` prints it. */
export function memoryFigures(results: readonly MemoryResult[]): Record<string, unknown> {
  return Object.fromEntries(
    results.map((r) => [
      `n_${r.n}_steps_${r.steps}`,
      {
        bytes_per_series: Math.round(r.ours),
        prometheus_bytes_per_series: r.prometheus ?? null,
        ratio_ours_to_peer: r.prometheus ? round3(r.ours / r.prometheus) : null,
      },
    ]),
  );
}

export function memoryRows(results: readonly MemoryResult[]): string[] {
  return results.flatMap((r) => [
    oursRow(`bytes a series, N=${r.n} × ${r.steps}`, r.ours),
    ...(r.prometheus === undefined ? [] : [oursRow(`Prometheus: bytes a series, N=${r.n} × ${r.steps}`, r.prometheus)]),
  ]);
}

/** `--only histograms`, as `--json` prints it. */
export function histogramFigures(results: readonly HistogramResult[]): Record<string, unknown> {
  return Object.fromEntries(
    results.map((r) => [
      r.mode,
      {
        histograms: r.histograms,
        series: r.series,
        bytes_per_histogram: Math.round(r.bytesPerHistogram),
        quantile_p50_ms: round3(r.quantileP50Ms),
        quantile_p99_ms: round3(r.quantileP99Ms),
        quantile_value: r.value,
      },
    ]),
  );
}

export function histogramRows(results: readonly HistogramResult[]): string[] {
  return results.flatMap((r) => [
    oursRow(`${r.mode}: series for ${r.histograms} histograms`, r.series),
    oursRow(`${r.mode}: bytes a histogram, 30 samples`, r.bytesPerHistogram),
    oursRow(`${r.mode}: histogram_quantile p50 ms`, r.quantileP50Ms),
  ]);
}

/** `--only ingest`, as `--json` prints it. */
export function ingestFigures(r: IngestResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ingest_pps_inproc: Math.round(r.inproc.pps),
    ingest_bytes_allocated_a_point_inproc: Math.round(r.bytesPerPoint),
    allocation_by_function: Object.fromEntries(r.allocation.map((l) => [l.where, round3(l.share)])),
    cpu_by_function: Object.fromEntries(r.cpu.map((l) => [l.where, round3(l.share)])),
  };
  for (const a of r.inprocAsync) out[`ingest_pps_inproc_async_threads_${a.threads}`] = Math.round(a.pps);
  for (const x of r.network) {
    out[`ingest_append_pps_${x.transport}_threads_${x.threads}`] = Math.round(x.result.appendPps);
    out[`ingest_server_cpu_s_per_million_${x.transport}_threads_${x.threads}`] = round3(x.result.serverCpuSecondsPerMillion);
  }
  return out;
}

export function ingestRows(r: IngestResult): string[] {
  const pct = (share: number) => `${(100 * share).toFixed(1)} %`;
  return [
    oursRow('ingest_pps_inproc (ingestNow)', r.inproc.pps),
    ...r.inprocAsync.map((a) => oursRow(`ingest_pps_inproc, ingest, ${a.threads} threads`, a.pps)),
    oursRow('bytes allocated a point (ingestNow)', r.bytesPerPoint),
    ...r.allocation.map((l) => `  alloc ${l.where.padEnd(50)} ${pct(l.share)}`),
    ...r.cpu.map((l) => `  cpu   ${l.where.padEnd(50)} ${pct(l.share)}`),
    ...r.network.flatMap((x) => [
      oursRow(`ingest_append_pps_${x.transport}, ${x.threads} threads`, x.result.appendPps),
      oursRow(`cpu s/M points ${x.transport}, ${x.threads} threads`, x.result.serverCpuSecondsPerMillion),
    ]),
  ];
}
