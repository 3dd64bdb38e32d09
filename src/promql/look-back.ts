import type { AtModifier, Expr, VectorSelector } from './ast.js';
import { resolveDurations } from './durations.js';
import { infoTimeSource } from './info-function.js';

/**
 * How far back in time an instant query reads, so a caller can tell whether the store holds all
 * of it. Reads relative to the evaluation time and reads pinned by `@ <time>` are kept apart:
 * the first move with the clock, the second do not.
 */
export interface LookBack {
  /** The query reads samples after (evaluation time - relativeMs); undefined when it reads nothing relative to it. */
  readonly relativeMs: number | undefined;
  /** The earliest time read through a fixed `@`; undefined when there is none. */
  readonly fixedFromMs: number | undefined;
}

/** Where a subtree is evaluated: `back` ms before the query's evaluation time, or at a fixed time. */
type Anchor = { back: number } | { at: number };

/**
 * The look-back of an instant query: the largest window (range, plus the lookback delta for an
 * instant selector or an anchored/smoothed range) shifted by offsets, with subquery ranges adding
 * up as they nest, because each of a subquery's steps reads its own window. `@ start()` and
 * `@ end()` are the evaluation time; `@ <time>` pins what is under it to that time.
 */
export function lookBackOf(expr: Expr, lookbackDeltaMs: number): LookBack {
  let relativeMs: number | undefined;
  let fixedFromMs: number | undefined;
  const read = (anchor: Anchor, reach: number): void => {
    if ('at' in anchor) fixedFromMs = Math.min(fixedFromMs ?? Infinity, anchor.at - reach);
    else relativeMs = Math.max(relativeMs ?? -Infinity, anchor.back + reach);
  };
  /** The anchor of what sits under an `@` and offset, given the anchor of the node carrying them. */
  const shift = (anchor: Anchor, at: AtModifier | undefined, offsetMs: number): Anchor => {
    if (at === undefined) return 'at' in anchor ? { at: anchor.at - offsetMs } : { back: anchor.back + offsetMs };
    if (at.kind === 'time') return { at: at.ms - offsetMs };
    return { back: offsetMs };
  };
  const instant = (vs: VectorSelector, anchor: Anchor): void => read(shift(anchor, vs.at, vs.offsetMs), lookbackDeltaMs);
  const walk = (e: Expr, anchor: Anchor): void => {
    switch (e.kind) {
      case 'NumberLiteral':
      case 'StringLiteral':
        return;
      case 'VectorSelector':
        return instant(e, anchor);
      case 'MatrixSelector': {
        const extended = e.vector.anchored === true || e.vector.smoothed === true;
        return read(shift(anchor, e.vector.at, e.vector.offsetMs), e.rangeMs + (extended ? lookbackDeltaMs : 0));
      }
      case 'SubqueryExpr': {
        const end = shift(anchor, e.at, e.offsetMs);
        return walk(e.expr, 'at' in end ? { at: end.at - e.rangeMs } : { back: end.back + e.rangeMs });
      }
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return walk(e.expr, anchor);
      case 'BinaryExpr':
        walk(e.lhs, anchor);
        return walk(e.rhs, anchor);
      case 'AggregateExpr':
        walk(e.expr, anchor);
        if (e.param !== undefined) walk(e.param, anchor);
        return;
      case 'Call':
        for (const a of e.args) walk(a, anchor);
        if (e.func === 'info') {
          // info() also reads the info series (target_info by default) with a lookback delta, at its argument's time.
          const time = infoTimeSource(e.args[0]!);
          read(shift(anchor, time?.at, time?.offsetMs ?? 0), lookbackDeltaMs);
        }
        return;
    }
  };
  let resolved: Expr;
  try {
    resolved = resolveDurations(expr, { stepMs: 0, rangeMs: 0 });
  } catch {
    // A duration that cannot be resolved for an instant query fails the evaluation too, which says why.
    return { relativeMs: undefined, fixedFromMs: undefined };
  }
  walk(resolved, { back: 0 });
  return { relativeMs, fixedFromMs };
}

/** The earliest time an evaluation at `evalMs` reads; undefined when it reads no samples. */
export function earliestRead(lb: LookBack, evalMs: number): number | undefined {
  if (lb.relativeMs === undefined) return lb.fixedFromMs;
  const relative = evalMs - lb.relativeMs;
  return lb.fixedFromMs === undefined ? relative : Math.min(relative, lb.fixedFromMs);
}
