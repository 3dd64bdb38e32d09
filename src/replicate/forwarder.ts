import { Client, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { Peer } from './peers.js';
import type { BodyKind } from '../body-kinds.js';
import { FORWARD_PATH, META_KIND, META_SENDER, META_SEQ } from './wire.js';

/** A forward the peer has not answered in this long is tried again (it may be stored twice, which is harmless). */
const CALL_DEADLINE_MS = 5_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;
/** Answers that mean "not now": the body is kept and sent again. Anything else refuses it for good. */
const RETRYABLE = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.ABORTED]);

/** RESOURCE_EXHAUSTED is "not now" only with RetryInfo (the peer's in-flight budget is full); without, the body is over its limit. */
function retryable(err: ServiceError): boolean {
  if (err.code === status.RESOURCE_EXHAUSTED) return err.metadata.get('grpc-status-details-bin').length > 0;
  return RETRYABLE.has(err.code);
}

interface Item {
  readonly kind: BodyKind;
  readonly body: Uint8Array;
  readonly seq: number;
}

export interface ForwarderCounters {
  /** Bodies the peer stored. */
  forwarded: number;
  /** Bodies dropped because the queue was full (the peer down or slow). */
  droppedQueueFull: number;
  /** Bodies the peer refused for good (malformed for it, or its settings differ). */
  refused: number;
  queuedBytes: number;
}

/**
 * The queue of bodies for one peer, sent one at a time in order, so the peer sees its sequence
 * numbers ascending. Pushing never waits: past `maxQueueBytes` the body is dropped, its sequence
 * number spent, so the peer notices the gap when the next body arrives.
 */
export class PeerForwarder {
  readonly counters: ForwarderCounters = { forwarded: 0, droppedQueueFull: 0, refused: 0, queuedBytes: 0 };
  private readonly queue: Item[] = [];
  private nextSeq = 1;
  private sending = false;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private client: Client;

  constructor(
    readonly peer: Peer,
    private credentials: ChannelCredentials,
    private readonly sender: string,
    private readonly maxQueueBytes: number,
    private readonly onDrop: (peer: Peer) => void,
  ) {
    this.client = makeClient(peer, credentials);
  }

  push(kind: BodyKind, body: Uint8Array): void {
    const seq = this.nextSeq++;
    if (this.counters.queuedBytes + body.length > this.maxQueueBytes) {
      this.counters.droppedQueueFull++;
      this.onDrop(this.peer);
      return;
    }
    this.queue.push({ kind, body, seq });
    this.counters.queuedBytes += body.length;
    this.pump();
  }

  /**
   * The peer is catching up from a snapshot taken after this: what is queued for it is in that
   * snapshot, so it is let go. A new channel connects at once, where the old one may be waiting
   * out its reconnect backoff from while the peer was down, holding the peer's window behind.
   * Returns the sequence number of the next body the peer will get.
   */
  restart(): number {
    this.setCredentials(this.credentials);
    this.queue.length = 0;
    this.counters.queuedBytes = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryMs = RETRY_FIRST_MS;
    return this.nextSeq;
  }

  /** Nothing queued or on its way. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.sending;
  }

  /** New TLS files: later calls go over a channel with the new credentials. */
  setCredentials(credentials: ChannelCredentials): void {
    this.credentials = credentials;
    this.client.close();
    this.client = makeClient(this.peer, credentials);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.queue.length = 0;
    this.counters.queuedBytes = 0;
    this.client.close();
  }

  private pump(): void {
    if (this.sending || this.retryTimer !== undefined || this.closed) return;
    const item = this.queue[0];
    if (item === undefined) return;
    this.sending = true;
    const metadata = new Metadata();
    metadata.set(META_KIND, item.kind);
    metadata.set(META_SENDER, this.sender);
    metadata.set(META_SEQ, String(item.seq));
    this.client.makeUnaryRequest(
      FORWARD_PATH,
      (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length),
      (b: Buffer) => b,
      item.body,
      metadata,
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (err: ServiceError | null) => {
        this.sending = false;
        if (this.closed) return;
        // restart() may have let the item go while it was in flight.
        if (this.queue[0] !== item) return this.pump();
        if (err !== null && retryable(err)) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.pump();
          }, this.retryMs);
          this.retryTimer.unref();
          this.retryMs = Math.min(RETRY_MAX_MS, 2 * this.retryMs);
          return;
        }
        this.queue.shift();
        this.counters.queuedBytes -= item.body.length;
        this.retryMs = RETRY_FIRST_MS;
        if (err === null) this.counters.forwarded++;
        else {
          this.counters.refused++;
          this.onDrop(this.peer);
        }
        this.pump();
      },
    );
  }
}

function makeClient(peer: Peer, credentials: ChannelCredentials): Client {
  const host = peer.address.includes(':') ? `[${peer.address}]` : peer.address;
  return new Client(`${host}:${peer.grpcPort}`, credentials, {
    // The certificate names the Service (or the host in --peers), not the pod's address dialled.
    ...(peer.name !== peer.address ? { 'grpc.ssl_target_name_override': peer.name, 'grpc.default_authority': peer.name } : {}),
    'grpc.max_send_message_length': -1,
  });
}
