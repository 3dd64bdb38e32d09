import type { AtModifier, Expr, VectorSelector } from '../ast.js';
import { resolveDurations } from './durations.js';
import { infoTimeSource } from './selectors.js';
import { walk } from './walk.js';

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
  const visit = (e: Expr, anchor: Anchor): boolean => {
    switch (e.kind) {
      case 'VectorSelector':
        instant(e, anchor);
        return true;
      case 'MatrixSelector': {
        const extended = e.vector.anchored === true || e.vector.smoothed === true;
        read(shift(anchor, e.vector.at, e.vector.offsetMs), e.rangeMs + (extended ? lookbackDeltaMs : 0));
        return false;
      }
      case 'Call':
        if (e.func === 'info') {
          // info() also reads the info series (target_info by default) with a lookback delta, at its argument's time.
          const time = infoTimeSource(e.args[0]!);
          read(shift(anchor, time?.at, time?.offsetMs ?? 0), lookbackDeltaMs);
        }
        return true;
      default:
        return true;
    }
  };
  /** A subquery's steps reach back its range from where it is evaluated. */
  const down = (parent: Expr, anchor: Anchor): Anchor => {
    if (parent.kind !== 'SubqueryExpr') return anchor;
    const end = shift(anchor, parent.at, parent.offsetMs);
    return 'at' in end ? { at: end.at - parent.rangeMs } : { back: end.back + parent.rangeMs };
  };
  let resolved: Expr;
  try {
    resolved = resolveDurations(expr, { stepMs: 0, rangeMs: 0 });
  } catch {
    // A duration that cannot be resolved for an instant query fails the evaluation too, which says why.
    return { relativeMs: undefined, fixedFromMs: undefined };
  }
  walk(resolved, { back: 0 } as Anchor, visit, down);
  return { relativeMs, fixedFromMs };
}

/** The earliest time an evaluation at `evalMs` reads; undefined when it reads no samples. */
export function earliestRead(lb: LookBack, evalMs: number): number | undefined {
  if (lb.relativeMs === undefined) return lb.fixedFromMs;
  const relative = evalMs - lb.relativeMs;
  return lb.fixedFromMs === undefined ? relative : Math.min(relative, lb.fixedFromMs);
}
