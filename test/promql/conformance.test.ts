import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatFailure, passRate, totalsOf } from '../../src/promql/conformance/report.js';
import { runDirectory, runScript } from '../../src/promql/conformance/runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const upstream = resolve(process.env.PROMQL_TESTDATA ?? resolve(here, '..', '..', '..', 'shared', 'promql-testdata'));

describe('PromQL conformance', () => {
  it('passes every case of our own test files', () => {
    const reports = runDirectory(here);
    const outcomes = reports.flatMap((r) => r.outcomes);
    expect(outcomes.length).toBeGreaterThan(0);
    const failures = outcomes.filter((o) => o.status === 'failed').map(formatFailure);
    expect(failures).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'skipped')).toEqual([]);
  });

  it.skipIf(!existsSync(upstream))(`passes at least 98% of Prometheus's float evals in ${upstream}`, () => {
    const totals = totalsOf(runDirectory(upstream).flatMap((r) => r.outcomes));
    expect(totals.passed + totals.failed).toBeGreaterThan(800);
    expect(passRate(totals)).toBeGreaterThanOrEqual(0.98);
  });

  it('counts a wrong result as a failure, not a pass', () => {
    const report = runScript('inline.test', 'load 1m\n  m 1 2\n\neval instant at 1m m\n  m 3\n');
    expect(totalsOf(report.outcomes)).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it('fails an eval whose annotations or order differ from the expectation', () => {
    const script = [
      'load 1m',
      '  m{i="1"} 2',
      '  m{i="2"} 1',
      '',
      'eval instant at 0m quantile(2, m)',
      '  expect warn msg: PromQL warning: something else (1:10)',
      '  {} +Inf',
      '',
      'eval instant at 0m sort(m)',
      '  expect ordered',
      '  m{i="1"} 2',
      '  m{i="2"} 1',
      '',
      'eval instant at 0m sort_desc(m)',
      '  expect ordered',
      '  m{i="1"} 2',
      '  m{i="2"} 1',
      '',
      'eval instant at 0m m{i="9"} / 0',
      '  expect fail',
    ].join('\n');
    expect(runScript('inline.test', script).outcomes.map((o) => o.status)).toEqual(['failed', 'failed', 'passed', 'failed']);
  });

  it('reports a script it cannot read as a failure naming the line', () => {
    const report = runScript('bad.test', 'load 1m\n  m 1 two\n');
    expect(report.outcomes).toMatchObject([{ status: 'failed', line: 2 }]);
    expect(report.outcomes[0]!.reason).toContain('invalid value "two"');
  });

  it('compares native histogram results, the counter reset hint only where the test writes one', () => {
    const script = [
      'load 1m',
      '  h {{schema:0 sum:1 count:1 buckets:[1]}}+{{sum:1 count:1 buckets:[1]}}x2',
      '',
      'eval instant at 2m h',
      '  h {{schema:0 sum:3 count:3 buckets:[3]}}',
      '',
      'eval instant at 2m h',
      '  h {{schema:0 sum:3 count:3 buckets:[3] counter_reset_hint:gauge}}',
      '',
      'eval range from 0 to 2m step 1m h',
      '  h {{sum:1 count:1 buckets:[1]}} {{sum:2 count:2 buckets:[2]}} {{sum:3 count:3 buckets:[3]}}',
      '',
      'eval instant at 2m h',
      '  h 3',
    ].join('\n');
    expect(runScript('inline.test', script).outcomes.map((o) => o.status)).toEqual(['passed', 'failed', 'passed', 'failed']);
  });

  it('skips, saying why, an eval that reads native histograms with start times, which the store does not keep', () => {
    const report = runScript(
      'inline.test',
      'load 1m\n  h@st _ -1m\n  h _ {{schema:0 sum:1 count:1}}\n\neval instant at 1m h\n  h {{schema:0 sum:1 count:1}}\n',
    );
    expect(report.outcomes).toMatchObject([{ status: 'skipped', reason: 'the store does not yet keep start times of native histogram samples' }]);
  });
});
