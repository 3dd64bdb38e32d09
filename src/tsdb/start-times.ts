/**
 * The start timestamps (the OTLP `start_time_unix_nano`, Prometheus's "ST") of one series'
 * samples, run-length encoded by sample time: run i says every sample from its `from` up to the
 * next run's `from` has start time `st`. A counter keeps one start time until it resets, so a
 * series usually needs one run per reset. 0 means "no start time", Prometheus's convention, and
 * is also what a sample before the first run reads.
 *
 * The runs are one plain array of (from, st) pairs, allocated at its exact size: a counter that
 * never resets holds two numbers. Two Float64Arrays, as this was before, cost about 500 bytes a
 * series in typed-array objects and backing stores for those same two numbers.
 */
export class StartTimes {
  private pairs: number[] = [];

  /** Number of runs; a series whose samples all read 0 needs none. */
  get runs(): number {
    return this.pairs.length >>> 1;
  }

  /** Start time of the newest run, which a sample appended after all others would get for nothing. */
  get last(): number {
    return this.pairs.length === 0 ? 0 : this.pairs[this.pairs.length - 1]!;
  }

  /** Start time of the sample at time t. */
  at(t: number): number {
    const r = this.runAt(t);
    return r < 0 ? 0 : this.st(r);
  }

  /**
   * Writes the start times of the samples at times ts[0..n), which are in ascending order, to
   * out. Returns true when they all lie in one run (all have the same start time).
   */
  fill(ts: Float64Array, n: number, out: Float64Array): boolean {
    if (n === 0) return true;
    const count = this.runs;
    const first = this.runAt(ts[0]!);
    let r = first;
    let next = r + 1 < count ? this.from(r + 1) : Infinity;
    let cur = r < 0 ? 0 : this.st(r);
    for (let k = 0; k < n; k++) {
      const t = ts[k]!;
      while (t >= next) {
        r++;
        cur = this.st(r);
        next = r + 1 < count ? this.from(r + 1) : Infinity;
      }
      out[k] = cur;
    }
    return r === first;
  }

  /**
   * Gives the sample at time t the start time st. `nextT` is the time of the series' next sample
   * (undefined when t is the newest), which keeps the start time it had.
   */
  set(t: number, st: number, nextT: number | undefined): void {
    const r = this.runAt(t);
    const had = r < 0 ? 0 : this.st(r);
    if (had === st) return;
    if (nextT !== undefined && (r + 1 >= this.runs || this.from(r + 1) > nextT)) this.insert(r + 1, nextT, had);
    if (r >= 0 && this.from(r) === t) {
      this.pairs[2 * r + 1] = st;
      this.mergeAround(r);
    } else {
      this.insert(r + 1, t, st);
      this.mergeAround(r + 1);
    }
  }

  /**
   * Forgets runs that only cover samples older than `oldestT`, the series' oldest remaining
   * sample. Returns false when no run is left that says anything (all remaining samples read 0).
   */
  trimBefore(oldestT: number): boolean {
    let drop = 0;
    while (drop + 1 < this.runs && this.from(drop + 1) <= oldestT) drop++;
    if (drop > 0) this.pairs = this.pairs.slice(2 * drop);
    return !(this.runs === 0 || (this.runs === 1 && this.st(0) === 0));
  }

  /** Bytes held, for self-metrics: the pairs and the array holding them. */
  get byteLength(): number {
    return 8 * this.pairs.length + ARRAY_OVERHEAD_BYTES;
  }

  private from(r: number): number {
    return this.pairs[2 * r]!;
  }

  private st(r: number): number {
    return this.pairs[2 * r + 1]!;
  }

  /** Index of the run covering time t, -1 before the first. */
  private runAt(t: number): number {
    const n = this.runs;
    if (n === 0 || t < this.from(0)) return -1;
    if (t >= this.from(n - 1)) return n - 1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.from(mid) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private insert(at: number, from: number, st: number): void {
    // A literal is allocated at its size; splice into an empty array would leave room for 16 more.
    if (this.pairs.length === 0) this.pairs = [from, st];
    else this.pairs.splice(2 * at, 0, from, st);
  }

  /** Keeps runs minimal: a run equal to its neighbour is one run. */
  private mergeAround(r: number): void {
    if (r + 1 < this.runs && this.st(r + 1) === this.st(r)) this.remove(r + 1);
    if (r > 0 && this.st(r - 1) === this.st(r)) this.remove(r);
    else if (r === 0 && this.st(0) === 0) this.remove(0);
  }

  private remove(at: number): void {
    this.pairs.splice(2 * at, 2);
  }
}

/** A JS array's object and its elements' header, roughly, on 64-bit V8. */
const ARRAY_OVERHEAD_BYTES = 48;
