import type { DurationExpr, Expr, PosRange } from '../ast.js';
import { EvalError } from '../errors.js';
import { arithmetic } from '../functions/operators.js';
import { fold, walk, withChildren } from './walk.js';

/** What step() and range() stand for in a duration expression: the query's step and end - start. */
export interface DurationContext {
  stepMs: number;
  rangeMs: number;
}

/** Largest duration in seconds that fits Prometheus's int64 nanoseconds. */
const MAX_SECONDS = 2 ** 63 / 1e9;

/** True when the expression reads step() or range(), so its value is known only when the query runs. */
export function dependsOnQuery(d: DurationExpr): boolean {
  switch (d.kind) {
    case 'DurationNumber':
      return false;
    case 'DurationCall':
      return true;
    case 'DurationUnary':
    case 'DurationParen':
      return dependsOnQuery(d.expr);
    case 'DurationBinary':
      return dependsOnQuery(d.lhs) || dependsOnQuery(d.rhs);
  }
}

function seconds(d: DurationExpr, ctx: DurationContext | undefined, fail: (pos: PosRange, cause: string) => never): number {
  switch (d.kind) {
    case 'DurationNumber':
      return d.seconds;
    case 'DurationCall':
      if (ctx === undefined) return fail(d.pos, `${d.func}() is only known when the query runs`);
      return (d.func === 'step' ? ctx.stepMs : ctx.rangeMs) / 1000;
    case 'DurationParen':
      return seconds(d.expr, ctx, fail);
    case 'DurationUnary': {
      const v = seconds(d.expr, ctx, fail);
      return d.op === '-' ? -v : v;
    }
    case 'DurationBinary': {
      const l = seconds(d.lhs, ctx, fail);
      const r = seconds(d.rhs, ctx, fail);
      if (r === 0 && d.op === '/') return fail(d.pos, 'division by zero');
      if (r === 0 && d.op === '%') return fail(d.pos, 'modulo by zero');
      if (d.op === 'min_of') return Math.min(l, r);
      if (d.op === 'max_of') return Math.max(l, r);
      return arithmetic(d.op, l, r);
    }
  }
}

/**
 * The value of a duration expression in ms, truncated to whole ms as Prometheus converts it.
 * Offsets may be negative or zero; ranges and steps must be positive.
 */
export function durationMs(d: DurationExpr, ctx: DurationContext | undefined, allowNegative: boolean, fail: (pos: PosRange, cause: string) => never): number {
  const s = seconds(d, ctx, fail);
  if (!Number.isFinite(s)) return fail(d.pos, 'duration is NaN or infinite');
  if (s <= 0 && !allowNegative) return fail(d.pos, 'duration must be greater than 0');
  if (Math.abs(s) > MAX_SECONDS) return fail(d.pos, 'duration is out of range');
  return Math.trunc(s * 1000) + 0;
}

function evalFail(pos: PosRange, cause: string): never {
  throw new EvalError(`${pos.start}:${pos.end}: ${cause}`);
}

/** Whether a tree has a duration that reads step() or range(), for the trees a caller evaluates again and again. */
const readsQueryDurations = new WeakMap<Expr, boolean>();

/**
 * The tree with every duration that depends on step() or range() computed for one query, as
 * Prometheus does before it evaluates. Returns the same tree when there is none.
 */
export function resolveDurations(expr: Expr, ctx: DurationContext): Expr {
  const dyn = (d: DurationExpr | undefined): d is DurationExpr => d !== undefined && dependsOnQuery(d);
  let known = readsQueryDurations.get(expr);
  if (known === undefined) {
    let found = false;
    walk(expr, undefined, (e) => {
      if (e.kind === 'VectorSelector') found ||= dyn(e.offsetExpr);
      else if (e.kind === 'MatrixSelector') found ||= dyn(e.rangeExpr);
      else if (e.kind === 'SubqueryExpr') found ||= dyn(e.rangeExpr) || dyn(e.stepExpr) || dyn(e.offsetExpr);
      return !found;
    });
    known = found;
    readsQueryDurations.set(expr, known);
  }
  if (!known) return expr;
  return fold<Expr>(expr, (node, kids) => {
    const e = withChildren(node, kids);
    switch (e.kind) {
      case 'VectorSelector':
        return dyn(e.offsetExpr) ? { ...e, offsetMs: durationMs(e.offsetExpr, ctx, true, evalFail) } : e;
      case 'MatrixSelector':
        return dyn(e.rangeExpr) ? { ...e, rangeMs: durationMs(e.rangeExpr, ctx, false, evalFail) } : e;
      case 'SubqueryExpr': {
        const rangeMs = dyn(e.rangeExpr) ? durationMs(e.rangeExpr, ctx, false, evalFail) : e.rangeMs;
        const stepMs = dyn(e.stepExpr) ? durationMs(e.stepExpr, ctx, false, evalFail) : e.stepMs;
        const offsetMs = dyn(e.offsetExpr) ? durationMs(e.offsetExpr, ctx, true, evalFail) : e.offsetMs;
        return rangeMs === e.rangeMs && stepMs === e.stepMs && offsetMs === e.offsetMs ? e : { ...e, rangeMs, stepMs, offsetMs };
      }
      default:
        return e;
    }
  });
}
