import type { IncomingMessage } from 'node:http';
/**
 * Seconds a sender is told to wait when the budget is full: long enough for the requests holding
 * it (each read, inflated and stored in well under a second) to finish, short against a
 * collector's export interval.
 */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The bytes OTLP and remote-write requests hold while they are read, decompressed and stored,
 * summed over every request on every transport. Each request takes a Reservation and grows it
 * before it buffers or inflates more; when the total would pass the limit the request is refused
 * with a retryable answer (429 / RESOURCE_EXHAUSTED with RetryInfo), so a burst of requests that
 * are each under the per-request limits cannot together pass the memory limit.
 */
export class InflightBudget {
  private used = 0;
  private highest = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now, by every request. */
  get inUse(): number {
    return this.used;
  }

  /** The most bytes reserved at once so far. */
  get peak(): number {
    return this.highest;
  }

  /** What a refused request is told. */
  get fullMessage(): string {
    return `the receiver is holding ${this.limit} bytes of requests in flight, its limit: retry after ${RETRY_AFTER_SECONDS}s`;
  }

  reserve(): Reservation {
    return new Reservation(this);
  }

  /** @internal Reservation's way in. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    if (this.used > this.highest) this.highest = this.used;
    return true;
  }

  /** @internal */
  give(n: number): void {
    this.used -= n;
  }
}

/** One request's share of the budget; released once, when the request is answered. */
export class Reservation {
  private held = 0;

  constructor(private readonly budget: InflightBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Takes `n` more bytes; false (nothing taken) when the budget has no room. */
  grow(n: number): boolean {
    if (!this.budget.take(n)) return false;
    this.held += n;
    return true;
  }

  /** Gives back what the request no longer holds, keeping `n` bytes. */
  shrinkTo(n: number): void {
    if (n >= this.held) return;
    this.budget.give(this.held - n);
    this.held = n;
  }

  release(): void {
    this.shrinkTo(0);
  }
}

/** The chunks as one buffer; joining several copies them, so the copy is reserved first (undefined: no room). */
export function joinReserved(chunks: Buffer[], length: number, reservation: Reservation): Buffer | undefined {
  if (chunks.length === 1) return chunks[0]!;
  if (!reservation.grow(length)) return undefined;
  const body = Buffer.concat(chunks, length);
  reservation.shrinkTo(reservation.bytes - length);
  return body;
}

/** Why a request body was not read whole: over the size limit, or no room left in the budget. */
export type BodyRefusal = 'too-large' | 'no-budget';

/**
 * Reads a request body into memory up to `maxBytes`, reserving each chunk from the in-flight
 * budget as it arrives, so a body is refused as soon as it is too large or the budget is full,
 * never after it was buffered; a client gone before its body ends gives back what it reserved.
 * `done` gets the body (joined, its copy reserved too) or why it was refused, once.
 */
export function readReservedBody(req: IncomingMessage, maxBytes: number, reservation: Reservation, done: (body: Buffer | BodyRefusal) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let refused = false;
  const refuse = (why: BodyRefusal) => {
    refused = true;
    chunks.length = 0;
    done(why);
  };
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    if (received > maxBytes) return refuse('too-large');
    if (!reservation.grow(chunk.length)) return refuse('no-budget');
    chunks.push(chunk);
  });
  req.on('close', () => {
    if (!req.complete) reservation.release();
  });
  req.on('end', () => {
    if (refused) return;
    const body = joinReserved(chunks, received, reservation);
    chunks.length = 0;
    done(body ?? 'no-budget');
  });
}

/** Why a request is refused before anything is read or reserved: its Content-Length is over `maxBytes`. */
export function declaredOverLimit(req: IncomingMessage, maxBytes: number): string | undefined {
  const declared = Number(req.headers['content-length'] ?? NaN);
  return declared > maxBytes ? `request body of ${declared} bytes is over the limit of ${maxBytes} bytes` : undefined;
}
