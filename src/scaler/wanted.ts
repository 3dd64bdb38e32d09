/**
 * The metric names the known triggers read, counted so a name stays wanted while any trigger
 * reads it, and the time from which lazy mode has kept each one: a name lazy mode starts keeping
 * only now has no history, so a query over it is trustworthy only once its window fits after that.
 */
export class WantedNames {
  private readonly readers = new Map<string, number>();
  private readonly names = new Set<string>();
  /** When each name became wanted; -Infinity when the store already held it, +Infinity while unwanted with series left. */
  private readonly since = new Map<string, number>();

  /** `hasSeries` says whether the store holds series of a name (restored ones, say), which then need no new start. */
  constructor(private readonly hasSeries: (name: string) => boolean) {}

  /** What lazy ingest keeps. */
  get all(): ReadonlySet<string> {
    return this.names;
  }

  add(names: readonly string[], now: number): void {
    for (const n of names) {
      const count = this.readers.get(n) ?? 0;
      this.readers.set(n, count + 1);
      if (count > 0) continue;
      this.names.add(n);
      const since = this.since.get(n);
      // A name dropped earlier has a gap since it was dropped, whatever series are left of it.
      this.since.set(n, since === undefined && this.hasSeries(n) ? -Infinity : now);
    }
  }

  remove(names: readonly string[]): void {
    for (const n of names) {
      const count = this.readers.get(n)! - 1;
      if (count > 0) {
        this.readers.set(n, count);
        continue;
      }
      this.readers.delete(n);
      this.names.delete(n);
      if (this.hasSeries(n)) this.since.set(n, Infinity);
      else this.since.delete(n);
    }
  }

  /** From when lazy mode has kept every one of `names`: the latest of their starts. */
  keptSince(names: readonly string[]): number {
    let latest = -Infinity;
    for (const n of names) latest = Math.max(latest, this.since.get(n) ?? Infinity);
    return latest;
  }
}
