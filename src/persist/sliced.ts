import { crc32 } from 'node:zlib';
import { SliceClock } from '../common/slice-clock.js';
import { ByteWriter } from './bytes.js';
import { encodeBody, type SnapshotTarget } from './snapshot-format.js';

/** Encoded bytes are handed on once this many have gathered, so the encoder holds little memory. */
const FLUSH_BYTES = 1 << 20;

export class WriteAborted extends Error {
  override name = 'WriteAborted';
}

export interface EncodeOptions {
  /** Longest the encoder runs before it hands the event loop back. */
  sliceMs: number;
  /** Checked at each pause: true stops the encoding (WriteAborted). */
  aborted: () => boolean;
  atMs: number;
}

/**
 * Encodes a snapshot body of `target` in slices of `sliceMs`, handing each piece of about a
 * megabyte to `out` (awaited, so a slow file or socket holds the encoder back). Returns what the
 * header needs: the body's CRC-32 and length. Shared by the data dir's file and the stream a
 * replica catching up reads.
 */
export async function encodeSliced(
  target: SnapshotTarget,
  o: EncodeOptions,
  out: (chunk: Buffer) => Promise<void>,
): Promise<{ crc: number; bodyBytes: number }> {
  const w = new ByteWriter();
  let crc = 0;
  let bodyBytes = 0;
  const flush = async () => {
    const chunk = w.take();
    crc = crc32(chunk, crc);
    bodyBytes += chunk.length;
    await out(chunk);
  };
  const clock = new SliceClock(o.sliceMs);
  for (const _ of encodeBody(target, w, o.atMs)) {
    if (!clock.spent) continue;
    // Writing a full buffer hands the loop back as a pause does.
    if (w.length >= FLUSH_BYTES) {
      await flush();
      clock.restart();
    } else await clock.pause();
    if (o.aborted()) throw new WriteAborted('snapshot write aborted');
  }
  await flush();
  return { crc, bodyBytes };
}
