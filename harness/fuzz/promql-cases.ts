import type { Rng } from './rng.js';

/** Well-formed queries the mutations start from; they name the canary and the fuzzed metrics. */
const SEEDS = [
  'fuzz_canary',
  'sum(fuzz_canary)',
  'rate(fuzz_metric_total[5m])',
  'sum by (job) (rate(http_server_duration_seconds_count[1m]))',
  'histogram_quantile(0.9, sum by (le) (rate(http_server_duration_seconds_bucket[5m])))',
  'max_over_time(queue_depth[10m:1m])',
  'fuzz_canary{job="fuzz-canary", instance=~"c.*"} offset 1m',
  'label_replace(fuzz_canary, "x", "$1", "job", "(.*)")',
  'count_values("v", fuzz_canary) > bool 0',
  'topk(3, {__name__=~"fuzz.*"})',
  'absent(nope{a="b"})',
  'vector(1) + on() group_left fuzz_canary',
  'clamp_max(sum(jobs) / scalar(count(up)), 10)',
  '-fuzz_canary ^ 2 % 3 and fuzz_canary unless nothing',
  'avg_over_time(fuzz_canary[1h] @ end())',
  'quantile_over_time(0.5, cpu_utilization_ratio[5m])',
  'sort_desc(sum without (instance) (fuzz_canary))',
  'max_over_time(vector(1)[1d:1ms])',
  'count_over_time(vector(1)[1y:1ms])',
  'max_over_time(max_over_time(vector(1)[1d:1s])[1d:1s])',
  'sum(rate(fuzz_metric_total[5m:10s]))',
];

/** Subquery ranges and resolutions, from cheap to far past any limit (a year at 1ms). */
const SUBQUERY_RANGES = ['1m', '5m', '1h', '1d', '30d', '1y'];
const SUBQUERY_STEPS = ['', '1ms', '10ms', '1s', '15s', '1m', '1h'];
const OVER_TIME = [
  'max_over_time',
  'min_over_time',
  'count_over_time',
  'sum_over_time',
  'avg_over_time',
  'last_over_time',
  'absent_over_time',
  'rate',
  'deriv',
  'changes',
];

/** `q` as a subquery inside a range function, sometimes inside an aggregation or with an offset. */
function subquery(rng: Rng, q: string): string {
  const window = `(${q})[${rng.pick(SUBQUERY_RANGES)}:${rng.pick(SUBQUERY_STEPS)}]${rng.chance(0.2) ? rng.pick([' offset 1h', ' @ end()', ' offset -5m']) : ''}`;
  const call = rng.chance(0.15) ? `quantile_over_time(0.9, ${window})` : `${rng.pick(OVER_TIME)}(${window})`;
  if (rng.chance(0.7)) return call;
  if (rng.chance(0.3)) return `topk(2, ${call})`;
  return `${rng.pick(['sum', 'max', 'count'])}${rng.chance(0.5) ? ' by (job) ' : ''}(${call})`;
}

// A word list, laid out as one.
// prettier-ignore
const TOKENS = [
  '(', ')', '{', '}', '[', ']', ',', '=', '!=', '=~', '!~', '+', '-', '*', '/', '%', '^', '==', '>', '<=', 'bool',
  'on', 'ignoring', 'group_left', 'group_right', 'by', 'without', 'offset', '@', 'start()', 'end()', 'and', 'or', 'unless',
  'sum', 'rate', 'irate', 'topk', 'quantile', 'count_values', 'histogram_quantile', 'label_replace', 'absent', 'time()',
  'fuzz_canary', 'job', '"x"', "'y'", '`z`', '5m', '1h30m', '0.5', '1e308', 'Inf', 'NaN', '0x1F', '-1', ':', '[5m:1m]',
  '"\\xZZ"', '"(a+)+$"', '"(a|a)*b"', '"[[:alpha:]"', '"\\\\"', '#', '\n', ' ', '\u00e9', '"unterminated', '__name__',
];

type Mutation = (rng: Rng, q: string) => string;

const MUTATIONS: readonly (readonly [number, Mutation])[] = [
  [
    3,
    (rng, q) => {
      const i = rng.int(q.length + 1);
      return q.slice(0, i) + rng.pick(TOKENS) + q.slice(i);
    },
  ],
  [
    3,
    (rng, q) => {
      const i = rng.int(q.length + 1);
      return q.slice(0, i) + q.slice(i + 1 + rng.int(4));
    },
  ],
  [2, (rng, q) => q.slice(0, rng.int(q.length + 1))],
  [
    2,
    (rng, q) => {
      const i = rng.int(q.length + 1);
      return q.slice(0, i) + String.fromCharCode(rng.int(128)) + q.slice(i + 1);
    },
  ],
  [
    1,
    (rng, q) => {
      const i = rng.int(q.length + 1);
      const j = i + rng.int(q.length - i + 1);
      return q.slice(0, j) + q.slice(i, j) + q.slice(j);
    },
  ],
  [
    1,
    (rng, q) => {
      const n = 1 + rng.int(rng.chance(0.2) ? 5000 : 60);
      return '('.repeat(n) + q + ')'.repeat(rng.chance(0.8) ? n : rng.int(n));
    },
  ],
  [
    1,
    (rng, q) => {
      const n = 1 + rng.int(rng.chance(0.2) ? 3000 : 40);
      return `${'-'.repeat(n)}${q}`;
    },
  ],
  [
    1,
    (rng, q) => {
      const n = 1 + rng.int(rng.chance(0.2) ? 2000 : 30);
      return Array.from({ length: n }, () => q).join(rng.pick([' + ', ' or ', ' and on() ', ' > bool ']));
    },
  ],
  [1, (rng, q) => `sum(${q})${rng.pick(['', '[5m:]', ' offset -1m', ' @ 0', ' @ 1e20'])}`],
  [1, subquery],
];

/** A random query: a seed mutated a few times, or tokens strung together. */
export function randomQuery(rng: Rng): string {
  if (rng.chance(0.15)) {
    const parts: string[] = [];
    for (let n = 1 + rng.int(12); n > 0; n--) parts.push(rng.pick(TOKENS));
    return parts.join(rng.chance(0.5) ? ' ' : '');
  }
  let q = rng.pick(SEEDS);
  for (let n = rng.int(4); n > 0; n--) q = rng.weighted(MUTATIONS)(rng, q);
  return q;
}

/** A Prometheus syntax or type error message: position, then the cause. */
export const POSITIONED_PARSE_ERROR = /^\d+:\d+: parse error: \S/;
