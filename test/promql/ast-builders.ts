import type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from '../../src/promql/ast.js';
import { Matcher } from '../../src/tsdb/matcher.js';

/** Hand-built AST nodes, so engine tests do not depend on the parser. */
const pos = { start: 0, end: 0 };

export function sel(name: string, labels: Record<string, string> = {}, extra: Partial<VectorSelector> = {}): VectorSelector {
  const matchers = [new Matcher('=', '__name__', name), ...Object.entries(labels).map(([k, v]) => new Matcher('=', k, v))];
  return { kind: 'VectorSelector', name, matchers, offsetMs: 0, at: undefined, pos, ...extra };
}

export function mat(vector: VectorSelector, rangeMs: number): MatrixSelector {
  return { kind: 'MatrixSelector', vector, rangeMs, pos };
}

export function subquery(expr: Expr, rangeMs: number, stepMs: number): SubqueryExpr {
  return { kind: 'SubqueryExpr', expr, rangeMs, stepMs, offsetMs: 0, at: undefined, pos };
}

export function num(value: number): NumberLiteral {
  return { kind: 'NumberLiteral', value, pos };
}

export function call(func: string, ...args: Expr[]): Call {
  return { kind: 'Call', func, args, pos };
}

export function agg(op: AggregateOp, expr: Expr, grouping: string[] = [], opts: Partial<AggregateExpr> = {}): AggregateExpr {
  return { kind: 'AggregateExpr', op, expr, param: undefined, grouping, without: false, pos, ...opts };
}

export function bin(op: BinaryOp, lhs: Expr, rhs: Expr, matching?: Partial<VectorMatching>, returnBool = false): BinaryExpr {
  const setOp = op === 'and' || op === 'or' || op === 'unless';
  const full: VectorMatching | undefined =
    matching === undefined && lhs.kind === 'NumberLiteral'
      ? undefined
      : { card: setOp ? 'many-to-many' : 'one-to-one', on: false, labels: [], include: [], ...matching };
  return { kind: 'BinaryExpr', op, lhs, rhs, matching: full, returnBool, pos };
}
