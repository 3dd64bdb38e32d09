import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatValue } from '../../src/api/query-json.js';
import { labelsString, labelsToRecord, METRIC_NAME } from '../../src/tsdb/labels.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import { baseUrl, useSeededApp } from './http.js';
import { parseQuery } from '../../src/promql/parser/parse.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const run = promisify(execFile);

async function promtool(...args: string[]): Promise<string> {
  const { stdout } = await run(PROMTOOL!, ['query', ...args], { timeout: 30_000 });
  return stdout;
}

/** promtool prints a time as Go's FormatFloat(ms / 1e3, 'f', -1, 64): the same digits as JS. */
function seconds(ms: number): string {
  return String(ms / 1000);
}

const title = PROMTOOL
  ? 'promtool (Debian prometheus package) as the client'
  : 'promtool as the client: SKIPPED, promtool not found (apt-get install prometheus)';

describe.skipIf(!PROMTOOL)(title, () => {
  const { app, end } = useSeededApp();
  let url: string;

  beforeAll(() => {
    url = baseUrl(app);
  });

  /** `name{a="b", c="d"} => value @[time]` lines, as promtool prints a vector. */
  function expectedVector(query: string, timeMs: number): string[] {
    const v = app.engine.instant(parseQuery(query), timeMs).value;
    if (v.type !== 'vector') throw new Error(`${query} is not a vector`);
    return v.samples.map((s) => `${labelsString(s.labels)} => ${formatValue(s.v)} @[${seconds(s.t)}]`).sort();
  }

  it('query instant prints the values our engine computes', async () => {
    for (const query of ['queue_size', 'sum by (job) (rate(requests_total[1m]))', 'queue_size / on (job) group_left () sum by (job) (queue_size)']) {
      const out = await promtool('instant', `--time=${seconds(end)}`, url, query);
      const lines = out.trim().split('\n').sort();
      expect(lines, query).toEqual(expectedVector(query, end));
      expect(lines.length, query).toBeGreaterThan(0);
    }
    const scalar = await promtool('instant', `--time=${seconds(end - 15_000)}`, url, 'scalar(sum(queue_size))');
    expect(scalar.trim()).toBe(`scalar: ${formatValue(27 + 82)} @[${seconds(end - 15_000)}]`);
  });

  it('query instant -o json decodes to the same result', async () => {
    const out = JSON.parse(await promtool('instant', '-o', 'json', `--time=${seconds(end)}`, url, 'queue_size'));
    const v = app.engine.instant(parseQuery('queue_size'), end).value;
    if (v.type !== 'vector') throw new Error('not a vector');
    expect(out).toHaveLength(2);
    expect(out).toEqual(expect.arrayContaining(v.samples.map((s) => ({ metric: labelsToRecord(s.labels), value: [end / 1000, formatValue(s.v)] }))));
  });

  it('query range prints every step our engine computes', async () => {
    const query = 'rate(requests_total[1m]) * 60';
    const start = end - 180_000;
    const out = await promtool('range', `--start=${seconds(start)}`, `--end=${seconds(end)}`, '--step=30s', url, query);
    const v = app.engine.range(parseQuery(query), start, end, 30_000).value;
    if (v.type !== 'matrix') throw new Error('not a matrix');
    const expected = v.series.flatMap((s) => [`${labelsString(s.labels)} =>`, ...s.timestamps.map((t, i) => `${formatValue(s.values[i]!)} @[${seconds(t)}]`)]);
    expect(out.trim().split('\n')).toEqual(expected);
    expect(expected).toHaveLength(1 + 7);
  });

  it('query range -o json decodes to the same matrix', async () => {
    const start = end - 60_000;
    const out = JSON.parse(
      await promtool(
        'range',
        '-o',
        'json',
        `--start=${new Date(start).toISOString()}`,
        `--end=${new Date(end).toISOString()}`,
        '--step=15s',
        url,
        'sum(queue_size)',
      ),
    );
    const v = app.engine.range(parseQuery('sum(queue_size)'), start, end, 15_000).value;
    if (v.type !== 'matrix') throw new Error('not a matrix');
    expect(out).toEqual(v.series.map((s) => ({ metric: {}, values: s.timestamps.map((t, i) => [t / 1000, formatValue(s.values[i]!)]) })));
  });

  it('query series lists the series the TSDB selects', async () => {
    const out = await promtool('series', '--match=queue_size', '--match=requests_total{code="200"}', url);
    const expected = [
      ...app.tsdb.select([new Matcher('=', METRIC_NAME, 'queue_size')]),
      ...app.tsdb.select([new Matcher('=', METRIC_NAME, 'requests_total'), new Matcher('=', 'code', '200')]),
    ].map((s) => {
      const pairs = Object.entries(labelsToRecord(s.labels)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return `{${pairs.join(', ')}}`;
    });
    expect(out.trim().split('\n').sort()).toEqual(expected.sort());
    expect(expected).toHaveLength(3);
  });

  it('query labels lists the label values the TSDB holds, with and without --match', async () => {
    expect((await promtool('labels', url, 'job')).trim().split('\n')).toEqual(app.tsdb.labelValues('job'));
    expect((await promtool('labels', url, '__name__')).trim().split('\n')).toEqual(['queue_size', 'requests_total']);
    expect((await promtool('labels', '--match=queue_size{job="b"}', url, 'instance')).trim()).toBe('y');
  });

  it('reports our error type and message for a bad query', async () => {
    const failure = await promtool('instant', url, 'sum(').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis');
  });
});
