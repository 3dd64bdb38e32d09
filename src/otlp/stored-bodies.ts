import { SerialQueue } from './slices.js';

/**
 * Where a stored body came from: a client of this replica, another replica forwarding what it
 * stored, or this replica's write-ahead log read back at start.
 */
export type Origin = 'client' | 'peer' | 'log';

/** Hears of a body once it is stored; `receivedMs` is the time that stood in for unset timestamps. */
export type StoredListener<K> = (body: Uint8Array, kind: K, origin: Origin, receivedMs: number) => void;

/**
 * What both receivers share around storing a request body: one body at a time in arrival order
 * (a paused body is stored whole before the next begins), a hold while a replica catches up,
 * and the listeners told of each body stored (replication hands it on, the write-ahead log keeps
 * it) before its sender gets an answer.
 */
export class StoredBodies<K> {
  private readonly queue = new SerialQueue();
  private readonly listeners: StoredListener<K>[] = [];

  onStored(fn: StoredListener<K>): void {
    this.listeners.push(fn);
  }

  /**
   * Stores nothing after the bodies already queued until `until` settles: later ones wait in
   * arrival order (a replica catching up). Resolves when it has.
   */
  hold(until: Promise<unknown>): Promise<void> {
    return this.queue.hold(until);
  }

  /**
   * Runs `store` after the bodies queued before it, with the time it began (or `receivedMs`, a
   * logged body's original time), then tells the listeners; a body that fails is told to nobody.
   * A logged body is not queued: it is stored at start, one at a time, while the queue is held
   * until the store is restored.
   */
  run<T>(body: Uint8Array, kind: K, origin: Origin, store: (nowMs: number) => Promise<T>, receivedMs?: number): Promise<T> {
    const job = async () => {
      const nowMs = receivedMs ?? Date.now();
      const result = await store(nowMs);
      for (const listener of this.listeners) listener(body, kind, origin, nowMs);
      return result;
    };
    return origin === 'log' ? job() : this.queue.run(job);
  }
}
