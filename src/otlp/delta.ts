import type { Series } from '../tsdb/series.js';

interface Running {
  /** End time of the last point added. */
  lastMs: number;
  total: number;
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
 */
export class DeltaAccumulator {
  private readonly runs = new WeakMap<Series, Running>();
  private result = 0;

  /** Adds a point; on Added or Repeated, `total` is the cumulative value to store. */
  add(series: Series, startMs: number, timeMs: number, delta: number): DeltaOutcome {
    const run = this.runs.get(series);
    if (run !== undefined) {
      if (timeMs === run.lastMs) {
        this.result = run.total;
        return DeltaOutcome.Repeated;
      }
      if (timeMs < run.lastMs) return DeltaOutcome.OutOfOrder;
      if (startMs === 0 || startMs >= run.lastMs) {
        run.total += delta;
        run.lastMs = timeMs;
        this.result = run.total;
        return DeltaOutcome.Added;
      }
    }
    this.runs.set(series, { lastMs: timeMs, total: delta });
    this.result = delta;
    return DeltaOutcome.Added;
  }

  /** The cumulative value after the last `add`. */
  get total(): number {
    return this.result;
  }

  /** The series ended (NoRecordedValue): a later point starts from zero. */
  end(series: Series): void {
    this.runs.delete(series);
  }
}
