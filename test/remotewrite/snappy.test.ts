import { describe, expect, it } from 'vitest';
import { decompressSnappy, snappyDeclaredLength } from '../../src/remotewrite/snappy.js';
import { snappy } from './client.js';

describe('snappy block decompression', () => {
  it('reads the declared length from the header', () => {
    expect(snappyDeclaredLength(Uint8Array.from([0x00]))).toBe(0);
    expect(snappyDeclaredLength(Uint8Array.from([0xfe, 0xff, 0x7f]))).toBe(2097150);
    expect(snappyDeclaredLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(4294967295);
    expect(snappyDeclaredLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x1f]))).toBe(-1);
    expect(snappyDeclaredLength(Uint8Array.from([0x80]))).toBe(-1);
  });

  it('round-trips and enforces the limit before allocating', () => {
    const data = Buffer.from('remote write '.repeat(1000));
    expect(decompressSnappy(snappy(data), data.length).equals(data)).toBe(true);
    expect(() => decompressSnappy(snappy(data), data.length - 1)).toThrow(
      `snappy body declares ${data.length} uncompressed bytes, over the limit of ${data.length - 1} bytes`,
    );
  });

  it('refuses blocks whose elements do not produce exactly the declared bytes', () => {
    const block = snappy(Buffer.from('remote write '.repeat(1000)));
    const cases: [Buffer, string | RegExp][] = [
      [Buffer.from([0x05, 0x0d]), "a copy's offset runs past the end at byte 2"],
      [block.subarray(0, block.length - 3), /runs past the end|not the 13000 its header declares/],
      [Buffer.from([0x05, 0x00, 0x61]), 'it produces 1 bytes, not the 5 its header declares'],
      [Buffer.from([0x02, 0x08, 0x61, 0x62, 0x63]), 'it produces more than the 2 bytes its header declares'],
      [Buffer.from([0x08, 0x00, 0x61, 0x0d, 0x02]), 'a copy reaches back 2 bytes from byte 1 of the output'],
    ];
    for (const [body, message] of cases) expect(() => decompressSnappy(body, 1 << 20), String(message)).toThrow(message);
  });
});
