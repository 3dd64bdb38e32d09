import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { decodeJsonBody } from './decode/json.js';
import { decodeWireRequest, decodeWireSlices } from './decode/wire.js';
import type { Tsdb } from '../tsdb/db.js';
import type { Series } from '../tsdb/series.js';
import type { Running } from './translate/delta.js';
import { InflightBudget } from './transport/inflight.js';
import type { ExportResponse } from './transport/proto.js';
import type { Encoding, OtlpSink, Transport } from './sink.js';
import { runInSlices, SerialQueue } from './slices.js';
import { OtlpStats } from './stats.js';
import { Translator, type TranslateResult, type WantedNames } from './translate/translator.js';

/**
 * How long the transports' ingest runs before it lets the event loop serve other calls: short
 * against the 10 ms KEDA's GetMetrics should take, long against the cost of a pause (a few µs).
 */
const SLICE_BUDGET_MS = 1;

/** Called with a request's body once it is stored: what replication hands on to the other replicas. */
export type AcceptedOtlp = (body: Uint8Array, encoding: Encoding) => void;

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

  /**
   * The one way in, for both transports: decodes a protobuf or OTLP/JSON ExportMetricsServiceRequest
   * and stores its points, one request at a time and in slices, so KEDA's calls are served in
   * between; the answer comes once every point is stored, with partial_success when some were
   * rejected. Rejects with DecodeError when the body is malformed, storing nothing of it.
   */
  ingest(body: Uint8Array, encoding: Encoding, transport: Transport): Promise<ExportResponse> {
    return this.store(body, encoding, transport, true);
  }

  /** A body another replica stored and forwarded: stored as from gRPC, never handed on again. */
  storeForwarded(body: Uint8Array, encoding: Encoding): Promise<ExportResponse> {
    return this.store(body, encoding, 'grpc', false);
  }

  private store(body: Uint8Array, encoding: Encoding, transport: Transport, handOn: boolean): Promise<ExportResponse> {
    return this.queue.run(async () => {
      // JSON is decoded whole: JSON.parse cannot pause. Either way only one decoded request is held at a time.
      const request = encoding === 'protobuf' ? await runInSlices(decodeWireSlices(body), SLICE_BUDGET_MS) : decodeJsonBody(body);
      this.stats.requests[transport]++;
      const response = this.respond(await runInSlices(this.translator.translateSlices(request, Date.now()), SLICE_BUDGET_MS), transport);
      if (handOn) this.accepted?.(body, encoding);
      return response;
    });
  }

  /** ingest without pausing, on the caller's turn (in-process use: the bench, tests); throws DecodeError when malformed. */
  ingestNow(body: Uint8Array, encoding: Encoding, transport: Transport): ExportResponse {
    const request = encoding === 'protobuf' ? decodeWireRequest(body) : decodeJsonBody(body);
    this.stats.requests[transport]++;
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
}
