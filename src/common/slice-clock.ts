import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Times long work in slices on the one event loop: `spent` says when the current slice is over,
 * `pause()` hands the loop back through setImmediate (so pending I/O, such as a KEDA call, goes
 * first) and starts the next slice. Ingest, stream evaluation, snapshot writing and JSON answers
 * all pace themselves with it.
 */
export class SliceClock {
  private deadline: number;

  constructor(private readonly sliceMs: number) {
    this.deadline = performance.now() + sliceMs;
  }

  get spent(): boolean {
    return performance.now() >= this.deadline;
  }

  async pause(): Promise<void> {
    await nextTurn();
    this.restart();
  }

  /** Starts a new slice now (after the loop was handed back some other way, such as awaited I/O). */
  restart(): void {
    this.deadline = performance.now() + this.sliceMs;
  }
}
