import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../promql/eval/engine.js';
import { PromQLError } from '../promql/errors.js';
import { parseQuery } from '../promql/parser/parse.js';
import type { QueryResult, QueryValue } from '../promql/value.js';
import { badData } from './errors.js';
import { queryDataJson } from './query-json.js';
import { durationParam, invalidParam, limitParam, parseDuration, requiredTimeParam, timeParam } from './params.js';
import { Form } from './request.js';
import { sendSlicedJson } from './sliced-json.js';

/** Prometheus's cap on the points of one series in a range query. */
const MAX_POINTS_PER_SERIES = 11_000;

/**
 * Query validation errors (syntax, types) name the parameter, as Prometheus's do; evaluation
 * errors (timeout, too many samples, many-to-many) keep their own type.
 */
async function evaluate(run: () => Promise<QueryResult>): Promise<QueryResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof PromQLError && e.code === 'BAD_DATA') throw invalidParam('query', e.message);
    throw e;
  }
}

/** `timeout` and `lookback_delta` are checked like Prometheus does, though the engine's own settings apply. */
function checkQueryOptions(form: Form): void {
  const timeout = form.get('timeout');
  if (timeout) durationParam('timeout', timeout);
  const lookback = form.get('lookback_delta');
  if (lookback) {
    try {
      parseDuration(lookback);
    } catch (e) {
      throw badData(`error parsing lookback delta duration: ${(e as Error).message}`);
    }
  }
}

function truncate(value: QueryValue, limit: number): { value: QueryValue; truncated: boolean } {
  if (limit > 0 && value.type === 'vector' && value.samples.length > limit) {
    return { value: { type: 'vector', samples: value.samples.slice(0, limit) }, truncated: true };
  }
  if (limit > 0 && value.type === 'matrix' && value.series.length > limit) {
    return { value: { type: 'matrix', series: value.series.slice(0, limit) }, truncated: true };
  }
  return { value, truncated: false };
}

/** The answer's JSON in pieces: Prometheus's envelope around the (limited) result. */
function* answerJson(result: QueryResult, limit: number): Generator<string> {
  const { value, truncated } = truncate(result.value, limit);
  const warnings = truncated ? [...result.warnings, 'results truncated due to limit'] : result.warnings;
  yield '{"status":"success","data":';
  yield* queryDataJson(value);
  if (warnings.length) yield `,"warnings":${JSON.stringify(warnings)}`;
  if (result.infos.length) yield `,"infos":${JSON.stringify(result.infos)}`;
  yield '}';
}

/**
 * `/api/v1/query` and `/api/v1/query_range`, GET or form-encoded POST. They share one lane: at
 * most the engine's concurrency evaluate at once, the rest wait their turn within the timeout.
 */
export function queryRoutes(app: FastifyInstance, engine: Engine): void {
  const lane = engine.newLane();
  const instant = async (req: FastifyRequest, reply: FastifyReply) => {
    const form = new Form(req);
    const limit = limitParam(form.get('limit'));
    const time = timeParam('time', form.get('time'), Date.now());
    checkQueryOptions(form);
    const query = form.get('query') ?? '';
    return sendSlicedJson(reply, answerJson(await evaluate(() => engine.instantAsync(lane, parseQuery(query), time)), limit));
  };

  const range = async (req: FastifyRequest, reply: FastifyReply) => {
    const form = new Form(req);
    const limit = limitParam(form.get('limit'));
    const start = requiredTimeParam('start', form.get('start'));
    const end = requiredTimeParam('end', form.get('end'));
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    const step = durationParam('step', form.get('step'));
    if (step <= 0) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (Math.floor((end - start) / step) > MAX_POINTS_PER_SERIES) {
      throw badData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    checkQueryOptions(form);
    const query = form.get('query') ?? '';
    return sendSlicedJson(reply, answerJson(await evaluate(() => engine.rangeAsync(lane, parseQuery(query), start, end, step)), limit));
  };

  for (const [path, handler] of [
    ['/api/v1/query', instant],
    ['/api/v1/query_range', range],
  ] as const) {
    app.get(path, handler);
    app.post(path, handler);
  }
}
