import type { Labels } from './labels.js';
import type { Series } from './series.js';

/**
 * Series by label set, keyed by a hash of the labels: a joined string key cost each series a
 * copy of all its label text (~150 bytes for a collector's series), a small-integer key costs
 * nothing beyond the map's entry. Series whose hashes collide share an entry as an array.
 */
export class SeriesMap {
  private readonly byHash = new Map<number, Series | Series[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(labels: Labels): Series | undefined {
    const found = this.byHash.get(labelsHash(labels));
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return found.hasLabels(labels) ? found : undefined;
    return found.find((s) => s.hasLabels(labels));
  }

  /** Adds a series whose label set (`labels`, which it need not build) is not in the map. */
  add(series: Series, labels: Labels): void {
    const hash = labelsHash(labels);
    const found = this.byHash.get(hash);
    if (found === undefined) this.byHash.set(hash, series);
    else if (Array.isArray(found)) found.push(series);
    else this.byHash.set(hash, [found, series]);
    this.count++;
  }

  delete(series: Series): void {
    const hash = labelsHash(series.labels);
    const found = this.byHash.get(hash);
    if (found === series) {
      this.byHash.delete(hash);
    } else if (Array.isArray(found) && found.includes(series)) {
      found.splice(found.indexOf(series), 1);
      if (found.length === 1) this.byHash.set(hash, found[0]!);
    } else {
      return;
    }
    this.count--;
  }

  /** Every series in creation order, except that one whose hash collides with an older's comes right after it. */
  *values(): IterableIterator<Series> {
    for (const entry of this.byHash.values()) {
      // A copy: gc deletes series while it walks them.
      if (Array.isArray(entry)) yield* entry.slice();
      else yield entry;
    }
  }

  clear(): void {
    this.byHash.clear();
    this.count = 0;
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
