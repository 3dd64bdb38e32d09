import type { BinaryExpr, Expr } from '../ast.js';

/**
 * A node's operands in the order they are written: a range selector's vector selector, an
 * aggregation's parameter before its expression, a call's arguments.
 */
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'MatrixSelector':
      return [e.vector];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'AggregateExpr':
      return e.param === undefined ? [e.expr] : [e.param, e.expr];
    case 'Call':
      return e.args;
    case 'VectorSelector':
    case 'NumberLiteral':
    case 'StringLiteral':
      return [];
  }
}

/**
 * Visits every node, parents before children, operands in written order, with a value each
 * parent hands down (`down`; by default its own). `visit` returning false skips the node's
 * children. Iterative: a chain of thousands of operators needs no deeper stack than one.
 */
export function walk<C>(root: Expr, ctx: C, visit: (e: Expr, ctx: C) => boolean | void, down: (parent: Expr, ctx: C, child: Expr) => C = (_, c) => c): void {
  const stack: [Expr, C][] = [[root, ctx]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [e, c] = top;
    if (visit(e, c) === false) continue;
    const kids = children(e);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, down(e, c, kids[i]!)]);
  }
}

/**
 * Folds the tree bottom-up: `f` gets each node with the results of its children (in written
 * order). Iterative, like walk().
 */
export function fold<R>(root: Expr, f: (e: Expr, kids: R[]) => R): R {
  const pending: { e: Expr; kids: readonly Expr[]; done: R[] }[] = [{ e: root, kids: children(root), done: [] }];
  for (;;) {
    const top = pending[pending.length - 1]!;
    if (top.done.length < top.kids.length) {
      const next = top.kids[top.done.length]!;
      pending.push({ e: next, kids: children(next), done: [] });
      continue;
    }
    const r = f(top.e, top.done);
    pending.pop();
    const parent = pending[pending.length - 1];
    if (parent === undefined) return r;
    parent.done.push(r);
  }
}

/**
 * A left-associative chain `a + b - c`, outermost operator first: walkers that need a node's
 * operands done before the node go up this list in a loop instead of recursing down its lhs.
 */
export function leftSpine(e: BinaryExpr): BinaryExpr[] {
  const spine = [e];
  for (let l = e.lhs; l.kind === 'BinaryExpr'; l = l.lhs) spine.push(l);
  return spine;
}

/** The node with its children replaced (in children()'s order); the node itself when none changed. */
export function withChildren(e: Expr, kids: readonly Expr[]): Expr {
  const old = children(e);
  if (kids.every((k, i) => k === old[i])) return e;
  switch (e.kind) {
    case 'MatrixSelector':
      return kids[0]!.kind === 'VectorSelector' ? { ...e, vector: kids[0] } : e;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return { ...e, expr: kids[0]! };
    case 'BinaryExpr':
      return { ...e, lhs: kids[0]!, rhs: kids[1]! };
    case 'AggregateExpr':
      return e.param === undefined ? { ...e, expr: kids[0]! } : { ...e, param: kids[0], expr: kids[1]! };
    case 'Call':
      return { ...e, args: [...kids] };
    default:
      return e;
  }
}
