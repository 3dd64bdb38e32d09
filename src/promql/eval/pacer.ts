import { performance } from 'node:perf_hooks';
import { QueryTimeoutError } from '../errors.js';

/** Units of work (roughly samples touched) between two reads of the clock. */
const CHECK_EVERY = 2048;

/** What an evaluation generator yields to say "let other work run now". */
export type Paced<T> = Generator<void, T, void>;

/**
 * Paces one evaluation: it counts work, enforces the deadline, and says when the current slice
 * of the event loop is spent so the evaluation yields. The clock is read once every CHECK_EVERY
 * units, so small queries pay a decrement per step and nothing more.
 */
export class Pacer {
  // Zero: the first unit of work reads the clock, so a query already past its deadline stops at once.
  private countdown = 0;
  private sliceEnd: number;

  /** `sliceMs` Infinity: never ask to yield (a synchronous run), still bounded by the deadline. */
  constructor(
    private readonly deadline: number,
    private readonly timeoutMs: number,
    private readonly sliceMs: number,
  ) {
    this.sliceEnd = performance.now() + sliceMs;
  }

  /** Counts `units` of work; true when the slice is spent. Throws QueryTimeoutError past the deadline. */
  spend(units: number): boolean {
    this.countdown -= units;
    if (this.countdown > 0) return false;
    this.countdown = CHECK_EVERY;
    const now = performance.now();
    if (now > this.deadline) throw new QueryTimeoutError(this.timeoutMs, 'expression evaluation');
    return now >= this.sliceEnd;
  }

  /** A new slice begins: the evaluation was resumed after other work ran. */
  resumed(): void {
    this.sliceEnd = performance.now() + this.sliceMs;
  }
}

/** Runs an evaluation to its end without yielding the event loop. */
export function runSync<T>(g: Paced<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done === true) return r.value;
  }
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs an evaluation, letting I/O and other queries run each time it yields. */
export async function runAsync<T>(g: Paced<T>, pacer: Pacer): Promise<T> {
  for (;;) {
    const r = g.next();
    if (r.done === true) return r.value;
    await immediate();
    pacer.resumed();
  }
}
