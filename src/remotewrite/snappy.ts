import type { Buffer } from 'node:buffer';
import { uncompress } from 'snappyjs';
import { RemoteWriteError } from './errors.js';

/**
 * The uncompressed length a snappy block declares in its header (a little-endian varint of at
 * most 32 bits), or -1 when the header is malformed.
 */
export function snappyDeclaredLength(block: Uint8Array): number {
  let result = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return result <= 0xffffffff ? result : -1;
  }
  return -1;
}

/**
 * Decompresses a snappy block (the block format, not the framed one, as remote write requires).
 * The declared length is checked against the limit before anything is allocated, so a small
 * body claiming gigabytes (a snappy bomb) costs nothing.
 */
export function decompressSnappy(block: Buffer, maxDecompressedBytes: number): Buffer {
  const declared = snappyDeclaredLength(block);
  if (declared < 0) throw new RemoteWriteError(400, 'invalid snappy body: the uncompressed length in its header is malformed');
  if (declared > maxDecompressedBytes) {
    throw new RemoteWriteError(413, `snappy body declares ${declared} uncompressed bytes, over the limit of ${maxDecompressedBytes} bytes`);
  }
  try {
    return uncompress(block, maxDecompressedBytes);
  } catch (e) {
    throw new RemoteWriteError(400, `invalid snappy body: ${(e as Error).message}`);
  }
}
