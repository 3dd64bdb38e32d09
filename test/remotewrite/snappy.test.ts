import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../src/otlp/slices.js';
import { decompressSnappy as decompressSlices, snappyDeclaredLength } from '../../src/remotewrite/snappy.js';
import { snappy } from './client.js';

const decompressSnappy = (block: Buffer, max: number) => runToEnd(decompressSlices(block, max));

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

  it('repeats bytes for a copy longer than its offset, and pauses every megabyte of a large block', () => {
    // 'ab' then a 2-byte copy element reaching back 2 for 60 bytes: abab…
    const runLength = Buffer.from([62, 0x04, 0x61, 0x62, 0xee, 0x02, 0x00]);
    expect(decompressSnappy(runLength, 64).toString()).toBe('ab'.repeat(31));
    const data = Buffer.alloc(5 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const slices = decompressSlices(snappy(data), data.length);
    let pauses = 0;
    let step = slices.next();
    for (; !step.done; step = slices.next()) pauses++;
    expect(step.value.equals(data)).toBe(true);
    expect(pauses).toBeGreaterThanOrEqual(4);
  });
});
