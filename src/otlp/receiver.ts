import type { ServerInterceptor, UntypedServiceImplementation, ServiceDefinition } from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { decodeJsonBody } from './decode-json.js';
import { decodeWireRequest, decodeWireSlices } from './decode-wire.js';
import type { Tsdb } from '../tsdb/db.js';
import type { Series } from '../tsdb/series.js';
import type { Running } from './delta.js';
import { metricsServiceImplementation } from './grpc-service.js';
import { otlpGrpcLimits } from './grpc-limits.js';
import { handleOtlpHttp } from './http-handler.js';
import { InflightBudget } from './inflight.js';
import type { OtlpRequest } from './model.js';
import { metricsServiceDefinition, type ExportResponse } from './proto.js';
import type { OtlpSink, Transport } from './sink.js';
import { runInSlices, SerialQueue } from './slices.js';
import { OtlpStats } from './stats.js';
import { Translator, type TranslateResult, type WantedNames } from './translate.js';

export { OTLP_METRICS_SERVICE } from './proto.js';

/**
 * How long the transports' ingest runs before it lets the event loop serve other calls: short
 * against the 10 ms KEDA's GetMetrics should take, long against the cost of a pause (a few µs).
 */
const SLICE_BUDGET_MS = 1;

/** Called with a request's body once it is stored: what replication hands on to the other replicas. */
export type AcceptedOtlp = (body: Uint8Array, encoding: 'protobuf' | 'json') => void;

export type OtlpOptions = Pick<
  Config,
  'nameTranslation' | 'promoteResourceAttributes' | 'maxRequestBytes' | 'maxDecompressedBytes' | 'lazySeries' | 'maxSeriesBytes' | 'maxInflightBytes'
>;

/**
 * The OTLP metrics receiver: one translator and one set of counters behind both transports
 * (gRPC MetricsService and OTLP/HTTP), so they behave the same.
 */
export class OtlpReceiver implements OtlpSink {
  readonly stats = new OtlpStats();
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  readonly budget: InflightBudget;
  private readonly translator: Translator;
  private readonly queue = new SerialQueue();
  private accepted: AcceptedOtlp | undefined;

  constructor(
    private readonly tsdb: Tsdb,
    private readonly options: OtlpOptions,
    readonly log: Logger,
  ) {
    this.limits = { maxRequestBytes: options.maxRequestBytes, maxDecompressedBytes: options.maxDecompressedBytes };
    this.budget = new InflightBudget(options.maxInflightBytes);
    this.translator = new Translator(tsdb, options, this.stats);
  }

  /**
   * Lazy mode's source of wanted metric names (a set, or a function asked once per request).
   * Ignored unless the `lazySeries` setting is on.
   */
  setWantedNames(wanted: WantedNames): void {
    if (this.options.lazySeries) this.translator.setWantedNames(wanted);
  }

  /** Sets the callback for bodies stored from the transports (not those a peer forwarded). */
  onAccepted(fn: AcceptedOtlp): void {
    this.accepted = fn;
  }

  /**
   * Stores nothing after the requests already queued until `until` settles: later ones wait in
   * arrival order (a replica catching up). Resolves when it has.
   */
  hold(until: Promise<unknown>): Promise<void> {
    return this.queue.hold(until);
  }

  /** A body another replica stored and forwarded: stored as from gRPC, never handed on again. */
  storeForwarded(bytes: Uint8Array, encoding: 'protobuf' | 'json'): Promise<ExportResponse> {
    return encoding === 'protobuf' ? this.storeBody(bytes, 'grpc', false) : this.storeJsonBody(bytes, 'grpc', false);
  }

  /**
   * The transports' path: one request at a time, decoded and stored in slices so KEDA's calls
   * are served in between; the answer comes once every point is stored.
   */
  storeProtobuf(bytes: Uint8Array, transport: Transport): Promise<ExportResponse> {
    return this.storeBody(bytes, transport, true);
  }

  /** Decoded on its turn in the queue, like protobuf: only one decoded request is held at a time. */
  storeJson(bytes: Uint8Array, transport: Transport): Promise<ExportResponse> {
    return this.storeJsonBody(bytes, transport, true);
  }

  private storeBody(bytes: Uint8Array, transport: Transport, handOn: boolean): Promise<ExportResponse> {
    return this.queue.run(async () => {
      const request = await runInSlices(decodeWireSlices(bytes), SLICE_BUDGET_MS);
      this.stats.requests[transport]++;
      const response = this.respond(await runInSlices(this.translator.translateSlices(request, Date.now()), SLICE_BUDGET_MS), transport);
      if (handOn) this.accepted?.(bytes, 'protobuf');
      return response;
    });
  }

  private storeJsonBody(bytes: Uint8Array, transport: Transport, handOn: boolean): Promise<ExportResponse> {
    return this.queue.run(async () => {
      const request = decodeJsonBody(bytes);
      this.stats.requests[transport]++;
      const response = this.respond(await runInSlices(this.translator.translateSlices(request, Date.now()), SLICE_BUDGET_MS), transport);
      if (handOn) this.accepted?.(bytes, 'json');
      return response;
    });
  }

  store(request: OtlpRequest, transport: Transport): Promise<ExportResponse> {
    return this.queue.run(async () => {
      this.stats.requests[transport]++;
      return this.respond(await runInSlices(this.translator.translateSlices(request, Date.now()), SLICE_BUDGET_MS), transport);
    });
  }

  /** Decodes and stores without pausing, on the caller's turn (in-process use); throws DecodeError when malformed. */
  exportProtobuf(bytes: Uint8Array, transport: Transport): ExportResponse {
    return this.export(decodeWireRequest(bytes), transport);
  }

  export(request: OtlpRequest, transport: Transport): ExportResponse {
    return this.respond(this.translator.translate(request, Date.now()), transport);
  }

  /** The delta → cumulative running total of a series, for snapshots; undefined when it has none. */
  deltaRun(series: Series): Running | undefined {
    return this.translator.delta.runOf(series);
  }

  /** Continues a series' running total from a snapshot, so its next delta adds to it. */
  restoreDeltaRun(series: Series, run: Running): void {
    this.translator.delta.restoreRun(series, run);
  }

  private respond(result: TranslateResult, transport: Transport): ExportResponse {
    this.tsdb.flushIngest();
    if (result.rejectedDataPoints === 0) return {};
    this.log.debug(
      { transport, rejected: result.rejectedDataPoints, received: result.pointsReceived, message: result.errorMessage },
      'OTLP data points rejected',
    );
    return { partialSuccess: { rejectedDataPoints: result.rejectedDataPoints, errorMessage: result.errorMessage } };
  }

  handleHttp(req: IncomingMessage, res: ServerResponse): void {
    handleOtlpHttp(req, res, this);
  }

  grpcDefinition(): ServiceDefinition {
    return metricsServiceDefinition();
  }

  grpcImplementation(): UntypedServiceImplementation {
    return metricsServiceImplementation(this);
  }

  /**
   * The gRPC server interceptor that holds Export calls (and the methods of `alsoBound`, each with
   * its limit as sent) to the size limit as sent and to the in-flight budget.
   */
  grpcInterceptor(alsoBound?: ReadonlyMap<string, number>): ServerInterceptor {
    return otlpGrpcLimits(this, alsoBound);
  }
}
