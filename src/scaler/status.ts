import type { CompiledTrigger } from './scaler.js';

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

/** The latest reading of each trigger, keyed by ScaledObject and metric name. */
export class ScaledObjectStatus {
  private readonly byTrigger = new Map<string, TriggerStatus>();

  recordValue(trigger: CompiledTrigger, value: number, active: boolean, now: number): void {
    const s = this.entry(trigger);
    s.lastValue = value;
    s.active = active;
    s.lastError = undefined;
    s.lastCall = now;
  }

  recordError(trigger: CompiledTrigger, message: string, now: number): void {
    const s = this.entry(trigger);
    s.lastError = message;
    s.lastCall = now;
  }

  list(): TriggerStatus[] {
    return [...this.byTrigger.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.metricName.localeCompare(b.metricName),
    );
  }

  private entry(trigger: CompiledTrigger): TriggerStatus {
    const { ref, spec } = trigger;
    const key = `${ref.namespace}/${ref.name}/${spec.metricName}`;
    let s = this.byTrigger.get(key);
    if (!s || s.query !== spec.query) {
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
        lastCall: 0,
      };
      this.byTrigger.set(key, s);
    }
    return s;
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
