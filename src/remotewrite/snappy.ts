import type { Buffer } from 'node:buffer';
import { uncompress } from 'snappyjs';
import { UserError } from '../common/errors.js';

/**
 * The uncompressed length a snappy block declares in its header (a little-endian varint of at
 * most 32 bits), or -1 when the header is malformed.
 */
export function snappyDeclaredLength(block: Uint8Array): number {
  return declaredLength(block)[0];
}

/** The declared length and the bytes its varint takes; [-1, 0] when malformed. */
function declaredLength(block: Uint8Array): [number, number] {
  let result = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return result <= 0xffffffff ? [result, i + 1] : [-1, 0];
  }
  return [-1, 0];
}

/**
 * Why a snappy block's elements do not add up to the length its header declares, or undefined
 * when they do. snappyjs does not check this (a block cut short comes out padded with zeros, a
 * copy element missing its offset byte copies garbage), so every element is walked first: each
 * must lie inside the block, each copy must reach back into what was already produced, and the
 * whole must produce exactly the declared bytes. It allocates nothing and costs a fraction of
 * decompressing.
 */
function blockFault(block: Uint8Array, headerBytes: number, declared: number): string | undefined {
  let pos = headerBytes;
  let produced = 0;
  const end = block.length;
  while (pos < end) {
    const tag = block[pos++]!;
    let length: number;
    let offset = 0;
    switch (tag & 3) {
      case 0: {
        length = (tag >>> 2) + 1;
        if (length > 60) {
          const extra = length - 60;
          if (pos + extra > end) return `a literal's length runs past the end at byte ${pos}`;
          length = 0;
          for (let i = extra - 1; i >= 0; i--) length = length * 256 + block[pos + i]!;
          length += 1;
          pos += extra;
        }
        if (pos + length > end) return `a literal of ${length} bytes runs past the end at byte ${pos}`;
        pos += length;
        break;
      }
      case 1:
        if (pos + 1 > end) return `a copy's offset runs past the end at byte ${pos}`;
        length = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | block[pos++]!;
        break;
      case 2:
        if (pos + 2 > end) return `a copy's offset runs past the end at byte ${pos}`;
        length = (tag >>> 2) + 1;
        offset = block[pos]! | (block[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > end) return `a copy's offset runs past the end at byte ${pos}`;
        length = (tag >>> 2) + 1;
        offset = (block[pos]! | (block[pos + 1]! << 8) | (block[pos + 2]! << 16)) + block[pos + 3]! * 16777216;
        pos += 4;
    }
    if ((tag & 3) !== 0 && (offset === 0 || offset > produced)) return `a copy reaches back ${offset} bytes from byte ${produced} of the output`;
    produced += length;
    if (produced > declared) return `it produces more than the ${declared} bytes its header declares`;
  }
  return produced === declared ? undefined : `it produces ${produced} bytes, not the ${declared} its header declares`;
}

/**
 * Decompresses a snappy block (the block format, not the framed one, as remote write requires).
 * The declared length is checked against the limit before anything is allocated, so a small
 * body claiming gigabytes (a snappy bomb) costs nothing.
 */
export function decompressSnappy(block: Buffer, maxDecompressedBytes: number): Buffer {
  const [declared, headerBytes] = declaredLength(block);
  if (declared < 0) throw new UserError('BAD_DATA', 'invalid snappy body: the uncompressed length in its header is malformed');
  if (declared > maxDecompressedBytes) {
    throw new UserError('TOO_LARGE', `snappy body declares ${declared} uncompressed bytes, over the limit of ${maxDecompressedBytes} bytes`);
  }
  const fault = blockFault(block, headerBytes, declared);
  if (fault !== undefined) throw new UserError('BAD_DATA', `invalid snappy body: ${fault}`);
  try {
    return uncompress(block, maxDecompressedBytes);
  } catch (e) {
    throw new UserError('BAD_DATA', `invalid snappy body: ${(e as Error).message}`);
  }
}
