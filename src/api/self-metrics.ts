import { status } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Scaler } from '../scaler/scaler.js';
import type { Tsdb } from '../tsdb/db.js';

const PREFIX = 'keda_otlp_scaler_';

/**
 * prom-client's default gauges whose names end in `_total`, which the exposition format keeps for
 * counters (`promtool check metrics` fails them). Each is the sum over `type` of a gauge that
 * stays: nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The OTLP receivers' counters as /metrics reads them (the shape of src/otlp/stats.ts's OtlpStats). */
export interface ReceiverCounters {
  readonly requests: Readonly<Record<string, number>>;
  readonly requestsFailed: Readonly<Record<string, number>>;
  readonly pointsReceived: number;
  readonly pointsAccepted: number;
  readonly pointsSkippedLazy: number;
  readonly pointsRejected: Readonly<Record<string, number>>;
}

/** The remote-write receiver's counters as /metrics reads them (the shape of src/remotewrite/stats.ts's RemoteWriteStats). */
export interface RemoteWriteCounters {
  readonly requests: Readonly<Record<string, number>>;
  readonly requestsFailed: number;
  readonly samplesReceived: number;
  readonly histogramsReceived: number;
  readonly samplesWritten: number;
  readonly histogramsWritten: number;
  readonly samplesSkippedLazy: number;
  readonly histogramsSkippedLazy: number;
  readonly exemplarsIgnored: number;
  readonly samplesRejected: Readonly<Record<string, number>>;
}

/** The data dir's snapshot counters (the shape of src/persist/snapshots.ts's SnapshotStats). */
export interface SnapshotCounters {
  readonly writes: number;
  readonly failures: number;
  readonly lastWriteSeconds: number;
  readonly lastWriteBytes: number;
  readonly lastWriteTimestamp: number;
}

/** The write-ahead log's counters (the shape of src/persist/wal.ts's WalStats). */
export interface WalCounters {
  readonly records: number;
  readonly bytes: number;
  readonly failures: number;
}

/** Replication's counters (the shape of src/replicate/replicator.ts's ReplicationStats). */
export interface ReplicationCounters {
  peers(): readonly { peer: string; forwarded: number; droppedQueueFull: number; refused: number; queuedBytes: number }[];
  readonly receive: { readonly received: number; readonly refused: number; readonly gaps: number };
}

/** What /metrics reads when scraped; each part is optional so the API can run without it. */
export interface MetricSources {
  tsdb: Tsdb;
  otlp?: ReceiverCounters;
  remoteWrite?: RemoteWriteCounters;
  scaler?: Scaler;
  snapshots?: SnapshotCounters;
  wal?: WalCounters;
  replication?: ReplicationCounters;
}

type Setter = (labels: Record<string, string>, value: number) => void;

/**
 * The process's own metrics on a registry of its own (not prom-client's global one, so several
 * servers in one process, as in tests, do not collide). Counters kept elsewhere as plain numbers
 * are read when scraped, so ingest and query paths pay nothing for them.
 */
export class SelfMetrics {
  readonly registry = new Registry();
  private readonly scalerCalls = new Counter({
    name: `${PREFIX}scaler_calls_total`,
    help: 'ExternalScaler gRPC calls from KEDA, by method and gRPC status code.',
    labelNames: ['rpc', 'code'] as const,
    registers: [this.registry],
  });
  private readonly requestDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time to answer a Prometheus API request, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private watching = false;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  /** For ExternalScalerService's `onCall` option. */
  readonly countScalerCall = (rpc: string, code: status): void => {
    // The enum's reverse map has no name for a code grpc-js may add later.
    this.scalerCalls.inc({ rpc, code: (status[code] as string | undefined) ?? String(code) });
  };

  observeRequest(endpoint: string, seconds: number): void {
    this.requestDuration.observe({ endpoint }, seconds);
  }

  /** Registers the scrape-time readers of the TSDB, receiver and scaler state; once. */
  watch(sources: MetricSources): void {
    if (this.watching) return;
    this.watching = true;
    const { tsdb, otlp, remoteWrite, scaler, snapshots, wal, replication } = sources;
    this.gauge('tsdb_series', 'Series held in memory.', [], (set) => set({}, tsdb.seriesCount));
    this.counter('tsdb_series_created_total', 'Series created.', [], (set) => set({}, tsdb.stats.seriesCreated));
    this.counter('tsdb_series_freed_total', 'Series freed by retention.', [], (set) => set({}, tsdb.stats.seriesFreed));
    this.counter('tsdb_samples_appended_total', 'Samples stored.', [], (set) => set({}, tsdb.stats.samplesAppended));
    this.counter('tsdb_samples_rejected_total', 'Samples the TSDB refused, by reason.', ['reason'], (set) => {
      set({ reason: 'series_limit' }, tsdb.stats.seriesRejected);
      set({ reason: 'out_of_order' }, tsdb.stats.samplesOutOfOrder);
      set({ reason: 'too_old' }, tsdb.stats.samplesTooOld);
    });
    if (otlp) {
      this.counter('otlp_requests_total', 'OTLP export requests decoded, by transport.', ['transport'], (set) => {
        for (const [transport, n] of Object.entries(otlp.requests)) set({ transport }, n);
      });
      this.counter('otlp_requests_failed_total', 'OTLP export requests refused whole, by transport.', ['transport'], (set) => {
        for (const [transport, n] of Object.entries(otlp.requestsFailed)) set({ transport }, n);
      });
      this.counter('otlp_points_received_total', 'OTLP data points received.', [], (set) => set({}, otlp.pointsReceived));
      this.counter('otlp_points_accepted_total', 'OTLP data points stored.', [], (set) => set({}, otlp.pointsAccepted));
      this.counter('otlp_points_skipped_total', 'OTLP data points of metrics no trigger reads, skipped in lazy mode.', [], (set) =>
        set({}, otlp.pointsSkippedLazy),
      );
      this.counter('otlp_points_rejected_total', 'OTLP data points refused, by reason.', ['reason'], (set) => {
        for (const [reason, n] of Object.entries(otlp.pointsRejected)) set({ reason }, n);
      });
    }
    if (remoteWrite) {
      this.counter('remote_write_requests_total', 'Remote-write requests decoded, by protocol version (v1, v2).', ['protocol'], (set) => {
        for (const [protocol, n] of Object.entries(remoteWrite.requests)) set({ protocol }, n);
      });
      this.counter('remote_write_requests_failed_total', 'Remote-write requests refused whole (unsupported, too large, malformed).', [], (set) =>
        set({}, remoteWrite.requestsFailed),
      );
      this.counter('remote_write_samples_received_total', 'Remote-write samples received, by kind (float, native histogram).', ['kind'], (set) => {
        set({ kind: 'float' }, remoteWrite.samplesReceived);
        set({ kind: 'histogram' }, remoteWrite.histogramsReceived);
      });
      this.counter('remote_write_samples_written_total', 'Remote-write samples stored, by kind (float, native histogram).', ['kind'], (set) => {
        set({ kind: 'float' }, remoteWrite.samplesWritten);
        set({ kind: 'histogram' }, remoteWrite.histogramsWritten);
      });
      this.counter(
        'remote_write_samples_skipped_total',
        'Remote-write samples of metrics no trigger reads, skipped in lazy mode, by kind (float, native histogram).',
        ['kind'],
        (set) => {
          set({ kind: 'float' }, remoteWrite.samplesSkippedLazy);
          set({ kind: 'histogram' }, remoteWrite.histogramsSkippedLazy);
        },
      );
      this.counter('remote_write_samples_rejected_total', 'Remote-write samples refused, by reason.', ['reason'], (set) => {
        for (const [reason, n] of Object.entries(remoteWrite.samplesRejected)) set({ reason }, n);
      });
      this.counter('remote_write_exemplars_ignored_total', 'Remote-write exemplars received; the scaler keeps none.', [], (set) =>
        set({}, remoteWrite.exemplarsIgnored),
      );
    }
    if (snapshots) {
      this.counter('snapshot_writes_total', 'Snapshots of the store written to the data dir.', [], (set) => set({}, snapshots.writes));
      this.counter('snapshot_write_failures_total', 'Snapshot writes that failed (the previous snapshot was kept).', [], (set) => set({}, snapshots.failures));
      this.gauge('snapshot_last_write_duration_seconds', 'How long the last successful snapshot write took.', [], (set) => set({}, snapshots.lastWriteSeconds));
      this.gauge('snapshot_last_write_bytes', 'Size of the last snapshot written.', [], (set) => set({}, snapshots.lastWriteBytes));
      this.gauge('snapshot_last_write_timestamp_seconds', 'When the last successful snapshot write finished (0: none yet).', [], (set) =>
        set({}, snapshots.lastWriteTimestamp),
      );
    }
    if (wal) {
      this.counter('wal_records_total', 'Request bodies logged to the write-ahead log.', [], (set) => set({}, wal.records));
      this.counter('wal_bytes_total', 'Bytes written to the write-ahead log.', [], (set) => set({}, wal.bytes));
      this.counter('wal_failures_total', 'Request bodies that could not be logged (a full or failing disk); a crash would lose them.', [], (set) =>
        set({}, wal.failures),
      );
    }
    if (replication) {
      const perPeer = (set: Setter, value: (p: ReturnType<ReplicationCounters['peers']>[number]) => number) => {
        for (const p of replication.peers()) set({ peer: p.peer }, value(p));
      };
      this.gauge('replication_peers', 'Other replicas requests are forwarded to.', [], (set) => set({}, replication.peers().length));
      this.counter('replication_forwarded_total', 'Requests forwarded to a peer and stored there.', ['peer'], (set) => perPeer(set, (p) => p.forwarded));
      this.counter(
        'replication_dropped_total',
        'Requests not forwarded to a peer: its queue was full (down or slow), or it refused them.',
        ['peer', 'reason'],
        (set) => {
          for (const p of replication.peers()) {
            set({ peer: p.peer, reason: 'queue_full' }, p.droppedQueueFull);
            set({ peer: p.peer, reason: 'refused' }, p.refused);
          }
        },
      );
      this.gauge('replication_queue_bytes', 'Request bytes waiting to be forwarded to a peer.', ['peer'], (set) => perPeer(set, (p) => p.queuedBytes));
      this.counter('replication_received_total', 'Requests forwarded by peers and stored here.', [], (set) => set({}, replication.receive.received));
      this.counter('replication_received_refused_total', 'Requests forwarded by peers and refused here.', [], (set) => set({}, replication.receive.refused));
      this.counter('replication_gaps_total', "Times a peer skipped requests meant for this replica; the store's coverage restarted.", [], (set) =>
        set({}, replication.receive.gaps),
      );
    }
    if (scaler) {
      const triggers = ['namespace', 'name', 'metric'] as const;
      const each = (set: Setter, value: (t: ReturnType<Scaler['status']['list']>[number]) => number | undefined) => {
        for (const t of scaler.status.list()) {
          const v = value(t);
          if (v !== undefined) set({ namespace: t.namespace, name: t.name, metric: t.metricName }, v);
        }
      };
      this.gauge('scaledobject_value', 'Last value KEDA got for a ScaledObject trigger.', triggers, (set) => each(set, (t) => t.lastValue));
      this.gauge('scaledobject_active', 'Whether the trigger was active at its last evaluation (1) or not (0).', triggers, (set) =>
        each(set, (t) => (t.active === undefined ? undefined : Number(t.active))),
      );
      this.gauge('scaledobject_error', 'Whether the last evaluation of the trigger failed (1) or not (0).', triggers, (set) =>
        each(set, (t) => Number(t.lastError !== undefined)),
      );
      this.counter('scaler_evaluations_total', 'Trigger queries evaluated for KEDA.', [], (set) => set({}, scaler.evaluations.count));
      this.counter('scaler_answers_reused_total', 'KEDA calls answered from an evaluation made earlier (younger than --answer-max-age).', [], (set) =>
        set({}, scaler.reusedAnswers),
      );
      this.counter('scaler_evaluation_seconds_total', 'Time spent evaluating trigger queries.', [], (set) => set({}, scaler.evaluations.totalMs / 1000));
      this.gauge('scaler_evaluation_max_seconds', 'Longest single trigger evaluation since start.', [], (set) => set({}, scaler.evaluations.maxMs / 1000));
      this.gauge('scaledobject_last_call_timestamp_seconds', 'When KEDA last caused an evaluation of the trigger.', triggers, (set) =>
        each(set, (t) => t.lastCall / 1000),
      );
    }
  }

  private gauge(name: string, help: string, labelNames: readonly string[], read: (set: Setter) => void): void {
    new Gauge(this.readOnScrape(name, help, labelNames, read, (gauge: Gauge, labels, value) => gauge.set(labels, value)));
  }

  /** A counter whose total lives elsewhere: set to that total on each scrape. */
  private counter(name: string, help: string, labelNames: readonly string[], read: (set: Setter) => void): void {
    new Counter(this.readOnScrape(name, help, labelNames, read, (counter: Counter, labels, value) => counter.inc(labels, value)));
  }

  /** A metric's configuration whose collect() empties it and has `read` fill it again, through `write`. */
  private readOnScrape<M extends Gauge | Counter>(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: (set: Setter) => void,
    write: (metric: M, labels: Record<string, string>, value: number) => void,
  ) {
    return {
      name: PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: M) {
        this.reset();
        read((labels, value) => write(this, labels, value));
      },
    };
  }
}
