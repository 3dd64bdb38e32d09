import formbody from '@fastify/formbody';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../promql/eval/engine.js';
import type { Scaler } from '../scaler/scaler.js';
import type { Tsdb } from '../tsdb/db.js';
import { emptyEndpointRoutes } from './empty-endpoints.js';
import { UserError } from '../common/errors.js';
import { apiErrorReply } from './errors.js';
import { healthRoutes } from './health.js';
import { metadataRoutes } from './metadata.js';
import { parseRoutes } from './parse.js';
import { queryRoutes } from './query.js';
import { scalerStatusRoutes } from './scaler-status.js';
import {
  SelfMetrics,
  type ReceiverCounters,
  type RemoteWriteCounters,
  type ReplicationCounters,
  type SnapshotCounters,
  type WalCounters,
} from './self-metrics.js';
import { seriesRoutes } from './series.js';
import { statusRoutes } from './status-endpoints.js';
import { webRoutes } from './web.js';

export interface ApiDeps {
  engine: Engine;
  tsdb: Tsdb;
  log: Logger;
  isReady: () => boolean;
  /** The triggers KEDA asked about, for the web page and /metrics. */
  scaler?: Scaler;
  /** The OTLP receivers' counters, for /metrics. */
  otlpStats?: ReceiverCounters;
  /** The remote-write receiver (`POST /api/v1/write`): its handler and counters; absent when turned off. */
  remoteWrite?: { stats: RemoteWriteCounters; handle(req: IncomingMessage, res: ServerResponse): void };
  /** The data dir's snapshot counters, for /metrics. */
  snapshotStats?: SnapshotCounters;
  /** The write-ahead log's counters, for /metrics. */
  walStats?: WalCounters;
  /** Pass one to count scaler RPCs into the same registry (ExternalScalerService's onCall). */
  selfMetrics?: SelfMetrics;
  /** Replication's counters, for /metrics, and its routes (join, snapshot) under /api/v1/replicate/. */
  replication?: { stats: ReplicationCounters; routes(app: FastifyInstance): void };
}

const API_PREFIX = '/api/v1/';

/**
 * The HTTP API on its own port: Prometheus-compatible /api/v1, our own /api/v1/scaler/*, the
 * web page, /metrics, health and readiness.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(formbody);
  app.setErrorHandler((e: FastifyError, _req, reply) => {
    // Fastify's own 4xx (unparsable body, unsupported content type) are the client's fault too.
    const fastifyStatus = e.statusCode;
    if (fastifyStatus !== undefined && fastifyStatus < 500) {
      return reply.code(fastifyStatus).send({ status: 'error', errorType: 'bad_data', error: e.message });
    }
    const { status, body } = apiErrorReply(e);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path.startsWith(API_PREFIX)) {
      const { status, body } = apiErrorReply(new UserError('NOT_FOUND', `no API endpoint ${req.method} ${path}`));
      return reply.code(status).send(body);
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });

  const metrics = deps.selfMetrics ?? new SelfMetrics();
  metrics.watch({
    tsdb: deps.tsdb,
    otlp: deps.otlpStats,
    remoteWrite: deps.remoteWrite?.stats,
    scaler: deps.scaler,
    snapshots: deps.snapshotStats,
    wal: deps.walStats,
    replication: deps.replication?.stats,
  });
  app.addHook('onResponse', async (req, reply) => {
    const endpoint = req.routeOptions.url;
    if (endpoint !== undefined && endpoint.startsWith(API_PREFIX)) metrics.observeRequest(endpoint, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));

  const remoteWrite = deps.remoteWrite;
  if (remoteWrite) {
    // The receiver reads the raw snappy body itself, under its own limits: in a scope of its own,
    // every content type passes fastify's body parsing untouched, and the reply is the receiver's.
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
      scope.post('/api/v1/write', (req, reply) => {
        reply.hijack();
        remoteWrite.handle(req.raw, reply.raw);
      });
    });
  }
  deps.replication?.routes(app);
  healthRoutes(app, deps.isReady);
  queryRoutes(app, deps.engine);
  seriesRoutes(app, deps.tsdb);
  metadataRoutes(app, deps.tsdb);
  parseRoutes(app);
  statusRoutes(app, deps.tsdb);
  emptyEndpointRoutes(app);
  scalerStatusRoutes(app, deps.tsdb, deps.scaler);
  webRoutes(app);
  return app;
}
