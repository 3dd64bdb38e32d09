/**
 * Extended range selectors: `anchored` and `smoothed` windows. An anchored window also holds the
 * last sample at or before its start, a smoothed one also the first sample after its end (the
 * engine reads a lookback delta beyond each edge); the value at an edge is that sample's
 * (anchored) or the line between the samples around the edge (smoothed).
 */

/** How a range window is read: plain, anchored or smoothed. */
export type WindowMode = 'plain' | 'anchored' | 'smoothed';

/** The window's samples (ts ascending) as the extended functions read them. */
export interface ExtendedWindow {
  ts: ArrayLike<number>;
  vs: ArrayLike<number>;
  n: number;
  /** Exclusive start and inclusive end of the range as written, after offset and `@`. */
  rangeStart: number;
  rangeEnd: number;
}

/** First index in [lo, hi) whose timestamp satisfies `pred`, or hi (timestamps ascend). */
export function searchFrom(ts: ArrayLike<number>, lo: number, hi: number, pred: (t: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(ts[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The line through two samples at time t; for a counter, a drop means it restarted from 0. */
export function interpolate(t1: number, v1: number, t2: number, v2: number, t: number, isCounter: boolean): number {
  const y1 = isCounter && v2 < v1 ? 0 : v1;
  return y1 + ((v2 - y1) * (t - t1)) / (t2 - t1);
}

interface Edges {
  first: number;
  last: number;
  left: number;
  right: number;
}

/** The samples standing for the window's edges, and the values at the edges; undefined when the window holds nothing after its start. */
function edges(w: ExtendedWindow, smoothed: boolean, isCounter: boolean): Edges | undefined {
  const { ts, vs } = w;
  let last = w.n - 1;
  if (last < 0) return undefined;
  const first = Math.max(0, searchFrom(ts, 0, last, (t) => t > w.rangeStart) - 1);
  if (smoothed) last = searchFrom(ts, 0, last, (t) => t >= w.rangeEnd);
  if (ts[last]! <= w.rangeStart) return undefined;
  if (smoothed && ts[first]! > w.rangeEnd) return undefined;
  const left =
    smoothed && ts[first]! < w.rangeStart ? interpolate(ts[first]!, vs[first]!, ts[first + 1]!, vs[first + 1]!, w.rangeStart, isCounter) : vs[first]!;
  const right =
    smoothed && last > 0 && ts[last]! > w.rangeEnd ? interpolate(ts[last - 1]!, vs[last - 1]!, ts[last]!, vs[last]!, w.rangeEnd, isCounter) : vs[last]!;
  return { first, last, left, right };
}

/** rate/increase/delta over an anchored or smoothed window: the difference between its edges, with counter resets between them added back. */
export function extendedDelta(w: ExtendedWindow, smoothed: boolean, isCounter: boolean, rateOverMs: number | undefined): number | undefined {
  const e = edges(w, smoothed, isCounter);
  if (e === undefined) return undefined;
  let result = e.right - e.left;
  if (isCounter) {
    let { first, last } = e;
    if (w.ts[first]! <= w.rangeStart) first++;
    if (w.ts[last]! >= w.rangeEnd) last--;
    let prev = e.left;
    for (let i = first; i <= last; i++) {
      const v = w.vs[i]!;
      if (v < prev) result += prev;
      prev = v;
    }
    if (e.right < prev) result += prev;
  }
  return rateOverMs === undefined ? result : result / (rateOverMs / 1000);
}

/**
 * Where changes() and resets() start in an anchored window: at the last sample at or before the
 * range start; undefined when no sample follows the start.
 */
export function anchoredStart(w: ExtendedWindow): number | undefined {
  const lastBefore = searchFrom(w.ts, 0, w.n, (t) => t > w.rangeStart) - 1;
  if (lastBefore + 1 >= w.n) return undefined;
  return Math.max(0, lastBefore);
}

/** A raw anchored or smoothed range: the inner samples between a point at each edge. */
export function extendPoints(w: ExtendedWindow, smoothed: boolean): { ts: number[]; vs: number[] } {
  const e = edges(w, smoothed, false);
  if (e === undefined) return { ts: [], vs: [] };
  let { first, last } = e;
  if (w.ts[first]! <= w.rangeStart) first++;
  if (w.ts[last]! >= w.rangeEnd) last--;
  const ts = [w.rangeStart];
  const vs = [e.left];
  for (let i = first; i <= last; i++) {
    ts.push(w.ts[i]!);
    vs.push(w.vs[i]!);
  }
  ts.push(w.rangeEnd);
  vs.push(e.right);
  return { ts, vs };
}

/**
 * A smoothed instant selector's value at time t from the samples within a lookback delta either
 * side: the sample at t, else the line between its neighbours, else the last one before it.
 */
export function smoothedAt(ts: ArrayLike<number>, vs: ArrayLike<number>, n: number, t: number): number | undefined {
  const i = searchFrom(ts, 0, n, (x) => x >= t);
  if (i < n && ts[i] === t) return vs[i]!;
  if (i > 0 && i < n) return interpolate(ts[i - 1]!, vs[i - 1]!, ts[i]!, vs[i]!, t, false);
  if (i > 0) return vs[i - 1]!;
  return undefined;
}
