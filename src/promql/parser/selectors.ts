import { METRIC_NAME } from '../../tsdb/labels.js';
import type { AtModifier, Expr, SubqueryExpr, VectorSelector } from '../ast.js';
import { functionNamed } from '../functions/table.js';
import { walk } from './walk.js';

/** Metric names a query reads (for the scaler's ingest-driven re-evaluation and lazy mode). */
export function metricNamesOf(expr: Expr): string[] {
  const names = new Set<string>();
  walk(expr, undefined, (e) => {
    if (e.kind !== 'VectorSelector') return;
    if (e.name !== '') names.add(e.name);
    for (const m of e.matchers) if (m.name === METRIC_NAME && m.type === '=' && m.value !== '') names.add(m.value);
  });
  return [...names].sort();
}

/** Aggregations whose result does not depend on the order of their input series. */
const ORDER_FREE_AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'quantile']);

/**
 * Selectors whose series order cannot show in the result (they feed only order-free
 * aggregations), so selection can skip sorting them by labels.
 */
export function orderFreeSelectors(expr: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  const down = (parent: Expr, free: boolean, child: Expr): boolean => {
    switch (parent.kind) {
      case 'AggregateExpr':
        if (child === parent.param) return false;
        return ORDER_FREE_AGGREGATIONS.has(parent.op) || (free && parent.op === 'count_values');
      case 'Call':
        // Everything but sorting and label rewriting maps series one to one.
        return free && functionNamed(parent.func)?.keepsOrder !== true;
      case 'BinaryExpr':
        // Errors about duplicate series name them in order; keep that stable.
        return false;
      default:
        return free;
    }
  };
  walk(
    expr,
    false,
    (e, free) => {
      if (e.kind === 'VectorSelector' && free) out.add(e);
    },
    down,
  );
  return out;
}

/** Where a selector is read: its `@` and offset, and those of the subqueries around it. */
export interface ReadTime {
  at: AtModifier | undefined;
  offsetMs: number;
}

/**
 * The time info() reads its info series at: that of the first selector in its argument, written
 * order, shifted by the subqueries around it until one of them (or the selector) has an `@`.
 */
export function infoTimeSource(expr: Expr): ReadTime | undefined {
  let found: ReadTime | undefined;
  const enclosing: SubqueryExpr[] = [];
  walk(
    expr,
    enclosing,
    (e, around) => {
      if (found !== undefined) return false;
      if (e.kind !== 'VectorSelector') return;
      let t: ReadTime = { at: e.at, offsetMs: e.offsetMs };
      for (let i = around.length - 1; i >= 0 && t.at === undefined; i--) t = { at: around[i]!.at, offsetMs: t.offsetMs + around[i]!.offsetMs };
      found = t;
      return false;
    },
    (parent, around) => (parent.kind === 'SubqueryExpr' ? [...around, parent] : around),
  );
  return found;
}
