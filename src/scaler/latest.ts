import type { UserError } from '../common/errors.js';
import { SliceClock } from '../common/slice-clock.js';

/** What one evaluation of a trigger's query found: its value (undefined: no series) or why there is none. */
export type Outcome = { readonly value: number | undefined } | { readonly error: UserError };

/** A trigger as this needs it: the metric names its query reads (none: it may read any). */
export interface Watched {
  readonly metricNames: readonly string[];
}

interface Latest {
  /** The evaluation's time (ms since epoch): what the answer's age is counted from. */
  readonly atMs: number;
  readonly outcome: Outcome;
}

interface State {
  latest: Latest | undefined;
  /** The evaluation under way, which a caller wanting one shares rather than starting another, and its time. */
  running: Promise<Outcome> | undefined;
  runningAtMs: number;
  /** Samples of a metric the query reads were stored since the newest evaluation began. */
  changed: boolean;
  /** KEDA was answered from `latest`: it keeps asking, so samples that change the answer are worth a new evaluation. */
  asked: boolean;
  /** Counts discard(): an evaluation begun before one is not kept. */
  discards: number;
}

export interface LatestOptions {
  /** An answer's evaluation is never this old or older; 0: every answer is a new evaluation. */
  maxAgeMs: number;
  now: () => number;
}

/** Most time the refresh holds the event loop before letting a KEDA call or a push go first. */
const REFRESH_SLICE_MS = 2;

/**
 * The latest evaluation of each trigger, so KEDA's calls can be answered from it instead of
 * evaluating the query again while ingest holds the event loop: an answer is taken from an
 * evaluation less than `maxAgeMs` old, else a new one is made (shared by the calls waiting for it).
 *
 * Evaluations follow ingest: when samples of a metric a trigger reads are stored and KEDA was
 * answered from the trigger's latest evaluation since it was made, the trigger is evaluated again
 * once that evaluation is half the bound old: coalesced (any number of pushes, one evaluation), at
 * most one a trigger every half bound, and each one follows an answer KEDA took from the one
 * before, so there are never more of them than calls. Once samples stop, the last evaluation
 * began after them, and answers from it are exact for the store as it is.
 */
export class LatestEvaluations<T extends Watched> {
  private readonly states = new Map<T, State>();
  /** Triggers waiting for their refresh, with when it is due. */
  private readonly waiting = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerDueMs = Infinity;
  private refreshing = false;
  private closed = false;
  /** Answers taken from an earlier evaluation, for self-metrics. */
  reused = 0;

  /** `evaluate` evaluates the trigger's query at `atMs`; it resolves with every failure as an outcome, never rejects. */
  constructor(
    private readonly evaluate: (trigger: T, atMs: number) => Promise<Outcome>,
    private readonly options: LatestOptions,
  ) {}

  /** An outcome for an answer now: the latest evaluation while it is fresh, else a new one. */
  answer(trigger: T): Promise<Outcome> {
    const s = this.stateOf(trigger);
    const { latest } = s;
    if (latest !== undefined && this.fresh(latest.atMs)) {
      this.reused++;
      s.asked = true;
      this.scheduleRefresh(trigger, s);
      return Promise.resolve(latest.outcome);
    }
    // An evaluation under way since before the bound (waiting its turn in the lane, say) would answer too old.
    if (s.running !== undefined && this.fresh(s.runningAtMs)) return s.running;
    return this.run(trigger, s);
  }

  /**
   * A new evaluation, for a caller that must see every sample stored (the streams): one under way
   * is shared only when nothing was stored since it began.
   */
  evaluateNow(trigger: T): Promise<Outcome> {
    const s = this.stateOf(trigger);
    if (s.running !== undefined && !s.changed) return s.running;
    return this.run(trigger, s);
  }

  /** Ingest stored samples of `names`: the triggers reading them may answer differently now. */
  stored(names: ReadonlySet<string>): void {
    for (const [trigger, s] of this.states) {
      if (s.changed) continue;
      const { metricNames } = trigger;
      if (metricNames.length > 0 && !metricNames.some((n) => names.has(n))) continue;
      s.changed = true;
      this.scheduleRefresh(trigger, s);
    }
  }

  /**
   * The trigger was answered UNAVAILABLE without an evaluation (the store does not hold its
   * window now): no evaluation made before may answer after it.
   */
  discard(trigger: T): void {
    const s = this.states.get(trigger);
    if (s === undefined) return;
    s.latest = undefined;
    s.discards++;
    this.waiting.delete(trigger);
  }

  /** The trigger is no longer known (dropped from the parsed triggers). */
  forget(trigger: T): void {
    this.states.delete(trigger);
    this.waiting.delete(trigger);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.waiting.clear();
  }

  private stateOf(trigger: T): State {
    let s = this.states.get(trigger);
    if (s === undefined) {
      s = { latest: undefined, running: undefined, runningAtMs: 0, changed: false, asked: false, discards: 0 };
      this.states.set(trigger, s);
    }
    return s;
  }

  /** Whether an evaluation made at `atMs` may answer now. */
  private fresh(atMs: number): boolean {
    const age = this.options.now() - atMs;
    // A clock set back makes the age negative: nothing then says how old the evaluation is.
    return age >= 0 && age < this.options.maxAgeMs;
  }

  private run(trigger: T, s: State): Promise<Outcome> {
    s.changed = false;
    s.asked = false;
    const atMs = this.options.now();
    const { discards } = s;
    const running = this.evaluate(trigger, atMs)
      .then((outcome) => {
        // Evaluations may overlap (a stream's after a push): the newest one stays.
        if (s.discards === discards && (s.latest === undefined || s.latest.atMs <= atMs)) s.latest = { atMs, outcome };
        return outcome;
      })
      .finally(() => {
        if (s.running === running) s.running = undefined;
        this.scheduleRefresh(trigger, s);
      });
    s.running = running;
    s.runningAtMs = atMs;
    return running;
  }

  /** Refreshes the trigger once its latest evaluation is half the bound old, when KEDA asks and samples changed it. */
  private scheduleRefresh(trigger: T, s: State): void {
    if (!s.asked || !s.changed || s.running !== undefined || s.latest === undefined || this.closed) return;
    if (this.waiting.has(trigger)) return;
    const dueMs = s.latest.atMs + this.options.maxAgeMs / 2;
    this.waiting.set(trigger, dueMs);
    this.arm(dueMs);
  }

  private arm(dueMs: number): void {
    if (this.refreshing || dueMs >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = dueMs;
    this.timer = setTimeout(() => void this.refresh(), Math.max(0, dueMs - this.options.now()));
    this.timer.unref();
  }

  /** Evaluates the triggers whose refresh is due, one after another, handing the event loop back between them. */
  private async refresh(): Promise<void> {
    this.timerDueMs = Infinity;
    this.refreshing = true;
    const clock = new SliceClock(REFRESH_SLICE_MS);
    for (const [trigger, dueMs] of this.waiting) {
      if (dueMs > this.options.now()) continue;
      this.waiting.delete(trigger);
      const s = this.states.get(trigger);
      if (s === undefined || s.running !== undefined) continue;
      await this.run(trigger, s);
      if (this.closed) return;
      if (clock.spent) await clock.pause();
    }
    this.refreshing = false;
    const next = Math.min(...this.waiting.values());
    if (next < Infinity) this.arm(next);
  }
}
