import type { EvalOutcome, FileReport } from './runner.js';

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

export function totalsOf(outcomes: readonly EvalOutcome[]): Totals {
  const t: Totals = { passed: 0, failed: 0, skipped: 0 };
  for (const o of outcomes) t[o.status]++;
  return t;
}

/** Passed share of the evals that ran (skips excluded); 1 when none ran. */
export function passRate(t: Totals): number {
  const ran = t.passed + t.failed;
  return ran === 0 ? 1 : t.passed / ran;
}

export function formatFailure(o: EvalOutcome): string {
  return `FAIL ${o.file}:${o.line}: ${o.query}\n    ${o.reason.split('\n').join('\n    ')}`;
}

/** The per-file table, then the one summary line `N passed, N failed, N skipped`. */
export function formatReport(reports: readonly FileReport[]): string {
  const rows = reports.map((r) => ({ file: r.file, ...totalsOf(r.outcomes) }));
  const width = Math.max(4, ...rows.map((r) => r.file.length));
  const lines = [`${'file'.padEnd(width)}  passed  failed  skipped`];
  for (const r of rows) {
    lines.push(`${r.file.padEnd(width)}  ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}`);
  }
  const all = totalsOf(reports.flatMap((r) => r.outcomes));
  lines.push(`${all.passed} passed, ${all.failed} failed, ${all.skipped} skipped`);
  return lines.join('\n');
}
