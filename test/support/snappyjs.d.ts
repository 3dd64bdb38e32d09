/** snappyjs ships no types: the two functions it exports, as its index.js defines them. */
declare module 'snappyjs' {
  import type { Buffer } from 'node:buffer';

  /** Throws when the block is malformed or declares more than `maxLength` bytes. */
  export function uncompress(compressed: Buffer, maxLength?: number): Buffer;
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Buffer): Buffer;
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
