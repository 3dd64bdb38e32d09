import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { decodeJsonBody } from './decode/json.js';
import type { OtlpRequest } from './decode/model.js';
import { DecodePool } from './decode/pool.js';
import { decodeWireRequest, decodeWireSlices } from './decode/wire.js';
import type { Tsdb } from '../tsdb/db.js';
import type { Series } from '../tsdb/series.js';
import type { FloatHistogram } from '../tsdb/float-histogram.js';
import type { Running } from './translate/delta.js';
import { InflightBudget, type Reservation } from './transport/inflight.js';
import type { ExportResponse } from './transport/proto.js';
import type { Encoding, OtlpSink, Transport } from './sink.js';
import { runInSlices } from './slices.js';
import { OtlpStats } from './stats.js';
import { StoredBodies, type Origin } from './stored-bodies.js';
import { Translator, type TranslateResult, type WantedNames } from './translate/translator.js';

/**
 * How long the transports' ingest runs before it lets the event loop serve other calls: short
 * against the 10 ms KEDA's GetMetrics should take, long against the cost of a pause (a few µs).
 */
const SLICE_BUDGET_MS = 1;

export type OtlpOptions = Pick<
  Config,
  'nameTranslation' | 'promoteResourceAttributes' | 'maxRequestBytes' | 'maxDecompressedBytes' | 'lazySeries' | 'maxSeriesBytes' | 'maxInflightBytes'
> &
  Partial<Pick<Config, 'exponentialHistograms' | 'ingestThreads'>>;

/**
 * The OTLP metrics receiver: one translator and one set of counters behind both transports
 * (gRPC MetricsService and OTLP/HTTP), so they behave the same.
 */
export class OtlpReceiver implements OtlpSink {
  readonly stats = new OtlpStats();
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  readonly budget: InflightBudget;
  /** Requests stored one at a time, and who hears of each (replication, the write-ahead log). */
  readonly bodies = new StoredBodies<Encoding>();
  private readonly translator: Translator;
  /** The decoding workers (`ingestThreads` > 0); without them the main thread decodes in slices. */
  readonly pool: DecodePool | undefined;
  private readonly ownPool: boolean;

  /**
   * Decodes with `pool` when given (its owner closes it), else with workers of its own when
   * `ingestThreads` is more than 0.
   */
  constructor(
    private readonly tsdb: Tsdb,
    private readonly options: OtlpOptions,
    readonly log: Logger,
    pool?: DecodePool,
  ) {
    this.limits = { maxRequestBytes: options.maxRequestBytes, maxDecompressedBytes: options.maxDecompressedBytes };
    this.budget = new InflightBudget(options.maxInflightBytes);
    this.translator = new Translator(tsdb, options, this.stats);
    const threads = options.ingestThreads ?? 0;
    this.ownPool = pool === undefined && threads > 0;
    this.pool = pool ?? (threads > 0 ? new DecodePool(threads, log) : undefined);
  }

  /** Stops the decoding workers it started; bodies still to decode are answered with an error. */
  async close(): Promise<void> {
    if (this.ownPool) await this.pool?.close();
  }

  /**
   * Lazy mode's source of wanted metric names (a set, or a function asked once per request).
   * Ignored unless the `lazySeries` setting is on.
   */
  setWantedNames(wanted: WantedNames): void {
    if (this.options.lazySeries) this.translator.setWantedNames(wanted);
  }

  /**
   * The one way in, for both transports: decodes a protobuf or OTLP/JSON ExportMetricsServiceRequest
   * and stores its points, one request at a time and in slices, so KEDA's calls are served in
   * between; the answer comes once every point is stored, with partial_success when some were
   * rejected. Rejects with DecodeError when the body is malformed, storing nothing of it.
   */
  ingest(body: Uint8Array, encoding: Encoding, transport: Transport): Promise<ExportResponse> {
    return this.store(body, encoding, transport, 'client');
  }

  /**
   * A body another replica forwarded, or this one's write-ahead log kept (with the time it was
   * first stored): stored as from gRPC, and its listeners told where it came from.
   */
  storeAgain(body: Uint8Array, encoding: Encoding, origin: Exclude<Origin, 'client'>, receivedMs?: number): Promise<ExportResponse> {
    return this.store(body, encoding, 'grpc', origin, receivedMs);
  }

  private store(body: Uint8Array, encoding: Encoding, transport: Transport, origin: Origin, receivedMs?: number): Promise<ExportResponse> {
    const decoding = this.decodeAhead(body, encoding);
    const stored = this.bodies.run(
      body,
      encoding,
      origin,
      async (nowMs) => {
        // JSON is decoded whole on this thread: JSON.parse cannot pause.
        const request =
          decoding !== undefined
            ? await decoding.request
            : encoding === 'protobuf'
              ? await runInSlices(decodeWireSlices(body), SLICE_BUDGET_MS)
              : decodeJsonBody(body);
        this.stats.requests[transport]++;
        return this.respond(await runInSlices(this.translator.translateSlices(request, nowMs), SLICE_BUDGET_MS), transport);
      },
      receivedMs,
    );
    if (decoding === undefined) return stored;
    return stored.finally(() => decoding.reservation.release());
  }

  /**
   * Starts decoding `body` in a worker at once, while earlier bodies are still being stored; its
   * copy for the worker is held in the in-flight budget until it is stored. Undefined (the body
   * is decoded on this thread in its turn) without workers, when their queue is full or the
   * budget has no room for the copy.
   */
  private decodeAhead(body: Uint8Array, encoding: Encoding): { request: Promise<OtlpRequest>; reservation: Reservation } | undefined {
    if (this.pool === undefined) return undefined;
    const reservation = this.budget.reserve();
    if (!reservation.grow(body.length)) return undefined;
    const request = this.pool.decode(body, encoding);
    if (request === undefined) {
      reservation.release();
      return undefined;
    }
    // Awaited in the body's turn; until then a failure must not count as unhandled.
    request.catch(() => undefined);
    return { request, reservation };
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

  /** The running total of a series of delta exponential histograms, for snapshots. */
  histogramDeltaRun(series: Series): Running<FloatHistogram> | undefined {
    return this.translator.histogramDelta.runOf(series);
  }

  restoreHistogramDeltaRun(series: Series, run: Running<FloatHistogram>): void {
    this.translator.histogramDelta.restoreRun(series, run);
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
