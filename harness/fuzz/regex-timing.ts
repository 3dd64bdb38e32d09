import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/promql/eval/engine.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { parseQuery } from '../../src/promql/parser/parse.js';

/** Patterns that take a backtracking engine exponential time on a long run of `a`, and whether they match `a…a!`. */
const PATHOLOGICAL: readonly [pattern: string, matches: boolean][] = [
  ['(a+)+$', false],
  ['(a|a)*b', false],
  ['(a*)*c', false],
  ['(a|aa)+!', true],
  ['.*.*.*=.*', false],
];

export interface RegexTiming {
  pattern: string;
  /** One query's time, matching the one 1 MiB value, best of three. */
  ms: number;
  /** Whether the series was selected as the pattern says it should be. */
  correct: boolean;
}

/** How long a query takes to match each pathological regex against one 1 MiB label value. */
export function pathologicalRegexTimings(): RegexTiming[] {
  const tsdb = new Tsdb();
  const now = Date.now();
  tsdb.appendLabels(labelsFromRecord({ __name__: 'big', v: `${'a'.repeat(1024 * 1024 - 1)}!` }), now, 1);
  const engine = new Engine(tsdb);
  return PATHOLOGICAL.map(([pattern, matches]) => {
    let ms = Infinity;
    let selected = 0;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      const { value } = engine.instant(parseQuery(`big{v=~"${pattern}"}`), now);
      ms = Math.min(ms, performance.now() - started);
      selected = value.type === 'vector' ? value.samples.length : -1;
    }
    return { pattern, ms, correct: selected === (matches ? 1 : 0) };
  });
}
