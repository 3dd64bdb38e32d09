import { labelsGet, METRIC_NAME, type Labels } from './labels.js';
import { StartTimes } from './start-times.js';

const INITIAL_CAPACITY = 8;

/** What happened to one appended sample. */
export const enum AppendStatus {
  Ok,
  /** A sample with the same timestamp was there; the new value replaced it. */
  Duplicate,
  /** Older than the series' newest sample by more than the out-of-order window; dropped. */
  OutOfOrder,
  /** Older than retention; dropped. */
  TooOld,
}

/**
 * One series' samples in time order, in a ring buffer of typed arrays that grows by doubling up
 * to `maxCapacity` and then overwrites its oldest sample. Staleness markers get a flag of their
 * own because V8 does not promise to keep a NaN's payload bits, so Prometheus's StaleNaN value
 * could not be told from an ordinary NaN after a round trip through a Float64Array.
 */
export class Series {
  /** The series' metric name, kept apart because ingest notifications use it on every append. */
  readonly metricName: string;
  /**
   * Timestamps in [0, cap), values in [cap, 2 cap): one typed array rather than two halves the
   * per-series cost of the buffer objects (each typed array is two heap objects and a backing
   * store), and a window's values lie together for range functions that read only them.
   */
  private data: Float64Array;
  private cap: number;
  private stale: Uint8Array | undefined;
  private head = 0;
  private len = 0;
  /** Only series that ever received a start time have one. */
  private starts: StartTimes | undefined;
  /** False once the database has freed the series; holders of a cached reference must look it up again. */
  live = true;

  constructor(
    readonly id: number,
    readonly labels: Labels,
    readonly aliasName: string | undefined,
    private readonly maxCapacity: number,
    /** Samples the series is known to receive soon (a bulk load): the buffer is sized for them at once. */
    expectedSamples = INITIAL_CAPACITY,
  ) {
    this.metricName = labelsGet(labels, METRIC_NAME);
    const capacity = Math.min(Math.max(expectedSamples, 1), maxCapacity);
    this.cap = capacity;
    this.data = new Float64Array(2 * capacity);
  }

  get length(): number {
    return this.len;
  }

  private phys(i: number): number {
    const p = this.head + i;
    return p >= this.cap ? p - this.cap : p;
  }

  timestampAt(i: number): number {
    return this.data[this.phys(i)]!;
  }

  valueAt(i: number): number {
    return this.data[this.cap + this.phys(i)]!;
  }

  isStaleAt(i: number): boolean {
    return this.stale !== undefined && this.stale[this.phys(i)] === 1;
  }

  /** Timestamp of the newest sample, -Infinity when empty. */
  get maxTime(): number {
    return this.len === 0 ? -Infinity : this.timestampAt(this.len - 1);
  }

  /** First index whose timestamp is >= t, or length. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose timestamp is > t, or length. */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds a sample. In-order samples are the fast path; a sample up to `outOfOrderWindowMs` older
   * than the newest is inserted at its place; an equal timestamp overwrites.
   */
  append(t: number, v: number, isStale: boolean, outOfOrderWindowMs: number): AppendStatus {
    const newest = this.maxTime;
    if (t > newest) {
      this.push(t, v, isStale);
      return AppendStatus.Ok;
    }
    if (t === newest) {
      this.write(this.phys(this.len - 1), t, v, isStale);
      return AppendStatus.Duplicate;
    }
    if (newest - t > outOfOrderWindowMs) return AppendStatus.OutOfOrder;
    const at = this.lowerBound(t);
    if (this.timestampAt(at) === t) {
      this.write(this.phys(at), t, v, isStale);
      return AppendStatus.Duplicate;
    }
    if (at === 0 && this.len === this.maxCapacity) return AppendStatus.OutOfOrder;
    this.insert(at, t, v, isStale);
    return AppendStatus.Ok;
  }

  /** append() with the sample's start time in ms (0: none). */
  appendWithStart(t: number, v: number, isStale: boolean, outOfOrderWindowMs: number, st: number): AppendStatus {
    const status = this.append(t, v, isStale, outOfOrderWindowMs);
    if (status !== AppendStatus.OutOfOrder && (st !== 0 || this.starts !== undefined)) this.recordStart(t, st);
    return status;
  }

  /** True when some sample carries a start time; startTimeAt() is 0 everywhere otherwise. */
  get hasStartTimes(): boolean {
    return this.starts !== undefined;
  }

  /** Start time in ms of sample i, 0 when it has none. */
  startTimeAt(i: number): number {
    return this.starts === undefined ? 0 : this.starts.at(this.timestampAt(i));
  }

  /** Start times of this series' samples at times ts[0..n) (ascending), written to out; true when all are the same. */
  startTimesFor(ts: Float64Array, n: number, out: Float64Array): boolean {
    if (this.starts !== undefined) return this.starts.fill(ts, n, out);
    out.fill(0, 0, n);
    return true;
  }

  /**
   * Copies the non-stale samples with from < t <= to into `ts` and `vs` (each at least `length`
   * long) and returns how many. Range queries read every series this way, so it works on the
   * ring directly rather than through timestampAt (a call and an index wrap a sample), and the
   * window end of a query at "now" is found without a search. With `endsOnly`, only the first and
   * last timestamps are written (ts[0], ts[n - 1]): rate() reads no other, and skipping the rest
   * halves what a long window reads from memory.
   */
  copyWindow(from: number, to: number, ts: Float64Array, vs: Float64Array, endsOnly = false): number {
    const len = this.len;
    if (len === 0) return 0;
    const hi = this.timestampAt(len - 1) <= to ? len : this.upperBound(to);
    const cap = this.cap;
    const head = this.head;
    const data = this.data;
    let lo = 0;
    let top = hi;
    while (lo < top) {
      const mid = (lo + top) >>> 1;
      const p = head + mid;
      if (data[p >= cap ? p - cap : p]! <= from) lo = mid + 1;
      else top = mid;
    }
    const stale = this.stale;
    let p = head + lo;
    if (p >= cap) p -= cap;
    let n = 0;
    if (stale === undefined && endsOnly) {
      if (hi === lo) return 0;
      ts[0] = data[p]!;
      for (let i = lo; i < hi; i++) {
        vs[n++] = data[cap + p]!;
        if (++p === cap) p = 0;
      }
      ts[n - 1] = this.timestampAt(hi - 1);
      return n;
    }
    for (let i = lo; i < hi; i++) {
      if (stale === undefined || stale[p] === 0) {
        ts[n] = data[p]!;
        vs[n++] = data[cap + p]!;
      }
      if (++p === cap) p = 0;
    }
    return n;
  }

  /** Drops samples older than minT; returns how many remain. */
  trimBefore(minT: number): number {
    const drop = this.lowerBound(minT);
    if (drop > 0) {
      this.head = this.phys(drop);
      this.len -= drop;
      if (this.len === 0) this.head = 0;
      this.trimStarts();
    }
    return this.len;
  }

  /** Approximate bytes held by the sample buffers, for self-metrics. */
  get bufferBytes(): number {
    return this.data.byteLength + (this.stale?.byteLength ?? 0) + (this.starts?.byteLength ?? 0);
  }

  private recordStart(t: number, st: number): void {
    this.starts ??= new StartTimes();
    const newest = t === this.maxTime;
    if (newest && this.starts.last === st) {
      // The steady state: the newest sample continues the newest run. Only a full ring buffer
      // evicts, and only extra runs or a run of unknown starts are worth trimming then.
      if (this.len === this.maxCapacity && (this.starts.runs > 1 || st === 0)) this.trimStarts();
      return;
    }
    let nextT: number | undefined;
    if (!newest) {
      const at = this.lowerBound(t);
      if (at + 1 < this.len) nextT = this.timestampAt(at + 1);
    }
    this.starts.set(t, st, nextT);
    this.trimStarts();
  }

  /** Runs of evicted or trimmed samples go; so does the whole record once no sample has a start time. */
  private trimStarts(): void {
    if (this.starts !== undefined && (this.len === 0 || !this.starts.trimBefore(this.timestampAt(0)))) this.starts = undefined;
  }

  private push(t: number, v: number, isStale: boolean): void {
    if (this.len === this.cap) {
      if (this.len < this.maxCapacity) {
        this.grow();
      } else {
        this.head = this.phys(1);
        this.len--;
      }
    }
    this.write(this.phys(this.len), t, v, isStale);
    this.len++;
  }

  private insert(at: number, t: number, v: number, isStale: boolean): void {
    if (this.len === this.cap && this.len < this.maxCapacity) this.grow();
    if (this.len === this.cap) {
      // Full at maximum size: the oldest sample makes room, so everything before `at` moves down one.
      this.head = this.phys(1);
      this.len--;
      at--;
    }
    for (let i = this.len; i > at; i--) {
      const to = this.phys(i);
      const from = this.phys(i - 1);
      this.data[to] = this.data[from]!;
      this.data[this.cap + to] = this.data[this.cap + from]!;
      if (this.stale) this.stale[to] = this.stale[from]!;
    }
    this.write(this.phys(at), t, v, isStale);
    this.len++;
  }

  private write(p: number, t: number, v: number, isStale: boolean): void {
    this.data[p] = t;
    this.data[this.cap + p] = v;
    if (isStale) {
      this.stale ??= new Uint8Array(this.cap);
      this.stale[p] = 1;
    } else if (this.stale) {
      this.stale[p] = 0;
    }
  }

  private grow(): void {
    const capacity = Math.min(this.cap * 2, this.maxCapacity);
    const data = new Float64Array(2 * capacity);
    const stale = this.stale ? new Uint8Array(capacity) : undefined;
    for (let i = 0; i < this.len; i++) {
      const p = this.phys(i);
      data[i] = this.data[p]!;
      data[capacity + i] = this.data[this.cap + p]!;
      if (stale) stale[i] = this.stale![p]!;
    }
    this.data = data;
    this.cap = capacity;
    this.stale = stale;
    this.head = 0;
  }
}
