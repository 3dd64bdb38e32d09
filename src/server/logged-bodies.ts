import type { Logger } from 'pino';
import { isBodyKind, onEveryStoredBody, storeAgain, type Receivers } from '../body-kinds.js';
import type { WriteAheadLog } from '../persist/wal.js';
import type { Tsdb } from '../tsdb/db.js';

/**
 * Stores the bodies logged since the snapshot again, with the times they were first received.
 * The log's spans join the store's coverage, so a window reaching back before a crash is
 * answered only where nothing was lost.
 */
export async function replayLog(wal: WriteAheadLog, receivers: Receivers, tsdb: Tsdb, log: Logger): Promise<void> {
  const started = performance.now();
  const replay = await wal.replay(async ({ kind, body, receivedMs }) => {
    if (!isBodyKind(kind)) return false;
    const reservation = receivers.otlp.budget.reserve();
    try {
      const stored = storeAgain(receivers, kind, body, 'log', reservation, receivedMs);
      if (stored === undefined) return false;
      await stored;
      return true;
    } finally {
      reservation.release();
    }
  });
  for (const span of replay.spans) tsdb.coverage.addRestored(span);
  log.info({ ...replay, ms: Math.round(performance.now() - started) }, 'write-ahead log replayed');
}

/** Logs every body the receivers store from now on, except those read back from the log itself. */
export function logStoredBodies(wal: WriteAheadLog, receivers: Receivers, startMs: number): void {
  wal.open(startMs);
  onEveryStoredBody(receivers, (kind, body, origin, receivedMs) => {
    if (origin !== 'log') wal.append(kind, body, receivedMs);
  });
}
