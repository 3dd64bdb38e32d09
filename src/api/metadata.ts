import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tsdb } from '../tsdb/db.js';
import { badData } from './errors.js';
import { Form } from './request.js';

/** Prometheus parses these with strconv.Atoi and a message of its own. */
function count(form: Form, name: string): number {
  const text = form.get(name);
  if (text === undefined || text === '') return -1;
  if (!/^[+-]?\d+$/.test(text)) throw badData(`${name} must be a number`);
  return Number(text);
}

/**
 * `/api/v1/metadata`: type, unit and help of each metric family, from the OTLP metric
 * descriptions. One entry per metric, since one process has one description of each.
 */
export function metadataRoutes(app: FastifyInstance, tsdb: Tsdb): void {
  app.get('/api/v1/metadata', async (req: FastifyRequest) => {
    const form = new Form(req);
    const limit = count(form, 'limit');
    // Each metric has one entry, which any per-metric limit (0 meaning none) keeps.
    count(form, 'limit_per_metric');
    const metric = form.get('metric') || undefined;
    const data: Record<string, { type: string; help: string; unit: string }[]> = {};
    let n = 0;
    for (const [name, meta] of [...tsdb.metadata(metric)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (limit >= 0 && n >= limit) break;
      data[name] = [{ type: meta.type, help: meta.help, unit: meta.unit }];
      n++;
    }
    return { status: 'success', data };
  });
}
