import type { ValueType } from './ast.js';

/**
 * The type signature of a PromQL function, with Prometheus's meaning of `variadic`: 0 means
 * exactly `argTypes.length` arguments; otherwise the last listed argument is optional, and up to
 * `variadic` more of its type may follow (-1: any number). So `round` ([vector, scalar], 1) takes
 * 1 or 2 arguments and `label_join` ([vector, string, string, string], -1) takes 3 or more.
 */
export interface FunctionSignature {
  argTypes: readonly ValueType[];
  variadic: number;
  returnType: ValueType;
  /** Behind a feature flag in Prometheus; accepted here, as the conformance files use them. */
  experimental?: boolean;
}

const V: ValueType = 'vector';
const S: ValueType = 'scalar';
const M: ValueType = 'matrix';
const STR: ValueType = 'string';

function fn(argTypes: ValueType[], variadic: number, returnType: ValueType, experimental?: boolean): FunctionSignature {
  return experimental ? { argTypes, variadic, returnType, experimental } : { argTypes, variadic, returnType };
}

/** Every function of Prometheus 3.x, by name. */
export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  abs: fn([V], 0, V),
  absent: fn([V], 0, V),
  absent_over_time: fn([M], 0, V),
  acos: fn([V], 0, V),
  acosh: fn([V], 0, V),
  asin: fn([V], 0, V),
  asinh: fn([V], 0, V),
  atan: fn([V], 0, V),
  atanh: fn([V], 0, V),
  avg_over_time: fn([M], 0, V),
  ceil: fn([V], 0, V),
  changes: fn([M], 0, V),
  clamp: fn([V, S, S], 0, V),
  clamp_max: fn([V, S], 0, V),
  clamp_min: fn([V, S], 0, V),
  cos: fn([V], 0, V),
  cosh: fn([V], 0, V),
  count_over_time: fn([M], 0, V),
  day_of_month: fn([V], 1, V),
  day_of_week: fn([V], 1, V),
  day_of_year: fn([V], 1, V),
  days_in_month: fn([V], 1, V),
  deg: fn([V], 0, V),
  delta: fn([M], 0, V),
  deriv: fn([M], 0, V),
  double_exponential_smoothing: fn([M, S, S], 0, V, true),
  end: fn([], 0, S, true),
  exp: fn([V], 0, V),
  first_over_time: fn([M], 0, V),
  floor: fn([V], 0, V),
  histogram_avg: fn([V], 0, V),
  histogram_count: fn([V], 0, V),
  histogram_fraction: fn([S, S, V], 0, V),
  histogram_quantile: fn([S, V], 0, V),
  histogram_quantiles: fn([V, STR, S, S], 9, V, true),
  histogram_stddev: fn([V], 0, V),
  histogram_stdvar: fn([V], 0, V),
  histogram_sum: fn([V], 0, V),
  hour: fn([V], 1, V),
  idelta: fn([M], 0, V),
  increase: fn([M], 0, V),
  info: fn([V, V], 1, V, true),
  irate: fn([M], 0, V),
  label_join: fn([V, STR, STR, STR], -1, V),
  label_replace: fn([V, STR, STR, STR, STR], 0, V),
  last_over_time: fn([M], 0, V),
  ln: fn([V], 0, V),
  log10: fn([V], 0, V),
  log2: fn([V], 0, V),
  mad_over_time: fn([M], 0, V, true),
  max_of: fn([S, S], 0, S, true),
  max_over_time: fn([M], 0, V),
  min_of: fn([S, S], 0, S, true),
  min_over_time: fn([M], 0, V),
  minute: fn([V], 1, V),
  month: fn([V], 1, V),
  pi: fn([], 0, S),
  predict_linear: fn([M, S], 0, V),
  present_over_time: fn([M], 0, V),
  quantile_over_time: fn([S, M], 0, V),
  rad: fn([V], 0, V),
  range: fn([], 0, S, true),
  rate: fn([M], 0, V),
  resets: fn([M], 0, V),
  round: fn([V, S], 1, V),
  scalar: fn([V], 0, S),
  sgn: fn([V], 0, V),
  sin: fn([V], 0, V),
  sinh: fn([V], 0, V),
  sort: fn([V], 0, V),
  sort_by_label: fn([V, STR], -1, V, true),
  sort_by_label_desc: fn([V, STR], -1, V, true),
  sort_desc: fn([V], 0, V),
  sqrt: fn([V], 0, V),
  start: fn([], 0, S, true),
  start_timestamp: fn([V], 0, V, true),
  stddev_over_time: fn([M], 0, V),
  stdvar_over_time: fn([M], 0, V),
  step: fn([], 0, S, true),
  sum_over_time: fn([M], 0, V),
  tan: fn([V], 0, V),
  tanh: fn([V], 0, V),
  time: fn([], 0, S),
  timestamp: fn([V], 0, V),
  ts_of_first_over_time: fn([M], 0, V, true),
  ts_of_last_over_time: fn([M], 0, V, true),
  ts_of_max_over_time: fn([M], 0, V, true),
  ts_of_min_over_time: fn([M], 0, V, true),
  vector: fn([S], 0, V),
  year: fn([V], 1, V),
};

/** The signature of a function, or undefined for an unknown name. */
export function functionSignature(name: string): FunctionSignature | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}
