import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Liveness answers while the process runs; readiness only once every listener is up and until
 * shutdown starts. Prometheus's own paths (`/-/healthy`, `/-/ready`) answer the same, for tools
 * that probe a Prometheus server.
 */
export function healthRoutes(app: FastifyInstance, isReady: () => boolean): void {
  const healthy = async () => 'ok\n';
  const ready = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (isReady()) return 'ready\n';
    return reply.code(503).send('not ready\n');
  };
  app.get('/healthz', healthy);
  app.get('/-/healthy', healthy);
  app.get('/readyz', ready);
  app.get('/-/ready', ready);
}
