import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { header, HEADER_BYTES, type SnapshotTarget } from './snapshot-format.js';
import { encodeSliced, type EncodeOptions } from './sliced.js';

export const SNAPSHOT_FILE = 'snapshot';
const TEMP_FILE = 'snapshot.tmp';

/**
 * Writes a snapshot of `target` to `dir` atomically: into a temporary file, flushed to disk,
 * then renamed over the previous snapshot and the directory flushed, so a crash or a full disk
 * at any point leaves either the old snapshot or the new one, whole. Returns the file's size.
 */
export async function writeSnapshotFile(dir: string, target: SnapshotTarget, o: EncodeOptions): Promise<number> {
  const tmp = join(dir, TEMP_FILE);
  const file = await open(tmp, 'w');
  let size: number;
  try {
    let position = HEADER_BYTES;
    const { crc, bodyBytes } = await encodeSliced(target, o, async (chunk) => {
      await writeAll(file, chunk, position);
      position += chunk.length;
    });
    await writeAll(file, header(crc, bodyBytes), 0);
    await file.sync();
    size = position;
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await file.close();
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  await syncDir(dir);
  return size;
}

async function writeAll(file: Awaited<ReturnType<typeof open>>, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** A rename is durable only once its directory is flushed too. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Moves a snapshot that cannot be used out of the way, keeping it for a post-mortem; returns its new path. */
export async function moveAside(dir: string, nowMs: number): Promise<string> {
  const aside = join(dir, `${SNAPSHOT_FILE}.bad-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
  await rename(join(dir, SNAPSHOT_FILE), aside);
  return aside;
}

export async function removeTemp(dir: string): Promise<void> {
  await unlink(join(dir, TEMP_FILE)).catch(() => undefined);
}
