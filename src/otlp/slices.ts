import { SliceClock } from '../common/slice-clock.js';

/**
 * Long ingest work written as a generator: each `yield` marks a place where it may pause. The
 * scaler has one event loop, so a KEDA GetMetrics that arrives while a 2,000-point OTLP request
 * is being decoded and stored would otherwise wait for the whole request.
 */
export type Sliced<T> = Generator<void, T, void>;

/** Runs sliced work to its end without pausing (in-process callers, tests). */
export function runToEnd<T>(work: Sliced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs sliced work, handing the event loop back (through setImmediate, so pending I/O such as a
 * GetMetrics call is served first) each time it has run for `budgetMs`.
 */
export async function runInSlices<T>(work: Sliced<T>, budgetMs: number): Promise<T> {
  const clock = new SliceClock(budgetMs);
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    if (clock.spent) await clock.pause();
  }
}

/**
 * Runs async jobs one at a time in arrival order: requests paused between slices do not
 * interleave, so each is stored as a whole before the next begins, and only one decoded request
 * is held in memory at a time.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs nothing queued after this until `until` settles; resolves when it has (and everything before it ran). */
  hold(until: Promise<unknown>): Promise<void> {
    return this.run(() =>
      until.then(
        () => undefined,
        () => undefined,
      ),
    );
  }
}
