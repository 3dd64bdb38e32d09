import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { InflightBudget, Reservation } from '../otlp/transport/inflight.js';
import { runInSlices } from '../otlp/slices.js';
import { StoredBodies, type Origin } from '../otlp/stored-bodies.js';
import type { Tsdb } from '../tsdb/db.js';
import { decodeSlices, type Protocol } from './decode.js';
import { handleRemoteWrite, REMOTE_WRITE_PATH, type RemoteWriteSink } from './http-handler.js';
import { UserError } from '../common/errors.js';
import { decompressSnappy, snappyDeclaredLength } from './snappy.js';
import { RemoteWriteStats } from './stats.js';
import { RemoteWriteStore, type StoreResult } from './store.js';

export { REMOTE_WRITE_PATH } from './http-handler.js';

/** How long storing runs before it lets the event loop serve other calls, as the OTLP receiver's. */
const SLICE_BUDGET_MS = 1;

/**
 * The Prometheus remote-write receiver (1.0 and 2.0) behind `POST /api/v1/write` on both HTTP
 * ports: one set of counters, and one request stored at a time so a paused request is stored
 * whole before the next begins.
 */
export class RemoteWriteReceiver implements RemoteWriteSink {
  readonly stats = new RemoteWriteStats();
  private readonly writer: RemoteWriteStore;
  private readonly lazySeries: boolean;
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  /** Requests (as sent, snappy-compressed) stored one at a time, and who hears of each. */
  readonly bodies = new StoredBodies<Protocol>();

  constructor(
    private readonly tsdb: Tsdb,
    options: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes' | 'maxSeriesBytes' | 'lazySeries'>,
    /** The OTLP receiver's, so one total bounds the bytes of every ingest request. */
    readonly budget: InflightBudget,
    private readonly log: Logger,
  ) {
    this.lazySeries = options.lazySeries;
    this.limits = { maxRequestBytes: options.maxRequestBytes, maxDecompressedBytes: options.maxDecompressedBytes };
    this.writer = new RemoteWriteStore(tsdb, this.stats, options.maxSeriesBytes);
  }

  /** Lazy mode's source of wanted metric names, asked once a request; ignored unless `lazySeries` is on. */
  setWantedNames(wanted: () => ReadonlySet<string>): void {
    if (this.lazySeries) this.writer.setWantedNames(wanted);
  }

  /** True for requests this receiver answers (by path), so a port's other handler can pass them on. */
  static owns(req: IncomingMessage): boolean {
    return (req.url ?? '/').split('?', 1)[0] === REMOTE_WRITE_PATH;
  }

  handleHttp(req: IncomingMessage, res: ServerResponse): void {
    handleRemoteWrite(req, res, this);
  }

  store(body: Buffer, protocol: Protocol, reservation: Reservation): Promise<StoreResult> {
    return this.storeBody(body, protocol, reservation, 'client');
  }

  /** A body another replica forwarded, or this one's write-ahead log kept: stored the same way. */
  storeAgain(body: Buffer, protocol: Protocol, reservation: Reservation, origin: Exclude<Origin, 'client'>, receivedMs?: number): Promise<StoreResult> {
    return this.storeBody(body, protocol, reservation, origin, receivedMs);
  }

  private storeBody(body: Buffer, protocol: Protocol, reservation: Reservation, origin: Origin, receivedMs?: number): Promise<StoreResult> {
    const store = async () => {
      const { maxDecompressedBytes } = this.limits;
      // A declared length over the limit or malformed is refused by decompressSnappy, reserving nothing.
      const declared = snappyDeclaredLength(body);
      if (declared > 0 && declared <= maxDecompressedBytes && !reservation.grow(declared)) throw new UserError('OVER_BUDGET', this.budget.fullMessage);
      const message = await runInSlices(decompressSnappy(body, maxDecompressedBytes), SLICE_BUDGET_MS);
      const batch = await runInSlices(decodeSlices(message, protocol), SLICE_BUDGET_MS);
      this.stats.requests[protocol]++;
      const result = await runInSlices(this.writer.storeSlices(batch), SLICE_BUDGET_MS);
      this.tsdb.flushIngest();
      if (result.rejected > 0) this.log.debug({ protocol, rejected: result.rejected, message: result.errorMessage }, 'remote-write samples rejected');
      return result;
    };
    return this.bodies.run(body, protocol, origin, store, receivedMs);
  }

  refused(status: number, message: string): void {
    this.stats.requestsFailed++;
    this.log.debug({ status, message }, 'remote-write request refused');
  }

  unexpected(error: unknown): void {
    this.log.error({ err: error }, 'remote-write request failed unexpectedly');
  }
}
