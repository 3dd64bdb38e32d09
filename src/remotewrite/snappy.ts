import { Buffer } from 'node:buffer';
import { UserError } from '../common/errors.js';
import type { Sliced } from '../otlp/slices.js';

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

/** Output bytes produced between pauses: a few milliseconds of copying. */
const SLICE_OUTPUT_BYTES = 1 << 18;
/** Below this many bytes a loop copies faster than a call into Buffer's native copy. */
const SHORT_COPY = 32;

/**
 * Decompresses a snappy block (the block format, not the framed one, as remote write requires),
 * pausing every 256 KiB of output so that a 32 MiB body does not hold the event loop for the
 * 0.1–0.2 s a one-call decompressor (snappyjs) takes. The declared length is checked against the
 * limit before anything is allocated, so a small body claiming gigabytes (a snappy bomb) costs
 * nothing; and every element is checked as it is copied: it must lie inside the block, a copy must
 * reach back into what was already produced, and the whole must produce exactly the declared bytes
 * (a block cut short would otherwise leave its tail as whatever the buffer held).
 */
export function* decompressSnappy(block: Buffer, maxDecompressedBytes: number): Sliced<Buffer> {
  const [declared, headerBytes] = declaredLength(block);
  if (declared < 0) throw invalid('the uncompressed length in its header is malformed');
  if (declared > maxDecompressedBytes) {
    throw new UserError('TOO_LARGE', `snappy body declares ${declared} uncompressed bytes, over the limit of ${maxDecompressedBytes} bytes`);
  }
  const out = Buffer.allocUnsafe(declared);
  let pos = headerBytes;
  let produced = 0;
  let pauseAt = SLICE_OUTPUT_BYTES;
  const end = block.length;
  while (pos < end) {
    if (produced >= pauseAt) {
      pauseAt = produced + SLICE_OUTPUT_BYTES;
      yield;
    }
    const tag = block[pos++]!;
    let length: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        length = (tag >>> 2) + 1;
        if (length > 60) {
          const extra = length - 60;
          if (pos + extra > end) throw invalid(`a literal's length runs past the end at byte ${pos}`);
          length = 0;
          for (let i = extra - 1; i >= 0; i--) length = length * 256 + block[pos + i]!;
          length += 1;
          pos += extra;
        }
        if (pos + length > end) throw invalid(`a literal of ${length} bytes runs past the end at byte ${pos}`);
        if (produced + length > declared) throw overrun(declared);
        if (length < SHORT_COPY) for (let i = 0; i < length; i++) out[produced + i] = block[pos + i]!;
        else block.copy(out, produced, pos, pos + length);
        pos += length;
        produced += length;
        continue;
      }
      case 1:
        if (pos + 1 > end) throw invalid(`a copy's offset runs past the end at byte ${pos}`);
        length = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | block[pos++]!;
        break;
      case 2:
        if (pos + 2 > end) throw invalid(`a copy's offset runs past the end at byte ${pos}`);
        length = (tag >>> 2) + 1;
        offset = block[pos]! | (block[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > end) throw invalid(`a copy's offset runs past the end at byte ${pos}`);
        length = (tag >>> 2) + 1;
        offset = (block[pos]! | (block[pos + 1]! << 8) | (block[pos + 2]! << 16)) + block[pos + 3]! * 16777216;
        pos += 4;
    }
    if (offset === 0 || offset > produced) throw invalid(`a copy reaches back ${offset} bytes from byte ${produced} of the output`);
    if (produced + length > declared) throw overrun(declared);
    // A copy longer than its offset repeats the bytes it is writing, which copyWithin (a memmove) would not.
    if (length < SHORT_COPY || offset < length) for (let i = 0; i < length; i++) out[produced + i] = out[produced - offset + i]!;
    else out.copyWithin(produced, produced - offset, produced - offset + length);
    produced += length;
  }
  if (produced !== declared) throw invalid(`it produces ${produced} bytes, not the ${declared} its header declares`);
  return out;
}

function invalid(fault: string): UserError {
  return new UserError('BAD_DATA', `invalid snappy body: ${fault}`);
}

function overrun(declared: number): UserError {
  return invalid(`it produces more than the ${declared} bytes its header declares`);
}
