import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../promql/engine.js';
import { toApiError } from './errors.js';
import { healthRoutes } from './health.js';
import { queryRoutes } from './query.js';

export interface ApiDeps {
  engine: Engine;
  log: Logger;
  isReady: () => boolean;
}

/** The HTTP API on its own port: Prometheus-compatible /api/v1, health and readiness. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    disableRequestLogging: true,
  });
  await app.register(formbody);
  app.setErrorHandler((e: FastifyError, _req, reply) => {
    // Fastify's own 4xx (unparsable body, unsupported content type) are the client's fault too.
    const fastifyStatus = e.statusCode;
    if (fastifyStatus !== undefined && fastifyStatus < 500) {
      return reply.code(fastifyStatus).send({ status: 'error', errorType: 'bad_data', error: e.message });
    }
    const err = toApiError(e);
    return reply.code(err.httpStatus).send({ status: 'error', errorType: err.type, error: err.message });
  });
  healthRoutes(app, deps.isReady);
  queryRoutes(app, deps.engine);
  return app;
}
