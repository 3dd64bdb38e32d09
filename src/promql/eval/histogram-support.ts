import type { Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';
import { walk } from '../parser/walk.js';

/**
 * Where native histograms stand in the engine: the parts of a query it evaluates over them as
 * Prometheus does. A query reading histograms through any other part would get an answer that
 * ignores them or is wrong, so whoever needs to know (the conformance runner) can ask.
 */

/**
 * Functions whose histogram behaviour is not written yet. Range functions all have theirs (see
 * functions/histogram-windows.ts); the step functions that read histograms say so in the table;
 * the other step functions drop histogram samples, as Prometheus's float functions do.
 */
const FUNCTION_GAPS = new Set<string>(['info']);

function handlesHistograms(name: string): boolean {
  return functionNamed(name) !== undefined && !FUNCTION_GAPS.has(name);
}

/** Why the engine cannot evaluate `expr` over native histograms as Prometheus does, or undefined when it can. */
export function histogramGap(expr: Expr): string | undefined {
  let gap: string | undefined;
  walk(expr, undefined, (e) => {
    if (gap !== undefined) return;
    if (e.kind === 'Call' && !handlesHistograms(e.func)) gap = `function ${e.func}() over native histograms`;
    else if (e.kind === 'VectorSelector' && (e.anchored === true || e.smoothed === true))
      gap = `${e.anchored === true ? 'anchored' : 'smoothed'} selectors over native histograms`;
  });
  return gap;
}
