import { performance } from 'node:perf_hooks';
import { QueryTimeoutError } from '../errors.js';

interface Waiter {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Queries that share a cap on how many evaluate at once and a budget of samples held in memory.
 * The HTTP API's queries form one lane and KEDA's trigger evaluations another, so a burst of API
 * queries never makes KEDA wait, and the samples all queries hold stay under the sum of the
 * lanes' budgets whatever the mix of requests.
 */
export class Lane {
  private running = 0;
  private readonly queue: Waiter[] = [];
  /** Samples held by the lane's queries in flight. */
  held = 0;

  constructor(
    readonly maxConcurrent: number,
    readonly maxSamples: number,
    /** Longest one of the lane's async evaluations holds the event loop before letting other work run. */
    readonly sliceMs = Infinity,
  ) {}

  /**
   * Waits for a turn, first come first served; past `deadline` (performance.now() time) the
   * query fails as Prometheus's does when it times out in its queue.
   */
  enter(deadline: number, timeoutMs: number): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(
          () => {
            this.queue.splice(this.queue.indexOf(waiter), 1);
            reject(new QueryTimeoutError(timeoutMs, 'query queue'));
          },
          Math.max(0, deadline - performance.now()),
        ),
      };
      this.queue.push(waiter);
    });
  }

  /** Ends a turn: the oldest waiting query takes it over. */
  leave(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.running--;
      return;
    }
    clearTimeout(next.timer);
    next.resolve();
  }
}
