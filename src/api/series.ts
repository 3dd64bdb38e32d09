import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseMetricSelector } from '../promql/parser.js';
import type { Tsdb } from '../tsdb/db.js';
import { labelsCompare, labelsGet, labelsToRecord } from '../tsdb/labels.js';
import type { Matcher } from '../tsdb/matcher.js';
import type { Series } from '../tsdb/series.js';
import { badData } from './errors.js';
import { invalidParam, limitParam, MAX_TIME_MS, MIN_TIME_MS, timeParam } from './params.js';
import { Form } from './request.js';
import { jsonArray, sendSlicedJson } from './sliced-json.js';

const TRUNCATED = 'results truncated due to limit';

/** The `match[]` selectors; each must hold a matcher that does not match the empty string, as Prometheus requires. */
function matcherSets(selectors: string[]): Matcher[][] {
  const sets = selectors.map((s) => parseMetricSelector(s));
  for (const set of sets) {
    if (!set.some((m) => !m.matchesEmpty())) throw new Error('match[] must contain at least one non-empty matcher');
  }
  return sets;
}

function hasSampleIn(s: Series, startMs: number, endMs: number): boolean {
  return s.lowerBound(startMs) < s.upperBound(endMs);
}

/** Series matching any of the sets (every series when there are none) with a sample in [start, end]. */
function selectSeries(tsdb: Tsdb, sets: Matcher[][], startMs: number, endMs: number): Series[] {
  const unbounded = startMs <= MIN_TIME_MS && endMs >= MAX_TIME_MS;
  const keep = (s: Series) => unbounded || hasSampleIn(s, startMs, endMs);
  if (sets.length === 0) return [...tsdb.allSeries()].filter(keep);
  const found = new Map<number, Series>();
  for (const set of sets) {
    for (const s of tsdb.select(set)) if (!found.has(s.id) && keep(s)) found.set(s.id, s);
  }
  return [...found.values()];
}

interface RangeAndMatchers {
  limit: number;
  start: number;
  end: number;
  sets: Matcher[][];
}

/** The parameters /labels and /label/<name>/values share; a bad selector is plain bad_data there. */
function labelQuery(form: Form): RangeAndMatchers {
  const limit = limitParam(form.get('limit'));
  const start = timeParam('start', form.get('start'), MIN_TIME_MS);
  const end = timeParam('end', form.get('end'), MAX_TIME_MS);
  let sets: Matcher[][];
  try {
    sets = matcherSets(form.all('match[]'));
  } catch (e) {
    throw badData((e as Error).message);
  }
  return { limit, start, end, sets };
}

function limited(values: string[], limit: number) {
  if (limit > 0 && values.length > limit) return { status: 'success', data: values.slice(0, limit), warnings: [TRUNCATED] };
  return { status: 'success', data: values };
}

/**
 * Undoes the `U__` escaping Grafana and Prometheus use for label names that are not plain
 * identifiers in a URL path: `__` is `_`, and `_<hex>_` is that code point.
 */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  let out = '';
  const body = name.slice(3);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (body[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const close = body.indexOf('_', i + 1);
    const hex = close === -1 ? '' : body.slice(i + 1, close);
    if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) return name;
    out += String.fromCodePoint(Number.parseInt(hex, 16));
    i = close;
  }
  return out;
}

/** The answer of `/api/v1/series` in pieces, one a series. */
function* seriesJson(found: readonly Series[], truncated: boolean): Generator<string> {
  yield '{"status":"success","data":';
  yield* jsonArray(found, (s) => JSON.stringify(labelsToRecord(s.labels)));
  if (truncated) yield `,"warnings":${JSON.stringify([TRUNCATED])}`;
  yield '}';
}

/** `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`. */
export function seriesRoutes(app: FastifyInstance, tsdb: Tsdb): void {
  const series = async (req: FastifyRequest, reply: FastifyReply) => {
    const form = new Form(req);
    const selectors = form.all('match[]');
    if (selectors.length === 0) throw badData('no match[] parameter provided');
    const limit = limitParam(form.get('limit'));
    const start = timeParam('start', form.get('start'), MIN_TIME_MS);
    const end = timeParam('end', form.get('end'), MAX_TIME_MS);
    let sets: Matcher[][];
    try {
      sets = matcherSets(selectors);
    } catch (e) {
      throw invalidParam('match[]', (e as Error).message);
    }
    const found = selectSeries(tsdb, sets, start, end).sort((a, b) => labelsCompare(a.labels, b.labels));
    const truncated = limit > 0 && found.length > limit;
    return sendSlicedJson(reply, seriesJson(truncated ? found.slice(0, limit) : found, truncated));
  };

  const labels = async (req: FastifyRequest) => {
    const { limit, start, end, sets } = labelQuery(new Form(req));
    const names = new Set<string>();
    for (const s of selectSeries(tsdb, sets, start, end)) {
      for (let i = 0; i < s.labels.length; i += 2) names.add(s.labels[i]!);
    }
    return limited([...names].sort(), limit);
  };

  const labelValues = async (req: FastifyRequest<{ Params: { name: string } }>) => {
    const name = unescapeLabelName(req.params.name);
    if (name === '') throw badData(`invalid label name: ${JSON.stringify(name)}`);
    const { limit, start, end, sets } = labelQuery(new Form(req));
    const values = new Set<string>();
    for (const s of selectSeries(tsdb, sets, start, end)) {
      // A series' labels hold its real name only, so alias names (selectable, not stored) are not listed.
      const value = labelsGet(s.labels, name);
      if (value !== '') values.add(value);
    }
    return limited([...values].sort(), limit);
  };

  app.get('/api/v1/series', series);
  app.post('/api/v1/series', series);
  app.get('/api/v1/labels', labels);
  app.post('/api/v1/labels', labels);
  app.get('/api/v1/label/:name/values', labelValues);
}
