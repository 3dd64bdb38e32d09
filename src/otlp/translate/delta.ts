import type { Series } from '../../tsdb/series.js';

/** One series' running total; also what a snapshot keeps of it. */
export interface Running<T = number> {
  /** End time of the last point added. */
  lastMs: number;
  total: T;
  /** Start time of the running total, stored as its samples' start time (0: unknown). */
  startMs: number;
  /** Start time of the last point added; undefined after a restore, where snapshots do not keep it. */
  lastStartMs?: number;
}

/** What happened to one delta point. */
export const enum DeltaOutcome {
  Added,
  /** The same interval again (an exporter retry): the total is unchanged. */
  Repeated,
  /** Ends before the last point added: it cannot be placed in the running total. */
  OutOfOrder,
}

/**
 * Delta → cumulative, per series, as Prometheus's storage needs cumulative counters. Points that
 * start at or after the end of the last one added are summed: gaps are normal (the OpenTelemetry
 * JS SDK starts a delta point at its first measurement, and sends nothing for idle intervals), and
 * a restarted producer keeps adding to the same total, which is what its deltas mean. A point
 * that starts before the end of the last one overlaps what was already counted, so it cannot
 * continue that run: it starts a new one, which a query sees as a counter reset. The state hangs
 * off the Series object, so it is freed with the series when retention drops it.
 *
 * Each total has a start time for its samples: the start of the run's first point. A run that
 * replaces an overlapped one starts just after the last sample of the old run, so its start time
 * marks the reset even when the new total is larger than the old one.
 *
 * Totals are numbers for sums and native histograms for exponential histograms: `plus` adds two.
 */
export class DeltaAccumulator<T = number> {
  private readonly runs = new WeakMap<Series, Running<T>>();
  private result: T;
  private resultStart = 0;

  constructor(
    private readonly plus: (a: T, b: T) => T,
    zero: T,
  ) {
    this.result = zero;
  }

  /** Adds a point; on Added or Repeated, `total` is the cumulative value to store. */
  add(series: Series, startMs: number, timeMs: number, delta: T): DeltaOutcome {
    const run = this.runs.get(series);
    let runStart = startMs;
    if (run !== undefined) {
      // Times are whole milliseconds, so two flushes within one millisecond end at the same time;
      // only an equal start as well makes it the same interval sent again.
      if (timeMs === run.lastMs && (run.lastStartMs === undefined || startMs === run.lastStartMs || startMs < run.lastMs)) {
        this.result = run.total;
        this.resultStart = run.startMs;
        return DeltaOutcome.Repeated;
      }
      if (timeMs < run.lastMs) return DeltaOutcome.OutOfOrder;
      if (startMs === 0 || startMs >= run.lastMs) {
        run.total = this.plus(run.total, delta);
        run.lastMs = timeMs;
        run.lastStartMs = startMs;
        this.result = run.total;
        this.resultStart = run.startMs;
        return DeltaOutcome.Added;
      }
      runStart = run.lastMs + 1;
    }
    this.runs.set(series, { lastMs: timeMs, total: delta, startMs: runStart, lastStartMs: startMs });
    this.result = delta;
    this.resultStart = runStart;
    return DeltaOutcome.Added;
  }

  /** Whether `add` would place a point ending at `timeMs` (not OutOfOrder), without adding it. */
  accepts(series: Series, timeMs: number): boolean {
    const run = this.runs.get(series);
    return run === undefined || timeMs >= run.lastMs;
  }

  /** The cumulative value after the last `add`. */
  get total(): T {
    return this.result;
  }

  /** The start time (ms, 0 unknown) of the cumulative value after the last `add`. */
  get start(): number {
    return this.resultStart;
  }

  /** A copy of the series' running total, undefined when it has none (for snapshots). */
  runOf(series: Series): Running<T> | undefined {
    const run = this.runs.get(series);
    return run === undefined ? undefined : { lastMs: run.lastMs, total: run.total, startMs: run.startMs };
  }

  /** Continues a running total from a snapshot. */
  restoreRun(series: Series, run: Running<T>): void {
    this.runs.set(series, { ...run });
  }

  /** The series ended (NoRecordedValue): a later point starts from zero. */
  end(series: Series): void {
    this.runs.delete(series);
  }
}
