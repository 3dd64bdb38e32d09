import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Expr } from '../promql/ast.js';
import { parseExpr } from '../promql/parser/parse.js';
import { astToJson } from './ast-json.js';
import { invalidParam } from './params.js';
import { prettyExpr } from './pretty.js';
import { Form } from './request.js';

function parsed(req: FastifyRequest): { expr: Expr; text: string } {
  const text = new Form(req).get('query') ?? '';
  try {
    return { expr: parseExpr(text), text };
  } catch (e) {
    throw invalidParam('query', (e as Error).message);
  }
}

/** `/api/v1/format_query` (the query prettified) and `/api/v1/parse_query` (its syntax tree). */
export function parseRoutes(app: FastifyInstance): void {
  const format = async (req: FastifyRequest) => ({ status: 'success', data: prettyExpr(parsed(req).expr) });
  const parse = async (req: FastifyRequest) => {
    const { expr, text } = parsed(req);
    return { status: 'success', data: astToJson(expr, text) };
  };
  app.get('/api/v1/format_query', format);
  app.post('/api/v1/format_query', format);
  app.get('/api/v1/parse_query', parse);
  app.post('/api/v1/parse_query', parse);
}
