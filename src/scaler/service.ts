import {
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { grpcErrorOf, UserError } from '../common/errors.js';
import { SliceClock } from '../common/slice-clock.js';
import { loadProto, serviceDefinition } from '../protobuf.js';
import type { Tsdb } from '../tsdb/db.js';
import type { CompiledTrigger, Scaler } from './scaler.js';
import type { ScaledObjectRef } from './trigger.js';

export const EXTERNAL_SCALER_SERVICE = 'externalscaler.ExternalScaler';

export function externalScalerDefinition(): ServiceDefinition {
  return serviceDefinition(loadProto('externalscaler.proto'), EXTERNAL_SCALER_SERVICE);
}

interface MetricSpecMessage {
  metricName: string;
  targetSize: number;
  targetSizeFloat: number;
}

interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}

/** Longest the event loop is held evaluating streams at one go. */
const STREAM_SLICE_MS = 5;

/** Counts of calls by RPC and gRPC code, for /metrics. */
export type CallCounter = (rpc: string, code: status) => void;

interface ActiveStream {
  trigger: CompiledTrigger;
  call: ServerWritableStream<ScaledObjectRef, { result: boolean }>;
  last: boolean | undefined;
  pending: boolean;
}

/** Open StreamIsActive streams are evaluated at least this often, so draining rate windows are noticed without new samples. */
const STREAM_RECHECK_MS = 10_000;

export interface ExternalScalerOptions {
  /** Streams are re-evaluated at least this often (tests shorten it). */
  streamRecheckMs: number;
  onCall?: CallCounter;
}

function specOf(trigger: CompiledTrigger): MetricSpecMessage {
  const { metricName, targetValue } = trigger.spec;
  return { metricName, targetSize: Math.max(1, Math.round(targetValue)), targetSizeFloat: targetValue };
}

/**
 * KEDA's ExternalScaler over gRPC. Streams are driven by ingest: when samples arrive for a
 * metric a stream's query reads, the query is evaluated again and the answer sent if it changed.
 */
export class ExternalScalerService {
  private readonly streams = new Set<ActiveStream>();
  /** Streams waiting for evaluation, oldest first. */
  private readonly queue: ActiveStream[] = [];
  private draining = false;
  private readonly specStreams = new Set<ServerWritableStream<ScaledObjectRef, unknown>>();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly scaler: Scaler,
    tsdb: Tsdb,
    private readonly log: Logger,
    private readonly options: Partial<ExternalScalerOptions> = {},
  ) {
    this.unsubscribe = tsdb.onIngest((names) => {
      for (const s of this.streams) {
        if (s.pending) continue;
        // A query whose metric names are not literal (a regex on __name__) may read anything.
        const { metricNames } = s.trigger;
        if (metricNames.length === 0 || metricNames.some((n) => names.has(n))) this.schedule(s);
      }
    });
    this.timer = setInterval(() => {
      for (const s of this.streams) if (!s.pending) this.schedule(s);
    }, this.options.streamRecheckMs ?? STREAM_RECHECK_MS);
    this.timer.unref();
  }

  get openStreams(): number {
    return this.streams.size + this.specStreams.size;
  }

  implementation(): UntypedServiceImplementation {
    return {
      IsActive: (call: ServerUnaryCall<ScaledObjectRef, unknown>, cb: sendUnaryData<unknown>) =>
        void this.unary('IsActive', cb, async () => ({ result: (await this.scaler.answer(this.scaler.compile(call.request))).active })),
      GetMetricSpec: (call: ServerUnaryCall<ScaledObjectRef, unknown>, cb: sendUnaryData<unknown>) =>
        void this.unary('GetMetricSpec', cb, async () => ({ metricSpecs: [specOf(await this.scaler.specFor(call.request))] })),
      GetMetrics: (call: ServerUnaryCall<GetMetricsRequest, unknown>, cb: sendUnaryData<unknown>) =>
        void this.unary('GetMetrics', cb, async () => {
          const ref = call.request.scaledObjectRef;
          if (!ref) throw new UserError('BAD_DATA', 'GetMetrics needs scaledObjectRef');
          const trigger = this.scaler.compile(ref);
          const { value } = await this.scaler.answer(trigger);
          const metricName = call.request.metricName || trigger.spec.metricName;
          return { metricValues: [{ metricName, metricValue: Math.round(value), metricValueFloat: value }] };
        }),
      StreamIsActive: (call: ServerWritableStream<ScaledObjectRef, { result: boolean }>) => void this.openActivityStream(call),
      StreamMetricSpec: (call: ServerWritableStream<ScaledObjectRef, unknown>) => void this.openSpecStream(call),
    };
  }

  /** Ends every stream, for shutdown: KEDA sees a clean end and reconnects to another replica. */
  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    for (const s of this.streams) s.call.end();
    for (const c of this.specStreams) c.end();
    this.streams.clear();
    this.specStreams.clear();
  }

  private async unary<T>(rpc: string, cb: sendUnaryData<T>, answer: () => Promise<T>): Promise<void> {
    let result: T;
    try {
      result = await answer();
    } catch (e) {
      const err = grpcErrorOf(e);
      this.options.onCall?.(rpc, err.code);
      this.log.debug({ rpc, code: status[err.code], err: err.details }, 'scaler call failed');
      cb(err);
      return;
    }
    this.options.onCall?.(rpc, status.OK);
    cb(null, result);
  }

  /** Compiles a stream's trigger, or ends the stream with the error's status; counted either way. */
  private async streamTrigger(
    rpc: string,
    call: ServerWritableStream<ScaledObjectRef, unknown>,
    compile: (ref: ScaledObjectRef) => CompiledTrigger | Promise<CompiledTrigger>,
  ): Promise<CompiledTrigger | undefined> {
    try {
      const trigger = await compile(call.request);
      this.options.onCall?.(rpc, status.OK);
      // A client gone while the spec was checked would never be untracked.
      return call.cancelled ? undefined : trigger;
    } catch (e) {
      const err = grpcErrorOf(e);
      this.options.onCall?.(rpc, err.code);
      call.emit('error', err);
      return undefined;
    }
  }

  /** Keeps `item` in `set` while the stream lives. */
  private track<T>(set: Set<T>, item: T, call: ServerWritableStream<ScaledObjectRef, unknown>): void {
    set.add(item);
    const end = () => set.delete(item);
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
  }

  private async openActivityStream(call: ServerWritableStream<ScaledObjectRef, { result: boolean }>): Promise<void> {
    const trigger = await this.streamTrigger('StreamIsActive', call, (ref) => this.scaler.compile(ref));
    if (!trigger) return;
    const stream: ActiveStream = { trigger, call, last: undefined, pending: false };
    this.track(this.streams, stream, call);
    void this.evaluateStream(stream);
  }

  private async openSpecStream(call: ServerWritableStream<ScaledObjectRef, unknown>): Promise<void> {
    const trigger = await this.streamTrigger('StreamMetricSpec', call, (ref) => this.scaler.specFor(ref));
    if (!trigger) return;
    // The spec follows from the metadata alone, which cannot change during a stream: one message, then held open.
    call.write({ metricSpecs: [specOf(trigger)] });
    this.track(this.specStreams, call, call);
  }

  /** Coalesces bursts of ingest notifications into one evaluation per stream. */
  private schedule(s: ActiveStream): void {
    s.pending = true;
    this.queue.push(s);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  /**
   * Evaluates queued streams one after another, letting other work run every STREAM_SLICE_MS:
   * one push can touch every stream, and fifty evaluations in a row would hold up KEDA's calls
   * and the next push. Streams sharing a trigger (the same metadata) share its evaluation within
   * a slice; a new slice evaluates afresh, since samples may have arrived in between.
   */
  private async drain(): Promise<void> {
    const clock = new SliceClock(STREAM_SLICE_MS);
    const answers = new Map<CompiledTrigger, boolean | undefined>();
    while (this.queue.length > 0) {
      if (clock.spent) {
        await clock.pause();
        answers.clear();
      }
      const s = this.queue.shift()!;
      s.pending = false;
      if (!this.streams.has(s)) continue;
      let active = answers.get(s.trigger);
      if (!answers.has(s.trigger)) {
        active = await this.activity(s.trigger);
        answers.set(s.trigger, active);
      }
      this.tell(s, active);
    }
    this.draining = false;
  }

  private async evaluateStream(s: ActiveStream): Promise<void> {
    this.tell(s, await this.activity(s.trigger));
  }

  /** Sends the stream its trigger's activity when that is known and has changed, unless the stream ended meanwhile. */
  private tell(s: ActiveStream, active: boolean | undefined): void {
    if (active === undefined || active === s.last || !this.streams.has(s)) return;
    s.last = active;
    s.call.write({ result: active });
  }

  /** Whether the trigger is active now; undefined when its query fails. */
  private async activity(trigger: CompiledTrigger): Promise<boolean | undefined> {
    try {
      return (await this.scaler.read(trigger)).active;
    } catch (e) {
      // KEDA learns of query errors from GetMetrics; a stream only ever carries answers.
      this.log.debug({ scaledObject: `${trigger.ref.namespace}/${trigger.ref.name}`, err: (e as Error).message }, 'stream evaluation failed');
      return undefined;
    }
  }
}
