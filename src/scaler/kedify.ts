import { badMetadata } from './errors.js';

/**
 * Compatibility with ScaledObjects written for Kedify's otel-add-on. Its `metricQuery` is
 * `agg(name{k=v, k2=v2})` — an optional sum/avg/min/max across series (sum when absent) around
 * a metric name with equality matchers whose values are unquoted — and `operationOverTime`
 * says what each series contributes over the add-on's stored window. Both are rewritten to the
 * PromQL they mean, so one engine answers every trigger.
 */
export const KEDIFY_OPERATIONS = ['last_one', 'rate', 'count', 'avg', 'min', 'max'] as const;
export type KedifyOperation = (typeof KEDIFY_OPERATIONS)[number];

const AGGREGATIONS = ['sum', 'avg', 'min', 'max'] as const;

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

interface KedifyQuery {
  aggregation: (typeof AGGREGATIONS)[number];
  name: string;
  labels: [string, string][];
}

/** OTel names may carry dots; Prometheus-style escaping makes them the names our series have. */
function escapeName(name: string): string {
  const escaped = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(escaped) ? `_${escaped}` : escaped;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
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
  if (!/^[a-zA-Z_:][a-zA-Z0-9_.:-]*$/.test(name)) return undefined;
  const labels: [string, string][] = [];
  if (open !== -1) {
    if (!rest.endsWith('}')) return undefined;
    const body = rest.slice(open + 1, -1).trim();
    if (body === '') return undefined;
    for (const pair of body.split(',')) {
      const parts = pair.split('=');
      if (parts.length !== 2) return undefined;
      const key = parts[0]!.trim();
      const value = parts[1]!.trim();
      if (!/^[a-zA-Z_][a-zA-Z0-9_.-]*$/.test(key) || /["'`~!]/.test(value)) return undefined;
      labels.push([escapeName(key), value]);
    }
  }
  return { aggregation, name: escapeName(name), labels };
}

/** True for text that only the add-on's form accepts: a matcher with an unquoted value. */
export function isKedifyOnlyQuery(text: string): boolean {
  const parsed = parseKedifyQuery(text);
  return parsed !== undefined && parsed.labels.some(([, v]) => v !== '') && /\{[^}]*=\s*[^\s"'][^}]*\}/.test(text);
}

/** The PromQL a Kedify trigger means, e.g. `avg(x{a=b})` with `rate` → `avg(rate(x{a="b"}[2m]))`. */
export function rewriteKedifyQuery(text: string, operation: KedifyOperation, key: string): string {
  const parsed = parseKedifyQuery(text);
  if (!parsed) {
    throw badMetadata(key, `with operationOverTime the query must have the form agg(metric{label=value, ...}) (agg one of ${AGGREGATIONS.join(', ')}), got ${JSON.stringify(text)}`);
  }
  const matchers = parsed.labels.map(([k, v]) => `${k}=${quote(v)}`).join(', ');
  const selector = `${parsed.name}${matchers ? `{${matchers}}` : ''}[${KEDIFY_WINDOW}]`;
  return `${parsed.aggregation}(${OVER_TIME[operation]}(${selector}))`;
}
