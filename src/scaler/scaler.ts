import { status } from '@grpc/grpc-js';
import type { Expr } from '../promql/ast.js';
import { metricNamesOf, type Engine } from '../promql/engine.js';
import { lineCol, PromQLError, TooManySamplesError } from '../promql/errors.js';
import { parseExpr } from '../promql/parser.js';
import { documentedType, typeOf } from '../promql/typecheck.js';
import type { Tsdb } from '../tsdb/db.js';
import { ScalerError } from './errors.js';
import { EvaluationStats, ScaledObjectStatus } from './status.js';
import { metadataKey, parseTrigger, type ScaledObjectRef, type TriggerSpec } from './trigger.js';

/** A trigger parsed once: its spec, its query's syntax tree and the metric names it reads. */
export interface CompiledTrigger {
  readonly key: string;
  readonly ref: ScaledObjectRef;
  readonly spec: TriggerSpec;
  readonly expr: Expr;
  readonly metricNames: readonly string[];
}

export interface ScalerOptions {
  /** After start, an empty result is UNAVAILABLE for this long unless the query's metrics were seen. */
  warmupMs: number;
  /** Most distinct trigger metadata kept parsed; the least recently used is dropped past it. */
  maxTriggers: number;
  now: () => number;
}

export interface Reading {
  value: number;
  active: boolean;
}

/**
 * KEDA's questions answered from the TSDB: the metric spec, the value now, and activity.
 * Transport-free, so the gRPC service, streams and the web page share one set of rules.
 */
export class Scaler {
  readonly options: ScalerOptions;
  readonly status: ScaledObjectStatus;
  /** Time spent evaluating trigger queries, for self-metrics. */
  readonly evaluations = new EvaluationStats();
  private readonly triggers = new Map<string, CompiledTrigger>();
  private readonly seenNames = new Set<string>();
  private readonly startedAt: number;
  private warm = false;

  constructor(
    private readonly engine: Engine,
    tsdb: Tsdb,
    opts: Partial<ScalerOptions> = {},
  ) {
    this.options = { warmupMs: 60_000, maxTriggers: 10_000, now: Date.now, ...opts };
    this.startedAt = this.options.now();
    this.status = new ScaledObjectStatus(this.options.now);
    tsdb.onIngest((names) => {
      if (this.warm) return;
      for (const n of names) this.seenNames.add(n);
    });
  }

  /** The parsed trigger for a ScaledObjectRef; INVALID_ARGUMENT with the parser's message when the query is bad. */
  compile(ref: ScaledObjectRef): CompiledTrigger {
    const key = metadataKey(ref);
    const cached = this.triggers.get(key);
    if (cached) {
      // Re-insert so the map's order is least recently used first.
      this.triggers.delete(key);
      this.triggers.set(key, cached);
      return cached;
    }
    const spec = parseTrigger(ref);
    let expr: Expr;
    try {
      expr = parseExpr(spec.query);
    } catch (e) {
      if (e instanceof PromQLError) throw new ScalerError(status.INVALID_ARGUMENT, `trigger metadata "metricQuery": ${e.message}`);
      throw e;
    }
    const type = typeOf(expr);
    if (type === 'matrix' || type === 'string') {
      throw new ScalerError(
        status.INVALID_ARGUMENT,
        `trigger metadata "metricQuery": ${lineCol(spec.query, expr.pos.start)}: the query gives a ${documentedType(type)}; KEDA needs a scalar or an instant vector${type === 'matrix' ? ' (wrap it in a function over time such as rate(...) or max_over_time(...))' : ''}`,
      );
    }
    const compiled: CompiledTrigger = { key, ref, spec, expr, metricNames: metricNamesOf(expr) };
    this.triggers.set(key, compiled);
    if (this.triggers.size > this.options.maxTriggers) {
      this.triggers.delete(this.triggers.keys().next().value!);
    }
    return compiled;
  }

  /** Every metric name some known trigger reads: what lazy ingest keeps. */
  wantedMetricNames(): Set<string> {
    const names = new Set<string>();
    for (const t of this.triggers.values()) for (const n of t.metricNames) names.add(n);
    return names;
  }

  /** The trigger's value now, with KEDA's rules for empty, multi-series and non-finite results. */
  read(trigger: CompiledTrigger): Reading {
    const { spec } = trigger;
    const now = this.options.now();
    let value: number | undefined;
    const started = performance.now();
    try {
      value = this.evaluate(trigger, now);
    } catch (e) {
      const err = toScalerError(e);
      this.evaluations.observe(performance.now() - started);
      this.status.recordError(trigger, err.message, now);
      throw err;
    }
    this.evaluations.observe(performance.now() - started);
    if (value === undefined) {
      if (this.warmingUp(trigger, now)) {
        const err = new ScalerError(
          status.UNAVAILABLE,
          `no samples yet for ${trigger.metricNames.join(', ') || 'the query'}: the scaler started ${Math.round((now - this.startedAt) / 1000)}s ago and is still warming up; KEDA keeps the current replicas`,
        );
        this.status.recordError(trigger, err.message, now);
        throw err;
      }
      value = spec.valueIfNotFound;
    }
    if (spec.clampMin !== undefined && value < spec.clampMin) value = spec.clampMin;
    if (spec.clampMax !== undefined && value > spec.clampMax) value = spec.clampMax;
    const active = value > spec.activationTargetValue;
    this.status.recordValue(trigger, value, active, now);
    return { value, active };
  }

  private evaluate(trigger: CompiledTrigger, now: number): number | undefined {
    const { value } = this.engine.instant(trigger.expr, now);
    let v: number;
    switch (value.type) {
      case 'scalar':
        v = value.v;
        break;
      case 'vector':
        if (value.samples.length === 0) return undefined;
        if (value.samples.length > 1) {
          throw new ScalerError(
            status.INVALID_ARGUMENT,
            `query ${JSON.stringify(trigger.spec.query)} returned ${value.samples.length} series; KEDA needs one value: wrap the query in an aggregation such as sum(...) or max(...)`,
          );
        }
        v = value.samples[0]!.v;
        break;
      default:
        throw new ScalerError(status.INVALID_ARGUMENT, `query ${JSON.stringify(trigger.spec.query)} returns a ${value.type}; KEDA needs a scalar or an instant vector`);
    }
    if (!Number.isFinite(v)) {
      throw new ScalerError(
        status.OUT_OF_RANGE,
        `query ${JSON.stringify(trigger.spec.query)} returned ${v}, which KEDA cannot scale on (a division by zero or an empty rate window?)`,
      );
    }
    return v;
  }

  private warmingUp(trigger: CompiledTrigger, now: number): boolean {
    if (this.warm) return false;
    if (now - this.startedAt >= this.options.warmupMs) {
      this.warm = true;
      this.seenNames.clear();
      return false;
    }
    return !trigger.metricNames.some((n) => this.seenNames.has(n));
  }
}

function toScalerError(e: unknown): ScalerError {
  if (e instanceof ScalerError) return e;
  if (e instanceof PromQLError) {
    const code = promqlErrorCode(e);
    return new ScalerError(code, `query evaluation failed: ${e.message}`);
  }
  return new ScalerError(status.INTERNAL, `query evaluation failed: ${(e as Error).message}`);
}

/**
 * What KEDA should make of a query error. Runtime errors of a query (many-to-many matching,
 * duplicate series) are the query's fault like syntax errors are; only the unexpected is INTERNAL.
 */
function promqlErrorCode(e: PromQLError): status {
  if (e instanceof TooManySamplesError) return status.RESOURCE_EXHAUSTED;
  switch (e.kind) {
    case 'timeout':
      return status.DEADLINE_EXCEEDED;
    case 'canceled':
      return status.CANCELLED;
    case 'bad_data':
    case 'execution':
      return status.INVALID_ARGUMENT;
  }
}
