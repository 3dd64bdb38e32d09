import type { Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';

/**
 * The query with `@ <t>` on every selector and outermost subquery that has none, as Prometheus's
 * test runner checks step invariance; undefined when a time-dependent function makes that
 * check meaningless. Selectors inside a subquery that has `@` are left alone.
 */
export function withAtModifier(expr: Expr, tMs: number): Expr | undefined {
  let timeDependent = false;
  const at = { kind: 'time' as const, ms: tMs };
  const visit = (e: Expr): Expr => {
    switch (e.kind) {
      case 'VectorSelector':
        return e.at === undefined ? { ...e, at } : e;
      case 'MatrixSelector':
        return e.vector.at === undefined ? { ...e, vector: { ...e.vector, at } } : e;
      case 'SubqueryExpr':
        // Inside a subquery that carries `@`, nothing is rewritten (nor checked).
        return e.at === undefined ? { ...e, at } : e;
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return { ...e, expr: visit(e.expr) };
      case 'BinaryExpr':
        return { ...e, lhs: visit(e.lhs), rhs: visit(e.rhs) };
      case 'AggregateExpr':
        return { ...e, expr: visit(e.expr), param: e.param === undefined ? undefined : visit(e.param) };
      case 'Call':
        if (functionNamed(e.func)?.timeDependent === true) timeDependent = true;
        return { ...e, args: e.args.map(visit) };
      default:
        return e;
    }
  };
  const out = visit(expr);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside visit(); TypeScript does not follow assignments in a closure
  return timeDependent ? undefined : out;
}
