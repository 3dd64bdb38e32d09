import type { Expr } from '../ast.js';
import { walk } from '../parser/walk.js';

/**
 * Where native histograms stand in the engine: the parts of a query it evaluates over them as
 * Prometheus does. A query reading histograms through any other part would get an answer that
 * ignores them or is wrong, so whoever needs to know (the conformance runner) can ask. Every
 * function has its histogram behaviour (range functions in functions/histogram-windows.ts; step
 * functions that read histograms say so in the table, the others drop them as Prometheus's
 * float functions do).
 */

/** Binary operators whose histogram behaviour is not written yet (trimming histogram buckets). */
const OPERATOR_GAPS = new Set<string>(['</', '>/']);

/** Why the engine cannot evaluate `expr` over native histograms as Prometheus does, or undefined when it can. */
export function histogramGap(expr: Expr): string | undefined {
  let gap: string | undefined;
  walk(expr, undefined, (e) => {
    if (gap !== undefined) return;
    if (e.kind === 'BinaryExpr' && OPERATOR_GAPS.has(e.op)) gap = `operator ${e.op} on native histograms`;
  });
  return gap;
}
