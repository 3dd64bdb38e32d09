/**
 * Encoded protobuf bytes used as a cache key without turning them into a string: a hash of the
 * bytes finds the entry, a comparison of the bytes confirms it. Building and hashing a string key
 * for every data point was a fifth of ingest time and most of its garbage.
 */

/** The bytes a key lies in, with a view to read them four at a time. */
export interface EncodedBytes {
  readonly buf: Uint8Array;
  readonly view: DataView;
}

export interface EncodedKey {
  /** hashBytes of the key's bytes. */
  readonly hash: number;
  readonly keyBytes: EncodedBytes;
  readonly keyStart: number;
  readonly keyEnd: number;
}

/** Random per process, so that colliding keys cannot be prepared in advance. */
const SEED = (Math.random() * 0x100000000) >>> 0;

/**
 * MurmurHash3 (x86, 32-bit) of buf[start, end), cut to 30 bits so that it is a small integer
 * (stored in an object field without a heap number).
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = SEED;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = buf[i]!;
    if (rest > 1) k |= buf[i + 1]! << 8;
    if (rest > 2) k |= buf[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** The last 1–3 bytes of a key as one little-endian word. */
function tailWord(buf: Uint8Array, from: number, end: number): number {
  let w = 0;
  for (let j = 0; from + j < end; j++) w |= buf[from + j]! << (8 * j);
  return w;
}

/**
 * Copies of keys packed in one growing Int32Array: a copy is no object of its own (it was a
 * string a series before), and equality reads four bytes at a time, which is several times
 * faster in JavaScript than a loop over bytes.
 */
export class KeyArena {
  private words = new Int32Array(1024);
  private used = 0;

  /** Copies the key in; returns where its words start. */
  add(key: EncodedKey): number {
    const { buf, view } = key.keyBytes;
    const start = key.keyStart;
    const end = key.keyEnd;
    const need = (end - start + 3) >> 2;
    if (this.used + need > this.words.length) {
      // By an eighth, not double: the arena holds a key a series, and slack is memory a series;
      // the copies this costs add up to a few times the arena, once.
      const grown = new Int32Array(Math.max(this.words.length + Math.max(this.words.length >> 3, 1024), this.used + need));
      grown.set(this.words.subarray(0, this.used));
      this.words = grown;
    }
    const at = this.used;
    let w = at;
    let i = start;
    for (; i + 4 <= end; i += 4) this.words[w++] = view.getInt32(i, true);
    if (i < end) this.words[w++] = tailWord(buf, i, end);
    this.used = w;
    return at;
  }

  /** The key's bytes equal the `length` bytes copied in at `at`. */
  equals(at: number, length: number, key: EncodedKey): boolean {
    const start = key.keyStart;
    const end = key.keyEnd;
    if (end - start !== length) return false;
    const { buf, view } = key.keyBytes;
    const words = this.words;
    let w = at;
    let i = start;
    for (; i + 4 <= end; i += 4) if (view.getInt32(i, true) !== words[w++]) return false;
    return i === end || tailWord(buf, i, end) === words[w];
  }
}

interface Entry<V> {
  readonly at: number;
  readonly length: number;
  value: V;
  next: Entry<V> | undefined;
}

/** A map keyed by encoded bytes: entries chained by hash, confirmed by comparing the bytes. */
export class EncodedKeyMap<V> {
  private readonly byHash = new Map<number, Entry<V>>();
  private count = 0;

  constructor(private readonly arena: KeyArena) {}

  get size(): number {
    return this.count;
  }

  get(key: EncodedKey): V | undefined {
    for (let e = this.byHash.get(key.hash); e !== undefined; e = e.next) {
      if (this.arena.equals(e.at, e.length, key)) return e.value;
    }
    return undefined;
  }

  set(key: EncodedKey, value: V): void {
    const head = this.byHash.get(key.hash);
    for (let e = head; e !== undefined; e = e.next) {
      if (this.arena.equals(e.at, e.length, key)) {
        e.value = value;
        return;
      }
    }
    this.byHash.set(key.hash, { at: this.arena.add(key), length: key.keyEnd - key.keyStart, value, next: head });
    this.count++;
  }
}
