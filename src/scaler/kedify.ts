import { badMetadata } from './errors.js';

/**
 * Compatibility with ScaledObjects written for Kedify's otel-add-on. Its `metricQuery` is
 * `agg(name{k=v, k2="v2"})` — an optional sum/avg/min/max/count across series (sum when absent)
 * around a metric name with equality matchers whose values may be bare or quoted — and
 * `operationOverTime` says what each series contributes over the add-on's stored window. Both
 * are rewritten to the PromQL they mean, so one engine answers every trigger.
 */
export const KEDIFY_OPERATIONS = ['last_one', 'rate', 'count', 'avg', 'min', 'max'] as const;
export type KedifyOperation = (typeof KEDIFY_OPERATIONS)[number];

const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count'] as const;

/**
 * The add-on keeps two minutes of samples per series by default (its metric store retention),
 * so its operations over time look at that window.
 */
export const KEDIFY_WINDOW = '2m';

const OVER_TIME: Record<KedifyOperation, string> = {
  last_one: 'last_over_time',
  rate: 'rate',
  count: 'count_over_time',
  avg: 'avg_over_time',
  min: 'min_over_time',
  max: 'max_over_time',
};

interface KedifyMatcher {
  name: string;
  value: string;
  /** Written in quotes, as PromQL would have it. */
  quoted: boolean;
}

interface KedifyQuery {
  aggregation: (typeof AGGREGATIONS)[number];
  name: string;
  labels: KedifyMatcher[];
}

function isNameChar(c: string, first: boolean, extra: string): boolean {
  const letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
  if (first) return letter || (c === ':' && extra.includes(':'));
  return letter || (c >= '0' && c <= '9') || extra.includes(c);
}

/** A name as the add-on accepts it: letters, digits and `extra`, not starting with a digit. */
function isName(text: string, extra: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) if (!isNameChar(text[i]!, i === 0, extra)) return false;
  return true;
}

/** OTel names may carry dots and slashes; Prometheus-style escaping makes them the names our series have. */
function escapeName(name: string): string {
  let out = '';
  for (const c of name) out += isNameChar(c, false, ':') ? c : '_';
  return out[0]! >= '0' && out[0]! <= '9' ? `_${out}` : out;
}

function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A matcher's side as the add-on reads it: bare, or inside one pair of double or single quotes. */
function unquote(text: string): { text: string; quoted: boolean } {
  const q = text[0];
  if (text.length >= 2 && (q === '"' || q === "'") && text[text.length - 1] === q) return { text: text.slice(1, -1), quoted: true };
  return { text, quoted: false };
}

/** Parses the add-on's query form; undefined when the text is not in that form. */
export function parseKedifyQuery(text: string): KedifyQuery | undefined {
  let rest = text.trim();
  let aggregation: KedifyQuery['aggregation'] = 'sum';
  for (const agg of AGGREGATIONS) {
    if (rest.startsWith(`${agg}(`) && rest.endsWith(')')) {
      aggregation = agg;
      rest = rest.slice(agg.length + 1, -1).trim();
      break;
    }
  }
  const open = rest.indexOf('{');
  const name = (open === -1 ? rest : rest.slice(0, open)).trim();
  if (!isName(name, ':.-/')) return undefined;
  const labels: KedifyMatcher[] = [];
  if (open !== -1) {
    if (!rest.endsWith('}')) return undefined;
    const body = rest.slice(open + 1, -1).trim();
    if (body === '') return undefined;
    for (const pair of body.split(',')) {
      const parts = pair.split('=');
      if (parts.length !== 2) return undefined;
      const key = unquote(parts[0]!.trim()).text;
      const { text: value, quoted } = unquote(parts[1]!.trim());
      // `!=` and `=~` leave a `!` on the key or a `~` on the value: PromQL, not the add-on's form.
      if (!isName(key, '.-') || value.startsWith('~') || [...'"\'`'].some((q) => value.includes(q))) return undefined;
      labels.push({ name: escapeName(key), value, quoted });
    }
  }
  return { aggregation, name: escapeName(name), labels };
}

/** True for text that only the add-on's form accepts: a matcher with an unquoted value. */
export function isKedifyOnlyQuery(text: string): boolean {
  const parsed = parseKedifyQuery(text);
  return parsed !== undefined && parsed.labels.some((l) => !l.quoted && l.value !== '');
}

/**
 * The PromQL a Kedify trigger means, e.g. `avg(x{a=b})` with `rate` → `avg(rate(x{a="b"}[2m]))`.
 * The add-on's `count` counts the series with a sample in its window whatever the operation, so
 * it becomes `count(last_over_time(...))`.
 */
export function rewriteKedifyQuery(text: string, operation: KedifyOperation, key: string): string {
  const parsed = parseKedifyQuery(text);
  if (!parsed) {
    throw badMetadata(
      key,
      `with operationOverTime the query must have the form agg(metric{label=value, ...}) (agg one of ${AGGREGATIONS.join(', ')}; values bare or quoted), got ${JSON.stringify(text)}`,
    );
  }
  const matchers = parsed.labels.map((l) => `${l.name}=${quote(l.value)}`).join(', ');
  const selector = `${parsed.name}${matchers ? `{${matchers}}` : ''}[${KEDIFY_WINDOW}]`;
  const overTime = parsed.aggregation === 'count' ? OVER_TIME.last_one : OVER_TIME[operation];
  return `${parsed.aggregation}(${overTime}(${selector}))`;
}
