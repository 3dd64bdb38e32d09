import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/promql/engine.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';

/** How long the engine takes to match pathological regexes against a 1 MiB label value. */
export function pathologicalRegexTimings(): { pattern: string; ms: number; matched: number }[] {
  const tsdb = new Tsdb();
  const now = Date.now();
  tsdb.appendLabels(labelsFromRecord({ __name__: 'big', v: `${'a'.repeat(1024 * 1024 - 1)}!` }), now, 1);
  tsdb.appendLabels(labelsFromRecord({ __name__: 'big', v: `${'a'.repeat(1024 * 1024 - 1)}b` }), now, 2);
  const engine = new Engine(tsdb);
  return ['(a+)+$', '(a|a)*b', '(a*)*c', '(a|aa)+!', '.*.*.*=.*'].map((pattern) => {
    const started = performance.now();
    const { value } = engine.instant(`big{v=~"${pattern}"}`, now);
    const ms = performance.now() - started;
    return { pattern, ms, matched: value.type === 'vector' ? value.samples.length : -1 };
  });
}
