import { UserError } from '../common/errors.js';
import { defaultConfig } from '../config.js';
import type { Expr } from '../promql/ast.js';
import { formatRFC3339Seconds } from '../common/go-format.js';
import type { Engine } from '../promql/eval/engine.js';
import type { Lane } from '../promql/eval/lane.js';
import { lineCol, PromQLError } from '../promql/errors.js';
import { earliestRead, lookBackOf, type LookBack } from '../promql/parser/look-back.js';
import { parseExpr } from '../promql/parser/parse.js';
import { formatDuration } from '../promql/parser/printer.js';
import { mayGiveHistograms } from '../promql/parser/histogram-results.js';
import { metricNamesOf } from '../promql/parser/selectors.js';
import { documentedType, typeOf } from '../promql/parser/typecheck.js';
import type { Tsdb } from '../tsdb/db.js';
import { Matcher } from '../tsdb/matcher.js';
import { LatestEvaluations, type Outcome } from './latest.js';
import { EvaluationStats, ScaledObjectStatus } from './status.js';
import { metadataKey, parseTrigger, type ScaledObjectRef, type TriggerSpec } from './trigger.js';
import { WantedNames } from './wanted.js';

/** A trigger parsed once: its spec, its query's syntax tree, the metric names it reads and how far back. */
export interface CompiledTrigger {
  readonly key: string;
  readonly ref: ScaledObjectRef;
  readonly spec: TriggerSpec;
  readonly expr: Expr;
  readonly metricNames: readonly string[];
  readonly lookBack: LookBack;
}

export interface ScalerOptions {
  /** Most distinct trigger metadata kept parsed; the least recently used is dropped past it. */
  maxTriggers: number;
  /** An empty result is UNAVAILABLE rather than valueIfNotFound, for triggers that do not say. */
  errIfNotFound: boolean;
  /** Lazy ingest keeps only the wanted names, from when they became wanted. */
  lazySeries: boolean;
  /** KEDA's calls are answered from an evaluation younger than this; 0: each call evaluates. */
  answerMaxAgeMs: number;
  now: () => number;
}

/**
 * Clients reconnect to a restarted process over some seconds (gRPC backoff, the next push
 * interval), and what they collected meanwhile may be lost. A series first seen this soon after
 * the live span began is taken to be one that was there before, resuming; later ones are new.
 */
const RESUME_MS = 60_000;

/**
 * Longest a trigger evaluation holds the event loop at one go. KEDA's calls answered from an
 * earlier evaluation wait for nothing but the slice under way, so the evaluations (made as
 * samples arrive) run in slices as short as ingest's, where the engine's default is 10 ms.
 */
const EVALUATION_SLICE_MS = 2;

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
  private readonly wanted: WantedNames;
  /** Trigger evaluations have their own lane: API queries never make KEDA wait. */
  private readonly lane: Lane;
  /** Each trigger's latest evaluation, which KEDA's calls are answered from while it is fresh. */
  private readonly latest: LatestEvaluations<CompiledTrigger>;
  private readonly unsubscribe: () => void;
  /** When each trigger whose query may give histograms was last found to give none. */
  private readonly numbersAtMs = new WeakMap<CompiledTrigger, number>();

  constructor(
    private readonly engine: Engine,
    private readonly tsdb: Tsdb,
    opts: Partial<ScalerOptions> = {},
  ) {
    const { errIfNotFound, lazySeries, answerMaxAgeMs } = defaultConfig();
    this.options = { maxTriggers: 10_000, errIfNotFound, lazySeries, answerMaxAgeMs, now: Date.now, ...opts };
    this.wanted = new WantedNames((name) => tsdb.select([new Matcher('=', '__name__', name)]).length > 0);
    this.status = new ScaledObjectStatus(this.options.now);
    this.lane = engine.newLane(EVALUATION_SLICE_MS);
    this.latest = new LatestEvaluations((trigger, atMs) => this.evaluateAt(trigger, atMs), {
      maxAgeMs: this.options.answerMaxAgeMs,
      now: this.options.now,
    });
    this.unsubscribe = tsdb.onIngest((names) => this.latest.stored(names));
  }

  /** Answers taken from an earlier evaluation, for self-metrics. */
  get reusedAnswers(): number {
    return this.latest.reused;
  }

  /** Stops evaluating on ingest, for shutdown. */
  close(): void {
    this.unsubscribe();
    this.latest.close();
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
      if (e instanceof PromQLError) throw new UserError('BAD_DATA', `trigger metadata "metricQuery": ${e.message}`);
      throw e;
    }
    const type = typeOf(expr);
    if (type === 'matrix' || type === 'string') {
      throw new UserError(
        'BAD_DATA',
        `trigger metadata "metricQuery": ${lineCol(spec.query, expr.pos.start)}: the query gives a ${documentedType(type)}; KEDA needs a scalar or an instant vector${type === 'matrix' ? ' (wrap it in a function over time such as rate(...) or max_over_time(...))' : ''}`,
      );
    }
    const lookBack = lookBackOf(expr, this.engine.options.lookbackDeltaMs);
    const compiled: CompiledTrigger = { key, ref, spec, expr, metricNames: metricNamesOf(expr), lookBack };
    this.triggers.set(key, compiled);
    this.wanted.add(compiled.metricNames, this.options.now());
    if (this.triggers.size > this.options.maxTriggers) {
      const oldest = this.triggers.values().next().value!;
      this.triggers.delete(oldest.key);
      this.wanted.remove(oldest.metricNames);
      this.latest.forget(oldest);
    }
    return compiled;
  }

  /**
   * The parsed trigger for GetMetricSpec: as compile(), and refused (INVALID_ARGUMENT) when its
   * query gives native histograms, which KEDA cannot scale on, so the ScaledObject shows the
   * mistake at once rather than at each GetMetrics. Only the data tells where the tree cannot; an
   * evaluation that finds none is trusted for --answer-max-age, and one that cannot tell (no
   * series yet, a query error) lets the spec through, GetMetrics then giving the reason.
   */
  async specFor(ref: ScaledObjectRef): Promise<CompiledTrigger> {
    const trigger = this.compile(ref);
    if (!mayGiveHistograms(trigger.expr)) return trigger;
    const now = this.options.now();
    const checked = this.numbersAtMs.get(trigger);
    if (checked !== undefined && now - checked >= 0 && now - checked < this.options.answerMaxAgeMs) return trigger;
    let histograms: boolean;
    try {
      const { value } = await this.engine.instantAsync(this.lane, { tree: trigger.expr }, now);
      histograms = value.type === 'vector' && value.samples.some((s) => s.h !== undefined);
    } catch {
      return trigger;
    }
    if (histograms) throw histogramResult(trigger);
    this.numbersAtMs.set(trigger, now);
    return trigger;
  }

  /** Every metric name some known trigger reads: what lazy ingest keeps. */
  wantedMetricNames(): ReadonlySet<string> {
    return this.wanted.all;
  }

  /** The trigger's value from a new evaluation, for the streams, which must follow every sample stored. */
  read(trigger: CompiledTrigger): Promise<Reading> {
    return this.reading(trigger, () => this.latest.evaluateNow(trigger));
  }

  /**
   * The trigger's value for KEDA's calls: from its latest evaluation while that is younger than
   * answerMaxAgeMs, else from a new one.
   */
  answer(trigger: CompiledTrigger): Promise<Reading> {
    return this.reading(trigger, () => this.latest.answer(trigger));
  }

  /** The trigger's value from an evaluation's outcome, with KEDA's rules for empty, multi-series and non-finite results. */
  private async reading(trigger: CompiledTrigger, outcomeOf: () => Promise<Outcome>): Promise<Reading> {
    const { spec } = trigger;
    const now = this.options.now();
    // Coverage is checked at the answer's time too, and once an answer was UNAVAILABLE no evaluation made before answers.
    const notYet = this.windowNotHeld(trigger, now);
    if (notYet !== undefined) {
      this.latest.discard(trigger);
      return this.fail(trigger, new UserError('NOT_READY', notYet), now);
    }
    const outcome = await outcomeOf();
    if ('error' in outcome) return this.fail(trigger, outcome.error, now);
    let { value } = outcome;
    if (value === undefined) {
      const ifNotFound = spec.ifNotFound ?? (this.options.errIfNotFound ? 'error' : 0);
      if (ifNotFound === 'error') {
        const why = `query ${JSON.stringify(spec.query)} found no series, and the trigger asks for an error then (errIfNotFound): KEDA applies the ScaledObject's fallback`;
        return this.fail(trigger, new UserError('NOT_READY', why), now);
      }
      value = ifNotFound;
    }
    if (spec.clampMin !== undefined && value < spec.clampMin) value = spec.clampMin;
    if (spec.clampMax !== undefined && value > spec.clampMax) value = spec.clampMax;
    const active = value > spec.activationTargetValue;
    this.status.recordValue(trigger, value, active, now);
    return { value, active };
  }

  /** The trigger's query evaluated at `atMs`, every failure (the window not held included) an outcome. */
  private async evaluateAt(trigger: CompiledTrigger, atMs: number): Promise<Outcome> {
    const notYet = this.windowNotHeld(trigger, atMs);
    if (notYet !== undefined) return { error: new UserError('NOT_READY', notYet) };
    const started = performance.now();
    try {
      return { value: await this.evaluate(trigger, atMs) };
    } catch (e) {
      return { error: toScalerError(e) };
    } finally {
      this.evaluations.observe(performance.now() - started);
    }
  }

  private fail(trigger: CompiledTrigger, err: UserError, now: number): never {
    this.status.recordError(trigger, err.message, now);
    throw err;
  }

  /**
   * Why the store cannot answer the trigger's query now, or undefined when it can: the query
   * reads back to a time from which the store does not hold every sample sent (before the
   * process started receiving, outside restored data, or before lazy mode began keeping its
   * metrics), so its answer would be low or otherwise partial.
   */
  private windowNotHeld(trigger: CompiledTrigger, now: number): string | undefined {
    const { lookBack, metricNames } = trigger;
    const from = earliestRead(lookBack, now);
    if (from === undefined) return undefined;
    const { coverage } = this.tsdb;
    if (!coverage.covers(now)) {
      return 'this replica stalled and may have missed samples its peers forwarded meanwhile; it answers again once its window is whole since it resumed';
    }
    const keptSince = this.options.lazySeries ? this.wanted.keptSince(metricNames) : -Infinity;
    if (coverage.covers(from) && keptSince <= from) {
      const { until: resumed, behind: waiting } = this.restartGap(metricNames, from, now);
      if (resumed > from) {
        return `the store holds data since ${formatRFC3339Seconds(coverage.liveSinceMs)}, but series of ${metricNames.join(', ')} have no samples from before the restart until ${formatRFC3339Seconds(resumed)} (clients reconnecting), and a window starting in that gap would answer low; ${reads(lookBack, from)}; answers in ${secondsFor(resumed - from)}s`;
      }
      if (waiting === 0) return undefined;
      return `${waiting} restored series of ${metricNames.join(', ')} have not caught up since the store began receiving at ${formatRFC3339Seconds(coverage.liveSinceMs)} (clients reconnecting after the restart deliver late), and a window ending without their newest samples would answer low; answers once they resume, or in ${secondsFor(coverage.liveSinceMs + RESUME_MS - now)}s at the latest`;
    }
    if (keptSince === Infinity)
      return `lazy mode is not keeping ${metricNames.join(', ')}: no trigger it knows reads ${metricNames.length > 1 ? 'them' : 'it'} now`;
    // Where the covered time that the look-back will start in next begins: `from` itself, or the next span.
    const coveredFrom = coverage.covers(from)
      ? from
      : Math.min(
          ...coverage
            .spans()
            .map((s) => s.fromMs)
            .filter((f) => f > from),
        );
    const lazyBinds = keptSince > coveredFrom;
    const since = lazyBinds ? keptSince : coveredFrom;
    const held = lazyBinds
      ? `lazy mode has kept ${metricNames.join(', ')} since a trigger first asked for ${metricNames.length > 1 ? 'them' : 'it'} at`
      : 'the store holds data since';
    const when = lookBack.fixedFromMs === from ? 'that time will not be covered, so it stays unavailable' : `answers in ${secondsFor(since - from)}s`;
    return `${held} ${formatRFC3339Seconds(since)}; ${reads(lookBack, from)}; ${when}. KEDA keeps the current replicas (or applies the fallback) meanwhile`;
  }

  /**
   * What a restart left in the series of `names` that a window from `from` to `now` reads, while
   * their clients may still be reconnecting (RESUME_MS after the live start): what they sent
   * meanwhile may be lost, so each series has a gap around the live start. rate() extrapolates
   * only half an interval towards a window edge beyond a series' samples, so a window with an
   * edge inside a gap answers low.
   * - `until`: when the window can start again, for series whose gap holds `from`: at the series'
   *   first sample since the live start. A series first seen later than RESUME_MS after the live
   *   start is a new one; a gap of at most 1.5 of a series' push intervals is none.
   * - `behind`: how many series have not caught up since a restore: restored samples but none
   *   since the live span began, or a newest sample further behind `now` than 1.5 of the series'
   *   own push intervals (what reconnecting clients deliver late). A series still silent
   *   RESUME_MS after the live start is taken to be gone (a pod that stopped with the restart), as
   *   a query would see it.
   */
  private restartGap(names: readonly string[], from: number, now: number): { until: number; behind: number } {
    const gap = { until: -Infinity, behind: 0 };
    const { coverage } = this.tsdb;
    const live = coverage.liveSinceMs;
    const startMayLag = from < live + RESUME_MS;
    const endMayLag = now < live + RESUME_MS;
    // Without a gap in coverage before the live span there was no restart to reconnect after.
    if ((!startMayLag && !endMayLag) || coverage.gapFreeSinceMs < live) return gap;
    for (const name of names) {
      for (const s of this.tsdb.select([new Matcher('=', '__name__', name)])) {
        const at = s.lowerBound(live);
        if (startMayLag && at < s.length) {
          const resumed = s.timestampAt(at);
          const before = at > 0 ? s.timestampAt(at - 1) : -Infinity;
          if (resumed <= live + RESUME_MS && resumed > from && resumed > gap.until && from >= before) {
            const interval = at >= 2 ? before - s.timestampAt(at - 2) : at + 1 < s.length ? s.timestampAt(at + 1) - resumed : Infinity;
            if (resumed - before > 1.5 * interval) gap.until = resumed;
          }
        }
        const newest = s.maxTime;
        if (!endMayLag || newest < from) continue;
        if (newest < live) {
          gap.behind++;
          continue;
        }
        const n = s.length;
        const interval = at >= 2 ? s.timestampAt(at - 1) - s.timestampAt(at - 2) : n >= 2 ? s.timestampAt(n - 1) - s.timestampAt(n - 2) : 0;
        if (interval > 0 && now - newest > 1.5 * interval) gap.behind++;
      }
    }
    return gap;
  }

  private async evaluate(trigger: CompiledTrigger, now: number): Promise<number | undefined> {
    const { value } = await this.engine.instantAsync(this.lane, { tree: trigger.expr }, now);
    let v: number;
    switch (value.type) {
      case 'scalar':
        v = value.v;
        break;
      case 'vector':
        if (value.samples.length === 0) return undefined;
        if (value.samples.length > 1) {
          throw new UserError(
            'BAD_DATA',
            `query ${JSON.stringify(trigger.spec.query)} returned ${value.samples.length} series; KEDA needs one value: wrap the query in an aggregation such as sum(...) or max(...)`,
          );
        }
        if (value.samples[0]!.h !== undefined) throw histogramResult(trigger);
        v = value.samples[0]!.v;
        break;
      default:
        throw new UserError('BAD_DATA', `query ${JSON.stringify(trigger.spec.query)} returns a ${value.type}; KEDA needs a scalar or an instant vector`);
    }
    if (!Number.isFinite(v)) {
      throw new UserError(
        'NOT_A_NUMBER',
        `query ${JSON.stringify(trigger.spec.query)} returned ${v}, which KEDA cannot scale on (a division by zero or an empty rate window?)`,
      );
    }
    return v;
  }
}

function histogramResult(trigger: CompiledTrigger): UserError {
  return new UserError(
    'BAD_DATA',
    `query ${JSON.stringify(trigger.spec.query)} returns a native histogram; KEDA needs a number: take one from it with histogram_quantile(0.99, ...), histogram_count(...), histogram_sum(...) or histogram_avg(...)`,
  );
}

/** A wait in whole seconds for messages, at least 1: "answers in 0s" would promise what is not so. */
function secondsFor(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** How far back a query reads, for messages; `from` is where an evaluation now starts reading. */
function reads(lookBack: LookBack, from: number): string {
  if (lookBack.fixedFromMs === from) return `the query reads from ${formatRFC3339Seconds(from)} (its @ modifier)`;
  return `the query reads ${formatDuration(lookBack.relativeMs!)} back`;
}

function toScalerError(e: unknown): UserError {
  // Runtime errors of a query (many-to-many matching, duplicate series) are the query's fault like
  // syntax errors are (the table answers both INVALID_ARGUMENT); only the unexpected is INTERNAL.
  if (e instanceof PromQLError) return new UserError(e.code, `query evaluation failed: ${e.message}`);
  if (e instanceof UserError) return e;
  return new UserError('INTERNAL', `query evaluation failed: ${(e as Error).message}`);
}
