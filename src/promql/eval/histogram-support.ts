import type { Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';
import { walk } from '../parser/walk.js';

/**
 * Where native histograms stand in the engine: the parts of a query it evaluates over them as
 * Prometheus does. A query reading histograms through any other part would get an answer that
 * ignores them or is wrong, so whoever needs to know (the conformance runner) can ask.
 */

/**
 * Functions evaluated step by step that handle histogram samples; range functions all do (see
 * functions/histogram-windows.ts), and so do relabelling and absent(), which read labels and steps only.
 */
const STEP_FUNCTIONS = new Set<string>(['timestamp']);

function handlesHistograms(name: string): boolean {
  const kind = functionNamed(name)?.impl.kind;
  return kind === 'range' || kind === 'relabel' || name === 'absent' || STEP_FUNCTIONS.has(name);
}

/** Aggregations that handle histogram samples. */
const AGGREGATIONS = new Set<string>([]);

/** Binary operators that handle histogram operands. */
const OPERATORS = new Set<string>([]);

/** Why the engine cannot evaluate `expr` over native histograms as Prometheus does, or undefined when it can. */
export function histogramGap(expr: Expr): string | undefined {
  let gap: string | undefined;
  walk(expr, undefined, (e) => {
    if (gap !== undefined) return;
    if (e.kind === 'Call' && !handlesHistograms(e.func)) gap = `function ${e.func}() over native histograms`;
    else if (e.kind === 'AggregateExpr' && !AGGREGATIONS.has(e.op)) gap = `aggregation ${e.op} over native histograms`;
    else if (e.kind === 'BinaryExpr' && !OPERATORS.has(e.op)) gap = `operator ${e.op} on native histograms`;
  });
  return gap;
}
