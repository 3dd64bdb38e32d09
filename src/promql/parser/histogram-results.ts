import type { AggregateOp, Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';

/** Aggregations whose output is a number for each group whatever they are given. */
const FLOAT_AGGREGATIONS = new Set<AggregateOp>(['count', 'count_values', 'group', 'stddev', 'stdvar', 'quantile', 'min', 'max']);

/**
 * Whether the query may give native histogram samples, from its tree alone. False only where
 * that is certain: a scalar, a function that gives numbers (the histogram_* ones, the functions
 * that see floats only, absent), an aggregation that counts or compares, and what is built from
 * those alone. Where this says true, only the data can tell.
 */
export function mayGiveHistograms(expr: Expr): boolean {
  switch (expr.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return false;
    case 'VectorSelector':
    case 'MatrixSelector':
      return true;
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
    case 'SubqueryExpr':
      return mayGiveHistograms(expr.expr);
    case 'BinaryExpr':
      return mayGiveHistograms(expr.lhs) || mayGiveHistograms(expr.rhs);
    case 'AggregateExpr':
      return !FLOAT_AGGREGATIONS.has(expr.op) && mayGiveHistograms(expr.expr);
    case 'Call': {
      const def = functionNamed(expr.func);
      if (def === undefined || def.returnType !== 'vector' || expr.func.startsWith('histogram_')) return false;
      const { impl } = def;
      if (impl.kind === 'step' && impl.histograms !== true) return false;
      if (impl.kind === 'special' && expr.func !== 'info') return false;
      // What is left passes its argument's samples on (sorting, label rewriting, info) or computes over their windows.
      return expr.args.some((a) => a.kind !== 'StringLiteral' && mayGiveHistograms(a));
    }
  }
}
