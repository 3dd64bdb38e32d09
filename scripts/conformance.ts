import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFailure, formatReport, passRate, totalsOf } from '../src/promql/conformance/report.js';
import { runDirectory } from '../src/promql/conformance/runner.js';

/**
 * Runs Prometheus's promqltest scripts against our engine:
 *   npm run conformance -- [dir] [-v] [--min-pass-rate 0.98]
 * The folder defaults to $PROMQL_TESTDATA, else ../shared/promql-testdata next to the project.
 */
function main(argv: string[]): number {
  let dir: string | undefined;
  let verbose = false;
  let minPassRate = 0.98;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '--min-pass-rate') minPassRate = Number(argv[++i]);
    else if (a.startsWith('--min-pass-rate=')) minPassRate = Number(a.slice('--min-pass-rate='.length));
    else if (a.startsWith('-')) {
      process.stderr.write(`unknown option ${a}\n`);
      return 2;
    } else dir = a;
  }
  if (!(minPassRate >= 0 && minPassRate <= 1)) {
    process.stderr.write('--min-pass-rate must be a number between 0 and 1\n');
    return 2;
  }
  // dist/scripts/conformance.js → the project root is two folders up.
  const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const folder = resolve(dir ?? process.env.PROMQL_TESTDATA ?? resolve(projectRoot, '..', 'shared', 'promql-testdata'));
  if (!existsSync(folder)) {
    process.stderr.write(`test folder not found: ${folder}\n`);
    return 2;
  }
  const reports = runDirectory(folder);
  if (verbose) {
    for (const r of reports) for (const o of r.outcomes) if (o.status === 'failed') process.stdout.write(`${formatFailure(o)}\n`);
  }
  process.stdout.write(`${formatReport(reports)}\n`);
  const rate = passRate(totalsOf(reports.flatMap((r) => r.outcomes)));
  if (rate < minPassRate) {
    process.stderr.write(`pass rate ${(rate * 100).toFixed(2)}% is below the minimum ${(minPassRate * 100).toFixed(2)}%\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
