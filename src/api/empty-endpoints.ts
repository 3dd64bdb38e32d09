import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseExpr } from '../promql/parser/parse.js';
import { badData } from './errors.js';
import { MAX_TIME_MS, MIN_TIME_MS, timeParam } from './params.js';
import { Form } from './request.js';

/**
 * Endpoints Grafana's Prometheus data source calls that this server has nothing for: no
 * exemplars, rules or alerts. They answer empty successes, so Grafana does not show errors.
 */
export function emptyEndpointRoutes(app: FastifyInstance): void {
  const exemplars = async (req: FastifyRequest) => {
    const form = new Form(req);
    const start = timeParam('start', form.get('start'), MIN_TIME_MS);
    const end = timeParam('end', form.get('end'), MAX_TIME_MS);
    if (end < start) throw badData('end timestamp must not be before start timestamp');
    try {
      parseExpr(form.get('query') ?? '');
    } catch (e) {
      throw badData((e as Error).message);
    }
    return { status: 'success', data: [] };
  };
  app.get('/api/v1/query_exemplars', exemplars);
  app.post('/api/v1/query_exemplars', exemplars);
  app.get('/api/v1/rules', async () => ({ status: 'success', data: { groups: [] } }));
  app.get('/api/v1/alerts', async () => ({ status: 'success', data: { alerts: [] } }));
}
