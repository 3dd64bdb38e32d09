/**
 * One label pair, its number and the series that carry it. Interning through the postings
 * means a string lives exactly as long as some series uses it, so pod churn (a new `instance`
 * every few minutes) does not grow an intern table forever. The series are an array in id order
 * (ids grow, so adding is a push): 8 bytes a series where a Set took about 40.
 */
export interface Posting<S> {
  /** The pair's number in a series' label ids, reused once no series carries the pair. */
  readonly id: number;
  readonly name: string;
  readonly value: string;
  series: S[];
}

export interface NamePostings<S> {
  readonly name: string;
  readonly values: Map<string, Posting<S>>;
}

/** Every label pair of a database's series (S), by name and value and by number. */
export class Postings<S> {
  readonly byName = new Map<string, NamePostings<S>>();
  /** Pairs by id; 0 is never one. */
  private readonly byId: (Posting<S> | undefined)[] = [undefined];
  private readonly freedIds: number[] = [];

  get(name: string, value: string): Posting<S> | undefined {
    return this.byName.get(name)?.values.get(value);
  }

  /** The pair's posting, made (its strings kept, its series none yet) when new. */
  intern(name: string, value: string): Posting<S> {
    let entry = this.byName.get(name);
    if (entry === undefined) {
      entry = { name, values: new Map() };
      this.byName.set(name, entry);
    }
    let posting = entry.values.get(value);
    if (posting === undefined) {
      const id = this.freedIds.pop() ?? this.byId.length;
      posting = { id, name: entry.name, value, series: [] };
      this.byId[id] = posting;
      entry.values.set(value, posting);
    }
    return posting;
  }

  /** The pair numbered id, which some series carries. */
  pair(id: number): Posting<S> {
    return this.byId[id]!;
  }

  /** Forgets a posting no series carries any more. */
  remove(posting: Posting<S>): void {
    const values = this.byName.get(posting.name)!.values;
    values.delete(posting.value);
    if (values.size === 0) this.byName.delete(posting.name);
    this.byId[posting.id] = undefined;
    this.freedIds.push(posting.id);
  }

  clear(): void {
    this.byName.clear();
    this.byId.length = 1;
    this.freedIds.length = 0;
  }
}
