import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Engine } from '../promql/engine.js';
import { badData } from './errors.js';
import { formatQueryData } from './format.js';
import { parseTimeParam } from './params.js';

type Params = Record<string, string | undefined>;

/** GET query string and POST form body both carry the parameters, as in Prometheus. */
export function paramsOf(req: FastifyRequest): Params {
  const out: Params = {};
  for (const source of [req.query, req.body]) {
    if (source === null || typeof source !== 'object') continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? String(v[v.length - 1]) : v === undefined ? undefined : String(v);
    }
  }
  return out;
}

export function queryRoutes(app: FastifyInstance, engine: Engine): void {
  const instant = async (req: FastifyRequest) => {
    const p = paramsOf(req);
    if (!p.query) throw badData('invalid parameter "query": query must not be empty');
    const time = parseTimeParam('time', p.time, Date.now());
    const { value, warnings, infos } = engine.instant(p.query, time);
    return { status: 'success', data: formatQueryData(value), ...(warnings.length ? { warnings } : {}), ...(infos.length ? { infos } : {}) };
  };
  app.get('/api/v1/query', instant);
  app.post('/api/v1/query', instant);
}
