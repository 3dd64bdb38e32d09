import { describe, expect, it } from 'vitest';
import { EncodedKeyMap, hashBytes, KeyArena, type EncodedKey } from '../../../src/otlp/decode/encoded-key.js';

/** A key over `text`'s bytes placed at `offset` in a larger buffer, with its hash or a forced one. */
function key(text: string, offset = 3, hash?: number): EncodedKey {
  const bytes = Buffer.from(text, 'utf8');
  const buf = Buffer.alloc(offset + bytes.length + 5, 0xee);
  bytes.copy(buf, offset);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = offset + bytes.length;
  return { hash: hash ?? hashBytes(buf, offset, end), keyBytes: { buf, view }, keyStart: offset, keyEnd: end };
}

describe('encoded keys', () => {
  it('hash equal bytes alike wherever they lie, as small integers', () => {
    const a = key('service.instance.id=pod-1', 0);
    const b = key('service.instance.id=pod-1', 7);
    expect(a.hash).toBe(b.hash);
    expect(key('service.instance.id=pod-2').hash).not.toBe(a.hash);
    expect(Number.isInteger(a.hash) && a.hash >= 0 && a.hash < 2 ** 30).toBe(true);
  });

  it('find a value by equal bytes, whatever the length modulo four', () => {
    const map = new EncodedKeyMap<number>(new KeyArena());
    const texts = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh'];
    texts.forEach((t, i) => map.set(key(t, i), i));
    texts.forEach((t, i) => expect(map.get(key(t, 5))).toBe(i));
    expect(map.get(key('abcdefgi'))).toBeUndefined();
    expect(map.size).toBe(texts.length);
  });

  it('tell apart different bytes that share a hash, and overwrite the same bytes', () => {
    const map = new EncodedKeyMap<string>(new KeyArena());
    map.set(key('first', 0, 42), 'one');
    map.set(key('second', 0, 42), 'two');
    map.set(key('firsT', 0, 42), 'three');
    expect(map.get(key('first', 2, 42))).toBe('one');
    expect(map.get(key('second', 2, 42))).toBe('two');
    expect(map.get(key('firsT', 2, 42))).toBe('three');
    map.set(key('second', 1, 42), 'again');
    expect(map.get(key('second', 0, 42))).toBe('again');
    expect(map.size).toBe(3);
  });

  it('keep every copy intact while the shared arena grows', () => {
    const arena = new KeyArena();
    const map = new EncodedKeyMap<number>(arena);
    const text = (i: number) => `pod-${i}-${'x'.repeat(i % 40)}`;
    for (let i = 0; i < 5000; i++) map.set(key(text(i), i % 4), i);
    for (let i = 0; i < 5000; i++) expect(map.get(key(text(i)))).toBe(i);
  });
});
