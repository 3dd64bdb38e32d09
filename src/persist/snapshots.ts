import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { moveAside, removeTemp, SNAPSHOT_FILE, writeSnapshotFile } from './file.js';
import { WriteAborted } from './sliced.js';
import { checkedBody, restoreBody, SnapshotRefused, type SnapshotTarget } from './snapshot-format.js';
import type { WriteAheadLog } from './wal.js';

/**
 * How long one slice of a periodic write may hold the event loop: KEDA's GetMetrics should
 * never wait more than about 10 ms behind it.
 */
const SLICE_MS = 2;

/** The snapshot counters /metrics reads. */
export interface SnapshotStats {
  writes: number;
  failures: number;
  lastWriteSeconds: number;
  lastWriteBytes: number;
  /** When the last successful write finished, seconds since the epoch; 0 before the first. */
  lastWriteTimestamp: number;
}

export interface SnapshotsOptions {
  dir: string;
  intervalMs: number;
  retentionMs: number;
  /** Cut when a write begins, and its older segments deleted once the write is done. */
  wal?: WriteAheadLog;
  now?: () => number;
}

/**
 * The store's durable copy in the data dir: loaded once at start, rewritten every interval and
 * at shutdown. A snapshot that cannot be used is moved aside and the store starts empty; a write
 * that fails leaves the previous snapshot as it was.
 */
export class Snapshots {
  readonly stats: SnapshotStats = { writes: 0, failures: 0, lastWriteSeconds: 0, lastWriteBytes: 0, lastWriteTimestamp: 0 };
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Set while shutdown waits for a periodic write: it stops at its next pause. */
  private abortInFlight = false;
  private closing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly target: SnapshotTarget,
    private readonly options: SnapshotsOptions,
    private readonly log: Logger,
  ) {
    this.now = options.now ?? Date.now;
    options.wal?.onFull(() => this.writeNow());
  }

  /** Restores the last snapshot into the (empty) store. Never throws for a bad or missing file. */
  async load(): Promise<void> {
    const { dir } = this.options;
    const path = join(dir, SNAPSHOT_FILE);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      // Scaling without a snapshot beats not scaling: the writes will fail and be counted.
      this.log.error({ err, dir }, 'the data dir cannot be created; starting empty');
      return;
    }
    await removeTemp(dir);
    const started = performance.now();
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') {
        this.log.info({ path }, 'no snapshot to restore; starting empty');
        return;
      }
      await this.refuse(new SnapshotRefused('unreadable', `${err.code ?? 'error'}: ${err.message}`));
      return;
    }
    try {
      const nowMs = this.now();
      const restored = restoreBody(checkedBody(file), this.target, nowMs - this.options.retentionMs);
      this.log.info(
        { path, bytes: file.length, ms: Math.round(performance.now() - started), writtenAt: new Date(restored.writtenAtMs).toISOString(), ...restored },
        'snapshot restored',
      );
    } catch (e) {
      if (!(e instanceof SnapshotRefused)) throw e;
      await this.refuse(e);
    }
  }

  private async refuse(e: SnapshotRefused): Promise<void> {
    const path = join(this.options.dir, SNAPSHOT_FILE);
    let aside: string | undefined;
    try {
      aside = await moveAside(this.options.dir, this.now());
    } catch (err) {
      this.log.error({ err, path }, 'could not move the unusable snapshot aside');
    }
    this.log.error({ path, reason: e.reason, movedTo: aside }, `snapshot not restored (${e.reason}: ${e.message}); starting empty`);
  }

  /** Starts the periodic writes. */
  start(): void {
    this.schedule();
  }

  /** Writes a snapshot now rather than at the next interval (the write-ahead log has grown large). */
  writeNow(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    void this.write(SLICE_MS).finally(() => this.schedule());
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.write(SLICE_MS).finally(() => this.schedule()), this.options.intervalMs);
    this.timer.unref();
  }

  /**
   * Writes a snapshot now, after any write in progress. `sliceMs` bounds how long it holds the
   * event loop at a time. Failures are logged and counted, never thrown.
   */
  write(sliceMs = SLICE_MS): Promise<void> {
    const run = async () => {
      const started = performance.now();
      const { wal } = this.options;
      // Cut before the write's time is taken, so the new segment's span reaches back to it.
      const segment = wal?.cut(this.now());
      const atMs = this.now();
      try {
        const bytes = await writeSnapshotFile(this.options.dir, this.target, { sliceMs, atMs, aborted: () => this.abortInFlight });
        if (segment !== undefined) await wal?.dropBefore(segment);
        const seconds = (performance.now() - started) / 1000;
        Object.assign(this.stats, { writes: this.stats.writes + 1, lastWriteSeconds: seconds, lastWriteBytes: bytes, lastWriteTimestamp: this.now() / 1000 });
        this.log.debug({ bytes, ms: Math.round(seconds * 1000), series: this.target.tsdb.seriesCount }, 'snapshot written');
      } catch (e) {
        if (e instanceof WriteAborted) return;
        this.stats.failures++;
        this.log.error({ err: e, dir: this.options.dir }, 'snapshot write failed; the previous snapshot is kept');
      }
    };
    this.writing = this.writing.then(run);
    return this.writing;
  }

  /**
   * The shutdown write: stops the periodic writes, abandons one in progress (it began before the
   * last samples came in) and writes the store as it is now.
   */
  close(sliceMs = SLICE_MS): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      clearTimeout(this.timer);
      this.abortInFlight = true;
      await this.writing;
      this.abortInFlight = false;
      await this.write(sliceMs);
    })();
    return this.closing;
  }
}
