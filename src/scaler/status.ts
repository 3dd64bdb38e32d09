import type { ScaledObjectRef, TriggerSpec } from './trigger.js';

/** What the status keeps of a trigger: whose it is and what it asks. */
interface ReportedTrigger {
  readonly ref: ScaledObjectRef;
  readonly spec: TriggerSpec;
}

/** What the web page and /metrics show of one trigger KEDA has asked about. */
export interface TriggerStatus {
  namespace: string;
  name: string;
  metricName: string;
  query: string;
  targetValue: number;
  activationTargetValue: number;
  lastValue: number | undefined;
  active: boolean | undefined;
  lastError: string | undefined;
  /** ms since epoch of the last evaluation KEDA caused. */
  lastCall: number;
}

/**
 * A trigger KEDA has not asked about for this long is forgotten: its ScaledObject was deleted, or
 * edited into a new trigger (a new query gives a new default metric name). KEDA asks every
 * pollingInterval (30 s by default) and streams are re-evaluated every few seconds, so only a
 * trigger KEDA no longer knows stays silent this long.
 */
export const STATUS_TTL_MS = 15 * 60_000;

/** Most triggers whose status is kept (as many as the scaler keeps parsed); the least recently asked about goes first. */
export const MAX_STATUSES = 10_000;

/** The latest reading of each trigger, keyed by ScaledObject and metric name. */
export class ScaledObjectStatus {
  /** Least recently asked about first. */
  private readonly byTrigger = new Map<string, TriggerStatus>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits = { ttlMs: STATUS_TTL_MS, maxEntries: MAX_STATUSES },
  ) {}

  recordValue(trigger: ReportedTrigger, value: number, active: boolean, now: number): void {
    const s = this.touch(trigger, now);
    s.lastValue = value;
    s.active = active;
    s.lastError = undefined;
  }

  recordError(trigger: ReportedTrigger, message: string, now: number): void {
    this.touch(trigger, now).lastError = message;
  }

  /** The triggers KEDA has asked about lately. */
  list(): TriggerStatus[] {
    this.expire(this.now());
    return [...this.byTrigger.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.metricName.localeCompare(b.metricName),
    );
  }

  private touch(trigger: ReportedTrigger, now: number): TriggerStatus {
    const { ref, spec } = trigger;
    const key = `${ref.namespace}/${ref.name}/${spec.metricName}`;
    let s = this.byTrigger.get(key);
    this.byTrigger.delete(key);
    // An edit that keeps the metric name (one given in the metadata) starts a new status too.
    if (!s || s.query !== spec.query || s.targetValue !== spec.targetValue || s.activationTargetValue !== spec.activationTargetValue) {
      s = {
        namespace: ref.namespace,
        name: ref.name,
        metricName: spec.metricName,
        query: spec.query,
        targetValue: spec.targetValue,
        activationTargetValue: spec.activationTargetValue,
        lastValue: undefined,
        active: undefined,
        lastError: undefined,
        lastCall: now,
      };
    }
    s.lastCall = now;
    this.byTrigger.set(key, s);
    this.expire(now);
    return s;
  }

  /** Drops from the least recently asked about while they are too old or too many. */
  private expire(now: number): void {
    for (const [key, s] of this.byTrigger) {
      if (this.byTrigger.size <= this.limits.maxEntries && now - s.lastCall < this.limits.ttlMs) break;
      this.byTrigger.delete(key);
    }
  }
}

/** Count and total time of trigger evaluations, read by /metrics when scraped. */
export class EvaluationStats {
  count = 0;
  totalMs = 0;
  maxMs = 0;

  observe(ms: number): void {
    this.count++;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }
}
