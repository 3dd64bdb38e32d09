import type { AtModifier, Expr } from '../ast.js';
import { functionNamed } from '../functions/table.js';
import { fold } from './walk.js';

/**
 * Prepares a parsed query for one evaluation, as Prometheus's engine does before it runs a query:
 * `@ start()` / `@ end()` become fixed times, the largest subtrees whose value is the same at every
 * step (those under `@`, and literals combined with them) are wrapped in StepInvariantExpr so a
 * range query evaluates them once, and parentheses around function and aggregation arguments are
 * dropped. Returns a new tree; the parsed one (which callers cache) is left as it was.
 */
export function preprocessExpr(expr: Expr, startMs: number, endMs: number): Expr {
  const p = new Preprocessor(startMs, endMs);
  const r = fold<Visited>(expr, (e, kids) => p.visit(e, kids));
  return r.wrap ? invariant(r.expr) : r.expr;
}

interface Visited {
  expr: Expr;
  /** The subtree's value is the same at every step. */
  invariant: boolean;
  /** Worth wrapping: invariant and not a bare literal or range (which cost nothing per step). */
  wrap: boolean;
}

function invariant(e: Expr): Expr {
  return { kind: 'StepInvariantExpr', expr: e, pos: e.pos };
}

function unparen(e: Expr): Expr {
  while (e.kind === 'ParenExpr') e = e.expr;
  return e;
}

/** A visited argument without the parentheses around it (they carry their inner node's flags). */
function unparenVisited(v: Visited): Visited {
  return { ...v, expr: unparen(v.expr) };
}

class Preprocessor {
  constructor(
    private readonly startMs: number,
    private readonly endMs: number,
  ) {}

  private resolve(at: AtModifier | undefined): AtModifier | undefined {
    if (at?.kind === 'start') return { kind: 'time', ms: this.startMs };
    if (at?.kind === 'end') return { kind: 'time', ms: this.endMs };
    return at;
  }

  /** A node, given its children visited (children()'s order). */
  visit(e: Expr, kids: Visited[]): Visited {
    switch (e.kind) {
      case 'VectorSelector': {
        const at = this.resolve(e.at);
        return { expr: at === e.at ? e : { ...e, at }, invariant: at !== undefined, wrap: at !== undefined };
      }
      case 'MatrixSelector': {
        const v = kids[0]!;
        const vector = v.expr.kind === 'VectorSelector' ? v.expr : e.vector;
        return { expr: { ...e, vector }, invariant: v.invariant, wrap: false };
      }
      case 'SubqueryExpr': {
        const inner = kids[0]!;
        const at = this.resolve(e.at);
        const expr = inner.invariant ? invariant(inner.expr) : inner.expr;
        return { expr: { ...e, expr, at }, invariant: at !== undefined, wrap: false };
      }
      case 'AggregateExpr': {
        const body = unparenVisited(kids[kids.length - 1]!);
        const param = e.param === undefined ? undefined : unparen(e.param);
        return { expr: { ...e, expr: body.expr, param }, invariant: body.invariant, wrap: body.wrap };
      }
      case 'BinaryExpr': {
        const [l, r] = kids as [Visited, Visited];
        if (l.invariant && r.invariant) return { expr: { ...e, lhs: l.expr, rhs: r.expr }, invariant: true, wrap: true };
        const lhs = l.wrap ? invariant(l.expr) : l.expr;
        const rhs = r.wrap ? invariant(r.expr) : r.expr;
        return { expr: { ...e, lhs, rhs }, invariant: false, wrap: false };
      }
      case 'Call': {
        const args = kids.map(unparenVisited);
        const all = args.every((a) => a.invariant);
        const timestampOfSelector = e.func === 'timestamp' && args.length > 0 && args.every((a) => a.invariant && a.expr.kind === 'VectorSelector');
        if ((all && functionNamed(e.func)?.timeDependent !== true) || timestampOfSelector) {
          return { expr: { ...e, args: args.map((a) => a.expr) }, invariant: true, wrap: true };
        }
        return { expr: { ...e, args: args.map((a) => (a.wrap ? invariant(a.expr) : a.expr)) }, invariant: false, wrap: false };
      }
      case 'ParenExpr':
      case 'UnaryExpr': {
        const inner = kids[0]!;
        return { ...inner, expr: { ...e, expr: inner.expr } };
      }
      case 'StepInvariantExpr':
        return kids[0]!;
      case 'NumberLiteral':
      case 'StringLiteral':
        return { expr: e, invariant: true, wrap: false };
    }
  }
}
