import type { Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';
import { fold, walk, withChildren } from '../parser/walk.js';

/**
 * The query with `@ <t>` on every selector and outermost subquery that has none, as Prometheus's
 * test runner checks step invariance; undefined when a time-dependent function makes that
 * check meaningless. Selectors inside a subquery that has `@` are left alone.
 */
export function withAtModifier(expr: Expr, tMs: number): Expr | undefined {
  let timeDependent = false;
  walk(expr, undefined, (e) => {
    // Inside a subquery that carries `@`, nothing is rewritten (nor checked).
    if (e.kind === 'SubqueryExpr') return false;
    if (e.kind === 'Call' && functionNamed(e.func)?.timeDependent === true) timeDependent = true;
    return true;
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside the visit; TypeScript does not follow assignments in a closure
  if (timeDependent) return undefined;
  const at = { kind: 'time' as const, ms: tMs };
  return fold<Expr>(expr, (e, kids) => {
    switch (e.kind) {
      case 'VectorSelector':
        return e.at === undefined ? { ...e, at } : e;
      case 'MatrixSelector':
        return e.vector.at === undefined ? { ...e, vector: { ...e.vector, at } } : e;
      case 'SubqueryExpr':
        return e.at === undefined ? { ...e, at } : e;
      default:
        return withChildren(e, kids);
    }
  });
}
