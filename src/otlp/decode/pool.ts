import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { DecodeError } from '../errors.js';
import type { Encoding } from '../sink.js';
import type { OtlpRequest } from './model.js';
import { unpack, type PackedRequest } from './transfer.js';

/** A body sent to a worker: its bytes in a buffer of their own, transferred. */
export interface DecodeJob {
  id: number;
  bytes: Uint8Array<ArrayBuffer>;
  encoding: Encoding;
}

/** A worker's answer: the decoded request, or why the body is malformed. */
export type DecodeReply = { id: number; request: PackedRequest; malformed?: undefined } | { id: number; malformed: string; request?: undefined };

/** Bodies waiting for a worker, a worker: past this the caller decodes on its own thread. */
const QUEUED_A_WORKER = 4;
/** Workers that die in a row before answering once (they cannot start): the pool gives up and the main thread decodes. */
const START_FAILURES_TO_GIVE_UP = 3;

interface Pending {
  job: DecodeJob;
  resolve: (request: OtlpRequest) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The body it is decoding. */
  busy: Pending | undefined;
  /** It has answered once: its module loaded. */
  answered: boolean;
}

/** Where the worker module is: beside this one, built JavaScript or (run from sources) TypeScript. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Worker threads that decode OTLP bodies (protobuf or JSON) off the event loop, so one request's
 * decoding never holds up KEDA's calls and decoding runs beside translation on another core. A
 * worker takes one body at a time; bodies wait in a bounded queue, past which `decode` answers
 * undefined and the caller decodes as without threads. A worker that dies is replaced, the body
 * it held answered with an error.
 */
export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;
  private startFailures = 0;
  /** Bodies decoded by workers; bodies the full queue sent back; workers replaced after dying. */
  readonly stats = { decoded: 0, queueFull: 0, replaced: 0 };

  constructor(
    readonly size: number,
    private readonly log: Logger,
    private readonly url: URL = WORKER_URL,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.start());
  }

  /** Most bodies waiting for a worker. */
  get queueLimit(): number {
    return QUEUED_A_WORKER * this.size;
  }

  /**
   * Decodes `body` in a worker; rejects with DecodeError when it is malformed, with another error
   * when its worker died. Undefined, with nothing started, when the queue is full or the pool closed.
   */
  decode(body: Uint8Array, encoding: Encoding): Promise<OtlpRequest> | undefined {
    if (this.closed) return undefined;
    if (this.queue.length >= this.queueLimit) {
      this.stats.queueFull++;
      return undefined;
    }
    // A copy of its own to transfer: the body's buffer may be shared (a socket's read, a pool slice), and its sender's listeners still read it.
    const bytes = new Uint8Array(body.length);
    bytes.set(body);
    return new Promise<OtlpRequest>((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, bytes, encoding }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; bodies not yet decoded are answered with an error. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('the decoding workers stopped'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = new Worker(this.url);
    const slot: Slot = { worker, busy: undefined, answered: false };
    worker.unref();
    worker.on('message', (reply: DecodeReply) => this.answered(slot, reply));
    worker.on('error', (err) => this.log.error({ err }, 'OTLP decoding worker failed'));
    worker.on('exit', (code) => this.exited(slot, code));
    return slot;
  }

  private answered(slot: Slot, reply: DecodeReply): void {
    const pending = slot.busy;
    slot.busy = undefined;
    slot.answered = true;
    this.startFailures = 0;
    if (pending?.job.id === reply.id) {
      if (reply.malformed !== undefined) pending.reject(new DecodeError(reply.malformed));
      else {
        this.stats.decoded++;
        try {
          pending.resolve(unpack(reply.request));
        } catch (e) {
          pending.reject(e as Error);
        }
      }
    }
    this.dispatch();
  }

  private exited(slot: Slot, code: number): void {
    const pending = slot.busy;
    slot.busy = undefined;
    pending?.reject(new Error(`the worker decoding the request exited (code ${code})`));
    if (this.closed) return;
    if (!slot.answered && ++this.startFailures >= START_FAILURES_TO_GIVE_UP) {
      this.log.error({ code }, 'OTLP decoding workers cannot start; the main thread decodes from now on');
      void this.close();
      return;
    }
    this.log.error({ code, decoding: pending !== undefined }, 'OTLP decoding worker exited; starting another');
    this.stats.replaced++;
    this.slots[this.slots.indexOf(slot)] = this.start();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy !== undefined) continue;
      const pending = this.queue.shift()!;
      slot.busy = pending;
      slot.worker.postMessage(pending.job, [pending.job.bytes.buffer]);
    }
  }
}
