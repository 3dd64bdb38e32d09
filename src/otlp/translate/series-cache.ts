import type { Series } from '../../tsdb/series.js';
import { EncodedKeyMap, KeyArena, type EncodedKey } from '../decode/encoded-key.js';
import type { MetricNames } from './names.js';
import type { ResourceLabels } from './series-labels.js';

/** Least bound on the series cache; it otherwise holds up to twice the database's series limit. */
const MIN_SERIES_CACHE_LIMIT = 100_000;
const FIRST_CAPACITY = 64;

/**
 * Series found before, by resource (its encoded bytes), metric and encoded point attributes:
 * steady-state ingest appends without building a label set. Entries of freed series are noticed
 * through `Series.live`; the whole cache is dropped when it outgrows its bound.
 *
 * Every resource's and metric's series share one open-addressing table in typed arrays, the
 * (resource, metric) pair a small integer in the entry: a map of entry objects for each pair
 * cost about 95 bytes a series, these columns about 35.
 */
export class SeriesCache {
  private keyArena!: KeyArena;
  private resources!: EncodedKeyMap<ResourceLabels>;
  private scopes!: WeakMap<ResourceLabels, Map<MetricNames, number>>;
  private nextScope = 1;
  /** Open addressing: entry + 1 in each slot, 0 for empty. Four bytes a slot, so it can be sparse. */
  private slots!: Int32Array;
  /** The entries, in the order remembered: hash, (resource, metric) scope, the key's place and length in the arena, series. */
  private hashes!: Int32Array;
  private scopeOf!: Int32Array;
  private keyAt!: Int32Array;
  private keyLength!: Int32Array;
  private series!: Series[];
  private count = 0;
  private readonly seriesCacheLimit: number;

  constructor(maxSeries: number) {
    this.seriesCacheLimit = Number.isFinite(maxSeries) ? Math.max(MIN_SERIES_CACHE_LIMIT, 2 * maxSeries) : 2_000_000;
    this.reset();
  }

  /** The labels of a resource seen before, by its encoded bytes. */
  resource(key: EncodedKey): ResourceLabels | undefined {
    return this.resources.get(key);
  }

  rememberResource(key: EncodedKey, labels: ResourceLabels): void {
    this.resources.set(key, labels);
  }

  /** The number naming one resource's and metric's series in get() and remember(). */
  pointSeries(resource: ResourceLabels, names: MetricNames): number {
    let byMetric = this.scopes.get(resource);
    if (byMetric === undefined) {
      byMetric = new Map();
      this.scopes.set(resource, byMetric);
    }
    let scope = byMetric.get(names);
    if (scope === undefined) {
      scope = this.nextScope++;
      byMetric.set(names, scope);
    }
    return scope;
  }

  /** The series of the scope's point with these encoded attributes, if seen before. */
  get(scope: number, key: EncodedKey): Series | undefined {
    const entry = this.slots[this.find(scope, key)]! - 1;
    return entry < 0 ? undefined : this.series[entry];
  }

  remember(scope: number, key: EncodedKey, series: Series): void {
    if (this.count >= this.seriesCacheLimit) this.reset();
    const slot = this.find(scope, key);
    const found = this.slots[slot]! - 1;
    if (found >= 0) {
      this.series[found] = series;
      return;
    }
    const entry = this.count++;
    if (entry === this.hashes.length) this.growEntries();
    this.hashes[entry] = hashOf(scope, key.hash);
    this.scopeOf[entry] = scope;
    this.keyAt[entry] = this.keyArena.add(key);
    this.keyLength[entry] = key.keyEnd - key.keyStart;
    this.series[entry] = series;
    if (4 * this.count > 3 * this.slots.length) this.growSlots();
    else this.slots[slot] = entry + 1;
  }

  /** The slot holding the scope's key, or the empty slot where it would go. */
  private find(scope: number, key: EncodedKey): number {
    const mask = this.slots.length - 1;
    const hash = hashOf(scope, key.hash);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = this.slots[slot]! - 1;
      if (e < 0 || (this.hashes[e] === hash && this.scopeOf[e] === scope && this.keyArena.equals(this.keyAt[e]!, this.keyLength[e]!, key))) return slot;
    }
  }

  private growSlots(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = this.hashes[e]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
  }

  /** By an eighth, not double: the entries are a series each, and slack is memory a series. `series` grows by itself. */
  private growEntries(): void {
    const n = this.hashes.length;
    const size = n + Math.max(n >> 3, 1024);
    this.hashes = grown(this.hashes, size);
    this.scopeOf = grown(this.scopeOf, size);
    this.keyAt = grown(this.keyAt, size);
    this.keyLength = grown(this.keyLength, size);
  }

  private reset(): void {
    this.keyArena = new KeyArena();
    this.resources = new EncodedKeyMap(this.keyArena);
    this.scopes = new WeakMap();
    this.nextScope = 1;
    this.slots = new Int32Array(FIRST_CAPACITY);
    this.hashes = new Int32Array(FIRST_CAPACITY);
    this.scopeOf = new Int32Array(FIRST_CAPACITY);
    this.keyAt = new Int32Array(FIRST_CAPACITY);
    this.keyLength = new Int32Array(FIRST_CAPACITY);
    this.series = [];
    this.count = 0;
  }
}

function grown(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** The attributes' hash mixed with the scope, kept to 30 bits. */
function hashOf(scope: number, hash: number): number {
  return (hash ^ Math.imul(scope, 0x9e3779b1)) & 0x3fffffff;
}
