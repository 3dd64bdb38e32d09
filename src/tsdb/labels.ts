/**
 * A label set as one flat array `[name0, value0, name1, value1, ...]`, sorted by name, with no
 * empty values. Flat arrays cost one allocation per set, compare without hashing, and keep the
 * Prometheus rule that an empty value is the same as an absent label.
 */
export type Labels = readonly string[];

export const METRIC_NAME = '__name__';

export const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;

export function labelsFromPairs(pairs: Iterable<readonly [string, string]>): Labels {
  const list: [string, string][] = [];
  for (const [name, value] of pairs) {
    if (value !== '') list.push([name, value]);
  }
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    // A repeated name keeps its last value, as a map would.
    if (i + 1 < list.length && list[i + 1]![0] === name) continue;
    out.push(name, value);
  }
  return out;
}

export function labelsFromRecord(rec: Record<string, string>): Labels {
  return labelsFromPairs(Object.entries(rec));
}

export function labelsToRecord(l: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < l.length; i += 2) out[l[i]!] = l[i + 1]!;
  return out;
}

function indexOfName(l: Labels, name: string): number {
  // Label sets are short (a handful to a few dozen names): a linear scan beats bisection.
  for (let i = 0; i < l.length; i += 2) {
    if (l[i] === name) return i;
  }
  return -1;
}

/** The value of a label, '' when absent. */
export function labelsGet(l: Labels, name: string): string {
  const i = indexOfName(l, name);
  return i === -1 ? '' : l[i + 1]!;
}

export function labelsHas(l: Labels, name: string): boolean {
  return indexOfName(l, name) !== -1;
}

/** A string unique to the label set, for maps keyed by label set. */
export function labelsKey(l: Labels): string {
  // \xff never occurs in valid UTF-8 text, so it cannot be confused with label content.
  return l.join('\xff');
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Prometheus's ordering of label sets: name by name, then value by value, shorter first. */
export function labelsCompare(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 2) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    if (a[i + 1] !== b[i + 1]) return a[i + 1]! < b[i + 1]! ? -1 : 1;
  }
  return a.length - b.length;
}

export function labelsWithout(l: Labels, names: Iterable<string>): Labels {
  const drop = names instanceof Set ? (names as Set<string>) : new Set(names);
  const out: string[] = [];
  for (let i = 0; i < l.length; i += 2) {
    if (!drop.has(l[i]!)) out.push(l[i]!, l[i + 1]!);
  }
  return out;
}

export function labelsKeep(l: Labels, names: Iterable<string>): Labels {
  const keep = names instanceof Set ? (names as Set<string>) : new Set(names);
  const out: string[] = [];
  for (let i = 0; i < l.length; i += 2) {
    if (keep.has(l[i]!)) out.push(l[i]!, l[i + 1]!);
  }
  return out;
}

/** `name{a="b", c="d"}` as Prometheus prints a series. */
export function labelsString(l: Labels): string {
  const name = labelsGet(l, METRIC_NAME);
  const parts: string[] = [];
  for (let i = 0; i < l.length; i += 2) {
    if (l[i] === METRIC_NAME) continue;
    parts.push(`${l[i]}=${JSON.stringify(l[i + 1])}`);
  }
  if (parts.length === 0 && name !== '') return name;
  return `${name}{${parts.join(', ')}}`;
}

/** Edits on a label set; the base is never modified. */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base: Labels = EMPTY_LABELS) {
    for (let i = 0; i < base.length; i += 2) this.map.set(base[i]!, base[i + 1]!);
  }

  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  del(name: string): this {
    this.map.delete(name);
    return this;
  }

  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  labels(): Labels {
    return labelsFromPairs(this.map);
  }
}
