import type { FastifyInstance } from 'fastify';

/** Liveness answers while the process runs; readiness only once every listener is up and until shutdown starts. */
export function healthRoutes(app: FastifyInstance, isReady: () => boolean): void {
  app.get('/healthz', async () => 'ok\n');
  app.get('/readyz', async (_req, reply) => {
    if (isReady()) return 'ready\n';
    return reply.code(503).send('not ready\n');
  });
}
