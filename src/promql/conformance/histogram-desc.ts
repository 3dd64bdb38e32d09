import { COUNTER_RESET_HINTS, FloatHistogram, type CounterResetHint } from '../../tsdb/float-histogram.js';
import { parseNumber, SeriesDescError } from './desc-number.js';

/** A native histogram of a series description; `hintGiven` says whether its counter reset hint was written (only then is it compared). */
export interface HistogramDesc {
  h: FloatHistogram;
  hintGiven: boolean;
}

/** The `key:value` items between `{{` and `}}`; a value in brackets is kept whole. */
function fieldsOf(body: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-z_]+):\s*(\[[^\]]*\]|\S+)/g;
  let rest = body;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    if (out.has(m[1]!)) throw new SeriesDescError(`duplicate histogram field ${m[1]} in {{${body}}}`);
    out.set(m[1]!, m[2]!);
    rest = rest.replace(m[0], '');
  }
  if (rest.trim() !== '') throw new SeriesDescError(`cannot read ${JSON.stringify(rest.trim())} in histogram {{${body}}}`);
  return out;
}

function num(fields: Map<string, string>, key: string, body: string): number {
  const text = fields.get(key);
  if (text === undefined) return 0;
  const n = parseNumber(text);
  if (n === undefined) throw new SeriesDescError(`invalid ${key} ${JSON.stringify(text)} in histogram {{${body}}}`);
  return n;
}

function list(fields: Map<string, string>, key: string, body: string): number[] {
  const text = fields.get(key);
  if (text === undefined) return [];
  if (!text.startsWith('[')) throw new SeriesDescError(`${key} must be a list in histogram {{${body}}}`);
  return text
    .slice(1, -1)
    .split(/\s+/)
    .filter((x) => x !== '')
    .map((x) => {
      const n = parseNumber(x);
      if (n === undefined) throw new SeriesDescError(`invalid ${key} entry ${JSON.stringify(x)} in histogram {{${body}}}`);
      return n;
    });
}

const KNOWN = new Set([
  'schema',
  'sum',
  'count',
  'z_bucket',
  'z_bucket_w',
  'buckets',
  'offset',
  'n_buckets',
  'n_offset',
  'counter_reset_hint',
  'custom_values',
]);

/** Reads the inside of `{{...}}`: every field optional, counts absolute, offsets the index of the first bucket. */
export function parseHistogramBody(body: string): HistogramDesc {
  const fields = fieldsOf(body);
  for (const key of fields.keys()) if (!KNOWN.has(key)) throw new SeriesDescError(`unknown histogram field ${key} in {{${body}}}`);
  const hint = fields.get('counter_reset_hint');
  if (hint !== undefined && !COUNTER_RESET_HINTS.includes(hint as CounterResetHint))
    throw new SeriesDescError(`invalid counter_reset_hint ${hint} in {{${body}}}`);
  const pos = list(fields, 'buckets', body);
  const neg = list(fields, 'n_buckets', body);
  const h = new FloatHistogram({
    schema: num(fields, 'schema', body),
    sum: num(fields, 'sum', body),
    count: num(fields, 'count', body),
    zeroCount: num(fields, 'z_bucket', body),
    zeroThreshold: num(fields, 'z_bucket_w', body),
    positiveSpans: pos.length > 0 ? [{ offset: num(fields, 'offset', body), length: pos.length }] : [],
    positiveBuckets: pos,
    negativeSpans: neg.length > 0 ? [{ offset: num(fields, 'n_offset', body), length: neg.length }] : [],
    negativeBuckets: neg,
    customValues: list(fields, 'custom_values', body),
    counterResetHint: (hint as CounterResetHint | undefined) ?? 'unknown',
  });
  return { h, hintGiven: hint !== undefined };
}

/** `{{a}}`, `{{a}}xN` (N+1 copies) or `{{a}}+{{b}}xN` / `{{a}}-{{b}}xN` (N+1 histograms stepping by b). */
export function parseHistogramItem(item: string): HistogramDesc[] {
  const m = /^\{\{(.*?)\}\}(?:([+-])\{\{(.*?)\}\})?(?:x(\d+))?$/.exec(item);
  if (!m) throw new SeriesDescError(`invalid histogram ${JSON.stringify(item)}`);
  const first = parseHistogramBody(m[1]!);
  if (m[4] === undefined) {
    if (m[2] !== undefined) throw new SeriesDescError(`an increment needs a repeat count in ${JSON.stringify(item)}`);
    return [first];
  }
  const step = m[3] === undefined ? undefined : parseHistogramBody(m[3]).h;
  const out: HistogramDesc[] = [first];
  let cur = first.h;
  for (let k = 0; k < Number(m[4]); k++) {
    if (step !== undefined) {
      cur = m[2] === '+' ? cur.add(step) : cur.sub(step);
      cur.counterResetHint = first.h.counterResetHint;
    }
    out.push({ h: step === undefined ? cur.copy() : cur, hintGiven: first.hintGiven });
  }
  return out;
}
