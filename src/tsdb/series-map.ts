import type { Labels } from './labels.js';
import { FREED_SLOT, type SeriesColumns } from './series-columns.js';
import type { Series } from './series.js';

const FIRST_CAPACITY = 16;

/**
 * Series by label set: an open-addressing table of their slots, found by a hash of the labels
 * kept in the columns and confirmed by comparing the labels. A joined string key cost each series
 * a copy of all its label text (~150 bytes for a collector's series), a Map entry keyed by the
 * hash about 40 bytes; a slot in the table costs 4 bytes, a few more with the table's room.
 */
export class SeriesMap {
  private table = new Int32Array(FIRST_CAPACITY);
  private count = 0;

  constructor(private readonly cols: SeriesColumns<Series>) {}

  get size(): number {
    return this.count;
  }

  get(labels: Labels): Series | undefined {
    const table = this.table;
    const mask = table.length - 1;
    const hash = labelsHash(labels);
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === 0) return undefined;
      if (this.cols.hash[slot] === hash) {
        const s = this.cols.series[slot]!;
        if (s.hasLabels(labels)) return s;
      }
    }
  }

  /** Adds a series of these columns whose label set (`labels`, which it need not build) is not in the map. */
  add(series: Series, labels: Labels): void {
    if (4 * (this.count + 1) > 3 * this.table.length) this.grow();
    const hash = labelsHash(labels);
    this.cols.hash[series.id] = hash;
    this.place(this.table, series.id, hash);
    this.count++;
  }

  delete(series: Series): void {
    const table = this.table;
    const mask = table.length - 1;
    const slot = series.id;
    if (slot === FREED_SLOT) return;
    let i = this.cols.hash[slot]! & mask;
    while (table[i] !== slot) {
      if (table[i] === 0) return;
      i = (i + 1) & mask;
    }
    // Linear probing without tombstones: later entries of the run move back into the hole when their home allows.
    for (let j = i; ;) {
      table[i] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const moved = table[j]!;
        if (moved === 0) {
          this.count--;
          return;
        }
        const home = this.cols.hash[moved]! & mask;
        if (i <= j ? home <= i || home > j : home <= i && home > j) {
          table[i] = moved;
          i = j;
          break;
        }
      }
    }
  }

  /**
   * Every live series of the columns, which the database keeps all in the map, in slot order
   * (creation order until freed slots are reused).
   */
  *values(): IterableIterator<Series> {
    // By index, with a series read as it is reached: gc deletes series while it walks them.
    const all = this.cols.series;
    for (let slot = 1; slot < all.length; slot++) {
      const s = all[slot];
      if (s !== undefined) yield s;
    }
  }

  clear(): void {
    this.table.fill(0);
    this.count = 0;
  }

  private place(table: Int32Array, slot: number, hash: number): void {
    const mask = table.length - 1;
    let i = hash & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot;
  }

  private grow(): void {
    const old = this.table;
    const table = new Int32Array(2 * old.length);
    for (const slot of old) if (slot !== 0) this.place(table, slot, this.cols.hash[slot]!);
    this.table = table;
  }
}

/** A 30-bit hash of a label set (FNV-1a over the text, then mixed): small enough to stay a small integer. */
export function labelsHash(labels: Labels): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    const s = labels[i]!;
    for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
    // A separator, so that ["ab", "c"] and ["a", "bc"] differ.
    h = Math.imul(h ^ 0xffff, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & 0x3fffffff;
}
