import { ERRORS } from '../common/errors.js';
import { Server as GrpcServer, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { buildApi } from '../api/http-api.js';
import { SelfMetrics } from '../api/self-metrics.js';
import type { Config } from '../config.js';
import { Engine } from '../promql/eval/engine.js';
import { Scaler } from '../scaler/scaler.js';
import { EXTERNAL_SCALER_SERVICE, ExternalScalerService, externalScalerDefinition } from '../scaler/service.js';
import { Tsdb } from '../tsdb/db.js';
import { OtlpReceiver } from '../otlp/receiver.js';
import { otlpGrpcLimits } from '../otlp/transport/grpc-limits.js';
import { metricsServiceImplementation } from '../otlp/transport/grpc-service.js';
import { handleOtlpHttp } from '../otlp/transport/http-handler.js';
import { metricsServiceDefinition, OTLP_METRICS_SERVICE } from '../otlp/transport/proto.js';
import { RemoteWriteReceiver } from '../remotewrite/receiver.js';
import { Snapshots } from '../persist/snapshots.js';
import { WriteAheadLog } from '../persist/wal.js';
import type { SnapshotTarget } from '../persist/snapshot-format.js';
import { Replicator } from '../replicate/replicator.js';
import { grpcRequestDeadline } from './grpc-deadline.js';
import { healthDefinition, HealthService } from './grpc-health.js';
import { Listener, MAX_CONNECTIONS_PER_LISTENER, type ListenerLimits } from './listeners.js';
import { refuseMalformed } from './malformed.js';
import { logStoredBodies, replayLog } from './logged-bodies.js';
import { TlsFiles } from './tls.js';

const GC_INTERVAL_MS = 15_000;
/**
 * Streams one HTTP/2 connection may have open at once. KEDA's operator shares one connection
 * among every ScaledObject pointing at this address, each holding a StreamIsActive stream open.
 */
export const MAX_CONCURRENT_STREAMS = 10_000;
/** How often the server pings each gRPC client, and how long it waits for the answer before dropping the connection. */
const KEEPALIVE_MS = 60_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;
/**
 * In-flight calls and requests get this long to finish on shutdown. With main.ts's 2 s drain
 * before it and the final snapshot after it (under a second at 100k series), the whole shutdown
 * stays under 5 s.
 */
const SHUTDOWN_GRACE_MS = 1_500;
/** The shutdown snapshot runs when no listener is left to serve, so it may hold the loop longer at a time. */
const SHUTDOWN_SNAPSHOT_SLICE_MS = 50;

export interface BoundPorts {
  otlpGrpc: number;
  otlpHttp: number;
  http: number;
}

export interface App {
  readonly config: Config;
  readonly tsdb: Tsdb;
  readonly engine: Engine;
  readonly scaler: Scaler;
  readonly scalerService: ExternalScalerService;
  readonly ports: BoundPorts;
  /** The data dir's snapshots, when a data dir is set. */
  readonly snapshots: Snapshots | undefined;
  /**
   * Graceful stop: unready first, then streams ended, in-flight calls answered, listeners closed,
   * then the store snapshotted (with a data dir), so every acknowledged sample is in it.
   * With `drainMs`, everything keeps serving that long after turning unready, so load balancers
   * and Kubernetes endpoints stop sending new work before the listeners go away.
   */
  close(drainMs?: number): Promise<void>;
}

/** Builds every part from the config and starts the three listeners. */
export async function startApp(config: Config, log: Logger): Promise<App> {
  const tsdb = new Tsdb({
    retentionMs: config.retentionMs,
    maxSeries: config.maxSeries,
    maxSamplesPerSeries: config.maxSamplesPerSeries,
    outOfOrderWindowMs: config.outOfOrderWindowMs,
  });
  const engine = new Engine(tsdb, {
    lookbackDeltaMs: config.lookbackDeltaMs,
    timeoutMs: config.queryTimeoutMs,
    maxSamples: config.queryMaxSamples,
    maxConcurrency: config.queryMaxConcurrency,
  });
  const scaler = new Scaler(engine, tsdb, { errIfNotFound: config.errIfNotFound, lazySeries: config.lazySeries, answerMaxAgeMs: config.answerMaxAgeMs });
  const selfMetrics = new SelfMetrics();
  const scalerService = new ExternalScalerService(scaler, tsdb, log.child({ component: 'scaler' }), { onCall: selfMetrics.countScalerCall });
  const otlp = new OtlpReceiver(tsdb, config, log.child({ component: 'otlp' }));
  // While the log is replayed at start no trigger is known yet: lazy mode keeps the names the
  // restored store holds, those it kept before, so their series go on whole through the log.
  let replaying: ReadonlySet<string> | undefined;
  const wantedNames = () => replaying ?? scaler.wantedMetricNames();
  if (config.lazySeries) otlp.setWantedNames(wantedNames);
  const remoteWrite = config.remoteWrite ? new RemoteWriteReceiver(tsdb, config, otlp.budget, log.child({ component: 'remote-write' })) : undefined;
  if (config.lazySeries) remoteWrite?.setWantedNames(wantedNames);
  const snapshotTarget: SnapshotTarget = {
    tsdb,
    deltas: otlp,
    // What makes a series what it is: a snapshot from other values holds other series, and its
    // coverage would vouch for series this process has never stored.
    settings: {
      nameTranslation: config.nameTranslation,
      promoteResourceAttributes: config.promoteResourceAttributes,
      exponentialHistograms: config.exponentialHistograms,
    },
  };
  const receivers = { otlp, remoteWrite };
  const walLog = log.child({ component: 'wal' });
  const wal = config.dataDir !== undefined && config.wal ? new WriteAheadLog(config.dataDir, walLog) : undefined;
  const snapshots =
    config.dataDir === undefined
      ? undefined
      : new Snapshots(
          snapshotTarget,
          { dir: config.dataDir, intervalMs: config.snapshotIntervalMs, retentionMs: config.retentionMs, wal },
          log.child({ component: 'persist' }),
        );
  const replicated = config.peers.length > 0 || config.peersDns !== '';
  // A lone replica restores before any listener accepts a sample. Replicas bind first, so peers
  // can forward to them while they catch up. Either way requests wait until the store is
  // restored and the write-ahead log open, so every body stored is logged.
  const restore = async () => {
    await snapshots?.load();
    if (wal === undefined) return;
    replaying = new Set(tsdb.labelValues('__name__'));
    await replayLog(wal, receivers, tsdb, walLog);
    replaying = undefined;
  };
  if (!replicated) await restore();
  let restored = (): void => undefined;
  const holding = new Promise<void>((resolve) => (restored = resolve));
  void otlp.bodies.hold(holding);
  void remoteWrite?.bodies.hold(holding);
  const health = new HealthService([OTLP_METRICS_SERVICE, EXTERNAL_SCALER_SERVICE]);
  health.setServing(!replicated);
  const tls =
    config.tlsCertFile && config.tlsKeyFile
      ? new TlsFiles({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile }, log)
      : undefined;
  const replicator = replicated
    ? new Replicator({ config, tsdb, otlp, remoteWrite, target: snapshotTarget, tls, log: log.child({ component: 'replicate' }) })
    : undefined;

  const grpc = new GrpcServer({
    // OTLP Export's limit as sent and its share of the in-flight budget; this one bounds every message once inflated.
    // The deadline comes last, so grpc-js runs it outermost and its refusal passes through the budget's release.
    interceptors: [otlpGrpcLimits(otlp, replicator?.boundedMethods()), grpcRequestDeadline(config.requestTimeoutMs)],
    'grpc.max_receive_message_length': config.maxDecompressedBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    // Node's HTTP/2 does not notice a peer that half-closes mid-frame, so only a timer frees it.
    'grpc.max_connection_idle_ms': config.connectionIdleMs,
    // Pings find peers that vanished without closing, including ones holding a stream open.
    'grpc.keepalive_time_ms': KEEPALIVE_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  });
  const services: [ServiceDefinition, UntypedServiceImplementation][] = [
    [metricsServiceDefinition(), metricsServiceImplementation(otlp)],
    [externalScalerDefinition(), scalerService.implementation()],
    [healthDefinition(), health.implementation()],
  ];
  if (replicator) services.push([replicator.grpcDefinition(), replicator.grpcImplementation()]);
  for (const [definition, implementation] of services) grpc.addService(definition, refuseMalformed(implementation));

  let ready = false;
  const api = await buildApi({
    engine,
    tsdb,
    scaler,
    otlpStats: otlp.stats,
    remoteWrite: remoteWrite && { stats: remoteWrite.stats, handle: (req, res) => remoteWrite.handleHttp(req, res) },
    snapshotStats: snapshots?.stats,
    walStats: wal?.stats,
    selfMetrics,
    replication: replicator && { stats: replicator.stats, routes: (app) => replicator.routes(app) },
    log,
    isReady: () => ready,
  });
  await api.ready();
  // TLS is terminated by the listeners, so gRPC gets connections already decrypted.
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const limits: ListenerLimits = {
    maxConnections: MAX_CONNECTIONS_PER_LISTENER,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headerTimeoutMs: config.headerTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    idleTimeoutMs: config.connectionIdleMs,
  };
  const listeners = {
    otlpGrpc: new Listener('otlp-grpc', { grpc: injector }, log, { limits, tls }),
    otlpHttp: new Listener(
      'otlp-http',
      {
        grpc: injector,
        http: (req, res) => (remoteWrite && RemoteWriteReceiver.owns(req) ? remoteWrite.handleHttp(req, res) : handleOtlpHttp(req, res, otlp)),
        // Refusals as the OTLP spec's JSON google.rpc.Status, code INVALID_ARGUMENT.
        refusalBody: (message) => JSON.stringify({ code: ERRORS.BAD_DATA.grpc, message }),
      },
      log,
      { limits, tls },
    ),
    http: new Listener(
      'http',
      { http: (req, res) => api.routing(req, res), refusalBody: (error) => JSON.stringify({ status: 'error', errorType: ERRORS.BAD_DATA.errorType, error }) },
      log,
      { limits, tls },
    ),
  };
  const host = config.listenAddress;
  const ports: BoundPorts = {
    otlpGrpc: await listeners.otlpGrpc.listen(host, config.otlpGrpcPort),
    otlpHttp: await listeners.otlpHttp.listen(host, config.otlpHttpPort),
    http: await listeners.http.listen(host, config.httpPort),
  };
  tsdb.coverage.startLive(tsdb.options.now());
  if (replicator) {
    // Forwarded requests are taken (and held) from here on; the store is restored from a peer, or
    // from the data dir when no peer has the window, and then the held requests are stored.
    const fromPeer = await replicator.catchUp({ grpcPort: ports.otlpGrpc, httpPort: ports.http });
    if (fromPeer === undefined) await restore();
  }
  if (wal) logStoredBodies(wal, receivers, tsdb.coverage.liveSinceMs);
  restored();
  await Promise.all([otlp.bodies.hold(Promise.resolve()), remoteWrite?.bodies.hold(Promise.resolve())]);
  health.setServing(true);

  const gcTimer = setInterval(() => {
    const freed = tsdb.gc();
    if (freed > 0) log.debug({ freed, series: tsdb.seriesCount }, 'retention freed series');
  }, GC_INTERVAL_MS);
  gcTimer.unref();
  snapshots?.start();
  ready = true;
  log.info({ ports }, 'keda-otlp-scaler listening');

  let closing: Promise<void> | undefined;
  const close = (drainMs = 0) => {
    closing ??= (async () => {
      ready = false;
      health.setServing(false);
      for (const listener of Object.values(listeners)) listener.beginShutdown();
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      clearInterval(gcTimer);
      scalerService.close();
      scaler.close();
      health.close();
      await Promise.all([
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            grpc.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          grpc.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        }),
        ...Object.values(listeners).map((l) => l.close(SHUTDOWN_GRACE_MS)),
      ]);
      await replicator?.close(SHUTDOWN_GRACE_MS);
      await otlp.close();
      await snapshots?.close(SHUTDOWN_SNAPSHOT_SLICE_MS);
      wal?.close();
      await api.close();
      tls?.close();
    })();
    return closing;
  };
  return { config, tsdb, engine, scaler, scalerService, ports, snapshots, close };
}
