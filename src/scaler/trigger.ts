import { createHash } from 'node:crypto';
import { badMetadata } from './errors.js';
import { isKedifyOnlyQuery, KEDIFY_OPERATIONS, rewriteKedifyQuery, type KedifyOperation } from './kedify.js';

/** What a ScaledObject trigger asks for, validated. */
export interface TriggerSpec {
  /** The PromQL to evaluate (Kedify-style queries already rewritten). */
  query: string;
  targetValue: number;
  activationTargetValue: number;
  clampMin: number | undefined;
  clampMax: number | undefined;
  metricName: string;
  /**
   * What an empty result means: this value, an error (UNAVAILABLE, so KEDA's fallback applies),
   * or undefined to follow the global `--err-if-not-found` setting.
   */
  ifNotFound: number | 'error' | undefined;
}

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

/** Each setting under its name and the name other scalers use for it; the first present wins. */
const ALIASES = {
  query: ['metricQuery', 'query'],
  targetValue: ['targetValue', 'threshold'],
  activationTargetValue: ['activationTargetValue', 'activationThreshold'],
  errorIfNotFound: ['errorIfNotFound', 'errIfNotFound'],
} as const;

function pick(meta: Record<string, string>, keys: readonly string[]): [string, string] | undefined {
  for (const key of keys) {
    const value = meta[key];
    if (value !== undefined && value.trim() !== '') return [key, value.trim()];
  }
  return undefined;
}

function number(key: string, text: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw badMetadata(key, `${JSON.stringify(text)} is not a finite number`);
  return value;
}

function optionalBoolean(entry: [string, string] | undefined): boolean | undefined {
  if (entry === undefined) return undefined;
  const [key, text] = entry;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw badMetadata(key, `must be "true" or "false", got ${JSON.stringify(text)}`);
}

function optionalNumber(meta: Record<string, string>, key: string): number | undefined {
  const found = pick(meta, [key]);
  return found === undefined ? undefined : number(key, found[1]);
}

const METRIC_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/;

/**
 * The metric name KEDA shows in the HPA when the trigger names none: stable for the same
 * ScaledObject and query, different for two triggers of one ScaledObject, and valid as a
 * Kubernetes metric name.
 */
function defaultMetricName(ref: ScaledObjectRef, query: string): string {
  const hash = createHash('sha256').update(`${ref.namespace}/${ref.name}\n${query}`).digest('hex').slice(0, 8);
  const base = `otlp-${ref.name}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-+$/, '')
    .slice(0, 48);
  return `${base}-${hash}`;
}

/**
 * Validates a trigger's metadata. Unknown keys are ignored (KEDA passes its own, such as
 * `scalerAddress`); a missing or bad value is an INVALID_ARGUMENT error naming its key.
 */
export function parseTrigger(ref: ScaledObjectRef): TriggerSpec {
  const meta = ref.scalerMetadata;
  const queryEntry = pick(meta, ALIASES.query);
  if (!queryEntry) throw badMetadata('metricQuery', 'is required (the PromQL query to scale on)');
  const targetEntry = pick(meta, ALIASES.targetValue);
  if (!targetEntry) throw badMetadata('targetValue', 'is required (the value per replica the HPA aims for)');
  const targetValue = number(targetEntry[0], targetEntry[1]);
  if (targetValue <= 0) throw badMetadata(targetEntry[0], `must be greater than 0, got ${targetValue}`);
  const activationEntry = pick(meta, ALIASES.activationTargetValue);
  const activationTargetValue = activationEntry ? number(activationEntry[0], activationEntry[1]) : 0;
  const clampMin = optionalNumber(meta, 'clampMin');
  const clampMax = optionalNumber(meta, 'clampMax');
  if (clampMin !== undefined && clampMax !== undefined && clampMin > clampMax) {
    throw badMetadata('clampMin', `must not be greater than clampMax (${clampMin} > ${clampMax})`);
  }
  const ifNotFound = parseIfNotFound(meta);

  let query = queryEntry[1];
  const operation = pick(meta, ['operationOverTime']);
  if (operation) {
    const op = operation[1] as KedifyOperation;
    if (!KEDIFY_OPERATIONS.includes(op)) {
      throw badMetadata('operationOverTime', `must be one of ${KEDIFY_OPERATIONS.join(', ')}, got ${JSON.stringify(operation[1])}`);
    }
    query = rewriteKedifyQuery(query, op, queryEntry[0]);
  } else if (isKedifyOnlyQuery(query)) {
    // Kedify's default operation; unquoted matcher values cannot be meant as PromQL.
    query = rewriteKedifyQuery(query, 'last_one', queryEntry[0]);
  }

  const nameEntry = pick(meta, ['metricName']);
  if (nameEntry && !METRIC_NAME_RE.test(nameEntry[1])) {
    throw badMetadata('metricName', `${JSON.stringify(nameEntry[1])} is not a valid metric name (letters, digits, '.', '_', '-')`);
  }
  const metricName = nameEntry ? nameEntry[1] : defaultMetricName(ref, query);
  return { query, targetValue, activationTargetValue, clampMin, clampMax, metricName, ifNotFound };
}

/** `valueIfNotFound` and `errorIfNotFound` (Kedify: `errIfNotFound`) together; asking for both a value and an error is a mistake. */
function parseIfNotFound(meta: Record<string, string>): TriggerSpec['ifNotFound'] {
  const value = optionalNumber(meta, 'valueIfNotFound');
  const errorEntry = pick(meta, ALIASES.errorIfNotFound);
  const error = optionalBoolean(errorEntry);
  if (error === true && value !== undefined) {
    throw badMetadata(errorEntry![0], 'is "true", which contradicts valueIfNotFound: an empty result is either an error or that value');
  }
  if (error === true) return 'error';
  if (value !== undefined) return value;
  return error === false ? 0 : undefined;
}

/** A key for caching by metadata: equal for equal metadata whatever the key order. */
export function metadataKey(ref: ScaledObjectRef): string {
  const entries = Object.entries(ref.scalerMetadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([ref.namespace, ref.name, entries]);
}
