const INITIAL_RUNS = 4;

/**
 * The start timestamps (the OTLP `start_time_unix_nano`, Prometheus's "ST") of one series'
 * samples, run-length encoded by sample time: run i says every sample from `from[i]` up to the
 * next run's `from` has start time `st[i]`. A counter keeps one start time until it resets, so a
 * series usually needs one run per reset. 0 means "no start time", Prometheus's convention, and
 * is also what a sample before the first run reads.
 */
export class StartTimes {
  private from = new Float64Array(INITIAL_RUNS);
  private st = new Float64Array(INITIAL_RUNS);
  private count = 0;

  /** Number of runs; a series whose samples all read 0 needs none. */
  get runs(): number {
    return this.count;
  }

  /** Start time of the newest run, which a sample appended after all others would get for nothing. */
  get last(): number {
    return this.count === 0 ? 0 : this.st[this.count - 1]!;
  }

  /** Start time of the sample at time t. */
  at(t: number): number {
    const r = this.runAt(t);
    return r < 0 ? 0 : this.st[r]!;
  }

  /**
   * Writes the start times of the samples at times ts[0..n), which are in ascending order, to
   * out. Returns true when they all lie in one run (all have the same start time).
   */
  fill(ts: Float64Array, n: number, out: Float64Array): boolean {
    if (n === 0) return true;
    const first = this.runAt(ts[0]!);
    let r = first;
    let next = r + 1 < this.count ? this.from[r + 1]! : Infinity;
    let cur = r < 0 ? 0 : this.st[r]!;
    for (let k = 0; k < n; k++) {
      const t = ts[k]!;
      while (t >= next) {
        r++;
        cur = this.st[r]!;
        next = r + 1 < this.count ? this.from[r + 1]! : Infinity;
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
    const had = r < 0 ? 0 : this.st[r]!;
    if (had === st) return;
    if (nextT !== undefined && (r + 1 >= this.count || this.from[r + 1]! > nextT)) this.insert(r + 1, nextT, had);
    if (r >= 0 && this.from[r] === t) {
      this.st[r] = st;
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
    while (drop + 1 < this.count && this.from[drop + 1]! <= oldestT) drop++;
    if (drop > 0) {
      this.from.copyWithin(0, drop, this.count);
      this.st.copyWithin(0, drop, this.count);
      this.count -= drop;
    }
    return !(this.count === 0 || (this.count === 1 && this.st[0] === 0));
  }

  /** Bytes held, for self-metrics. */
  get byteLength(): number {
    return this.from.byteLength + this.st.byteLength;
  }

  /** Index of the run covering time t, -1 before the first. */
  private runAt(t: number): number {
    const n = this.count;
    if (n === 0 || t < this.from[0]!) return -1;
    if (t >= this.from[n - 1]!) return n - 1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.from[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private insert(at: number, from: number, st: number): void {
    if (this.count === this.from.length) {
      const grownFrom = new Float64Array(this.count * 2);
      const grownSt = new Float64Array(this.count * 2);
      grownFrom.set(this.from);
      grownSt.set(this.st);
      this.from = grownFrom;
      this.st = grownSt;
    }
    this.from.copyWithin(at + 1, at, this.count);
    this.st.copyWithin(at + 1, at, this.count);
    this.from[at] = from;
    this.st[at] = st;
    this.count++;
  }

  /** Keeps runs minimal: a run equal to its neighbour is one run. */
  private mergeAround(r: number): void {
    if (r + 1 < this.count && this.st[r + 1] === this.st[r]) this.remove(r + 1);
    if (r > 0 && this.st[r - 1] === this.st[r]) this.remove(r);
    else if (r === 0 && this.st[0] === 0) this.remove(0);
  }

  private remove(at: number): void {
    this.from.copyWithin(at, at + 1, this.count);
    this.st.copyWithin(at, at + 1, this.count);
    this.count--;
  }
}
