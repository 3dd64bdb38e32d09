import { formatFloatG } from '../common/go-format.js';

/**
 * A native histogram with float counts, as Prometheus keeps one for queries: a schema (the
 * resolution of exponential buckets, or -53 for custom bucket boundaries), a zero bucket, the
 * count and sum of observations, and sparse positive and negative buckets as spans of
 * consecutive indexes. Bucket counts are absolute, not deltas.
 *
 * Exponential bucket `i` of schema `s` holds observations in (2^((i-1)·2^-s), 2^(i·2^-s)]
 * (negative buckets mirror it below zero); custom bucket `i` holds (customValues[i-1],
 * customValues[i]], the first from -Inf and one past the last up to +Inf.
 */

export type CounterResetHint = 'unknown' | 'reset' | 'not_reset' | 'gauge';

/** The hints by the number Prometheus gives each (remote write's ResetHint too), which our chunks and snapshots write. */
export const COUNTER_RESET_HINTS: readonly CounterResetHint[] = ['unknown', 'reset', 'not_reset', 'gauge'];

export interface BucketSpan {
  /** Gap from the end of the previous span (from index 0 for the first). */
  offset: number;
  length: number;
}

export const CUSTOM_BUCKETS_SCHEMA = -53;

/** Prometheus's range of exponential schemas: a finer one is reduced to the finest by merging buckets, a coarser one refused. */
export const MIN_EXPONENTIAL_SCHEMA = -4;
export const MAX_EXPONENTIAL_SCHEMA = 8;

/** Buckets as sorted indexes with their counts: the form the arithmetic works on. */
export interface IndexedBuckets {
  idx: number[];
  cnt: number[];
}

export interface FloatHistogramFields {
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  count?: number;
  sum?: number;
  positiveSpans?: BucketSpan[];
  positiveBuckets?: number[];
  negativeSpans?: BucketSpan[];
  negativeBuckets?: number[];
  customValues?: number[];
  counterResetHint?: CounterResetHint;
}

/** Two histograms that cannot be combined: one has exponential buckets, the other custom ones. */
export class MixedSchemasError extends Error {
  override name = 'MixedSchemasError';
  constructor() {
    super('vector contains a mix of histograms with exponential and custom buckets schemas');
  }
}

/**
 * The counter reset hints of histograms added up. One that says its counter was reset beside one
 * that says it was not contradicts it: the sum of the two counts is no counter, and Prometheus warns.
 */
export class HintsSeen {
  private reset = false;
  private notReset = false;

  clear(): void {
    this.reset = false;
    this.notReset = false;
  }

  note(h: FloatHistogram): void {
    if (h.counterResetHint === 'reset') this.reset = true;
    else if (h.counterResetHint === 'not_reset') this.notReset = true;
  }

  conflict(): boolean {
    return this.reset && this.notReset;
  }
}

/** What an operation noticed that a query may want to report. */
export interface HistogramOpNotes {
  /** Custom bucket boundaries differed and were reduced to the ones both share. */
  reconciled: boolean;
  /** One operand said its counter was reset, the other that it was not. */
  conflictingResets?: boolean;
}

export class FloatHistogram {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positiveSpans: BucketSpan[];
  positiveBuckets: number[];
  negativeSpans: BucketSpan[];
  negativeBuckets: number[];
  customValues: number[];
  counterResetHint: CounterResetHint;

  constructor(f: FloatHistogramFields = {}) {
    this.schema = f.schema ?? 0;
    this.zeroThreshold = f.zeroThreshold ?? 0;
    this.zeroCount = f.zeroCount ?? 0;
    this.count = f.count ?? 0;
    this.sum = f.sum ?? 0;
    this.positiveSpans = f.positiveSpans ?? [];
    this.positiveBuckets = f.positiveBuckets ?? [];
    this.negativeSpans = f.negativeSpans ?? [];
    this.negativeBuckets = f.negativeBuckets ?? [];
    this.customValues = f.customValues ?? [];
    this.counterResetHint = f.counterResetHint ?? 'unknown';
  }

  usesCustomBuckets(): boolean {
    return this.schema === CUSTOM_BUCKETS_SCHEMA;
  }

  copy(): FloatHistogram {
    return new FloatHistogram({
      ...this,
      positiveSpans: this.positiveSpans.map((s) => ({ ...s })),
      positiveBuckets: [...this.positiveBuckets],
      negativeSpans: this.negativeSpans.map((s) => ({ ...s })),
      negativeBuckets: [...this.negativeBuckets],
      customValues: this.customValues,
    });
  }

  positive(): IndexedBuckets {
    return expand(this.positiveSpans, this.positiveBuckets);
  }

  negative(): IndexedBuckets {
    return expand(this.negativeSpans, this.negativeBuckets);
  }

  private setBuckets(pos: IndexedBuckets, neg: IndexedBuckets): void {
    [this.positiveSpans, this.positiveBuckets] = collapse(pos);
    [this.negativeSpans, this.negativeBuckets] = collapse(neg);
  }

  /** Every count and the sum multiplied by `f`, in place; a negative factor leaves no counter, so the result is a gauge. */
  mul(f: number): this {
    this.zeroCount *= f;
    this.count *= f;
    this.sum *= f;
    for (let i = 0; i < this.positiveBuckets.length; i++) this.positiveBuckets[i]! *= f;
    for (let i = 0; i < this.negativeBuckets.length; i++) this.negativeBuckets[i]! *= f;
    if (f < 0) this.counterResetHint = 'gauge';
    return this;
  }

  /**
   * Every count and the sum divided by `d`, in place. Dividing by zero keeps the zero bucket,
   * count and sum (now infinite or NaN) but drops the buckets, as Prometheus does: a bucket of
   * infinite count says nothing about where the observations were.
   */
  div(d: number): this {
    this.zeroCount /= d;
    this.count /= d;
    this.sum /= d;
    if (d === 0) {
      this.positiveSpans = [];
      this.positiveBuckets = [];
      this.negativeSpans = [];
      this.negativeBuckets = [];
      return this;
    }
    for (let i = 0; i < this.positiveBuckets.length; i++) this.positiveBuckets[i]! /= d;
    for (let i = 0; i < this.negativeBuckets.length; i++) this.negativeBuckets[i]! /= d;
    if (d < 0) this.counterResetHint = 'gauge';
    return this;
  }

  /** `this + sign·other` as a new histogram, at the coarser schema and the wider zero bucket. */
  private combine(other: FloatHistogram, sign: 1 | -1, notes?: HistogramOpNotes): FloatHistogram {
    const a = this;
    const b = other;
    if (a.usesCustomBuckets() !== b.usesCustomBuckets()) throw new MixedSchemasError();
    const ha = a.counterResetHint;
    const hb = b.counterResetHint;
    if (notes !== undefined && ((ha === 'reset' && hb === 'not_reset') || (ha === 'not_reset' && hb === 'reset'))) notes.conflictingResets = true;
    const out = new FloatHistogram({
      schema: Math.min(a.schema, b.schema),
      zeroThreshold: Math.max(a.zeroThreshold, b.zeroThreshold),
      count: a.count + sign * b.count,
      sum: a.sum + sign * b.sum,
      counterResetHint: sign === -1 ? 'gauge' : sumHint(a.counterResetHint, b.counterResetHint),
    });
    if (a.usesCustomBuckets()) {
      const shared = sameValues(a.customValues, b.customValues) ? a.customValues : intersect(a.customValues, b.customValues);
      if (shared !== a.customValues && notes !== undefined) notes.reconciled = true;
      out.customValues = shared;
      out.setBuckets(addIndexed(toCustom(a.positive(), a.customValues, shared), toCustom(b.positive(), b.customValues, shared), sign), { idx: [], cnt: [] });
      return out;
    }
    let zeroCount = 0;
    const parts = [a, b].map((h, k) => {
      const pos = reduceIndexed(h.positive(), h.schema, out.schema);
      const neg = reduceIndexed(h.negative(), h.schema, out.schema);
      let z = h.zeroCount;
      if (h.zeroThreshold < out.zeroThreshold) z += takeIntoZero(pos, out.schema, out.zeroThreshold) + takeIntoZero(neg, out.schema, out.zeroThreshold);
      zeroCount += k === 0 ? z : sign * z;
      return { pos, neg };
    });
    out.zeroCount = zeroCount;
    out.setBuckets(addIndexed(parts[0]!.pos, parts[1]!.pos, sign), addIndexed(parts[0]!.neg, parts[1]!.neg, sign));
    return out;
  }

  /** The sum; its hint as sumHint() says. */
  add(other: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
    return this.combine(other, 1, notes);
  }

  /** The difference, a gauge whatever its operands were. */
  sub(other: FloatHistogram, notes?: HistogramOpNotes): FloatHistogram {
    return this.combine(other, -1, notes);
  }

  /** A copy at a coarser (smaller) exponential schema: neighbouring buckets merged. */
  reduceResolution(schema: number): FloatHistogram {
    const out = this.copy();
    if (this.usesCustomBuckets() || schema >= this.schema) return out;
    out.setBuckets(reduceIndexed(this.positive(), this.schema, schema), reduceIndexed(this.negative(), this.schema, schema));
    out.schema = schema;
    return out;
  }

  /** Empty buckets dropped and spans rejoined, in place: the canonical form for comparing. */
  compact(): this {
    this.setBuckets(dropEmpty(this.positive()), dropEmpty(this.negative()));
    return this;
  }

  /**
   * True when this histogram begins a new run of a counter after `prev`: its hint says so, or
   * (hint unknown or gauge) some bucket count, the zero count or the count went down, or the
   * buckets changed in a way no growing counter can.
   */
  detectReset(prev: FloatHistogram): boolean {
    if (this.counterResetHint === 'reset') return true;
    if (this.counterResetHint === 'not_reset') return false;
    if (this.count < prev.count) return true;
    if (this.usesCustomBuckets() !== prev.usesCustomBuckets()) return true;
    if (this.schema > prev.schema) return true;
    if (this.zeroThreshold < prev.zeroThreshold) return true;
    if (this.zeroCount < prev.zeroCount && this.zeroThreshold === prev.zeroThreshold) return true;
    if (this.usesCustomBuckets()) {
      // Different bounds are compared on the bounds both have.
      const shared = sameValues(this.customValues, prev.customValues) ? this.customValues : intersect(this.customValues, prev.customValues);
      return bucketsFell(toCustom(this.positive(), this.customValues, shared), toCustom(prev.positive(), prev.customValues, shared));
    }
    const older = prev.reduceResolution(this.schema);
    return bucketsFell(this.positive(), older.positive()) || bucketsFell(this.negative(), older.negative());
  }

  /** Every bucket with its bounds and count, from the lowest values up: negative, zero, positive. */
  buckets(): HistogramBucket[] {
    const out: HistogramBucket[] = [];
    if (this.usesCustomBuckets()) {
      const p = this.positive();
      for (let k = 0; k < p.idx.length; k++) {
        const i = p.idx[k]!;
        out.push({
          lower: i === 0 ? -Infinity : this.customValues[i - 1]!,
          upper: i < this.customValues.length ? this.customValues[i]! : Infinity,
          count: p.cnt[k]!,
          kind: 'custom',
        });
      }
      return out;
    }
    const n = this.negative();
    for (let k = n.idx.length - 1; k >= 0; k--) {
      const i = n.idx[k]!;
      out.push({ lower: -bucketUpper(i, this.schema), upper: -bucketUpper(i - 1, this.schema), count: n.cnt[k]!, kind: 'negative' });
    }
    if (this.zeroThreshold > 0 || this.zeroCount !== 0) {
      out.push({ lower: -this.zeroThreshold, upper: this.zeroThreshold, count: this.zeroCount, kind: 'zero' });
    }
    const p = this.positive();
    for (let k = 0; k < p.idx.length; k++) {
      const i = p.idx[k]!;
      out.push({ lower: bucketUpper(i - 1, this.schema), upper: bucketUpper(i, this.schema), count: p.cnt[k]!, kind: 'positive' });
    }
    return out;
  }

  /** Field-by-field equality within a relative tolerance (buckets compared in compact form). */
  equals(other: FloatHistogram, close: (a: number, b: number) => boolean): boolean {
    if (this.schema !== other.schema || !close(this.zeroThreshold, other.zeroThreshold)) return false;
    if (!close(this.zeroCount, other.zeroCount) || !close(this.count, other.count) || !close(this.sum, other.sum)) return false;
    if (this.usesCustomBuckets() && !sameValues(this.customValues, other.customValues)) return false;
    const a = this.copy().compact();
    const b = other.copy().compact();
    return (
      sameSpans(a.positiveSpans, b.positiveSpans) &&
      sameSpans(a.negativeSpans, b.negativeSpans) &&
      a.positiveBuckets.every((x, i) => close(x, b.positiveBuckets[i]!)) &&
      a.negativeBuckets.every((x, i) => close(x, b.negativeBuckets[i]!))
    );
  }

  /**
   * Prometheus's text of a histogram (what count_values labels one with): count, sum, then each
   * bucket's bounds and count, `[a,b)` below zero, `[-z,z]` for the zero bucket, `(a,b]` above.
   */
  text(): string {
    const parts = [`count:${formatFloatG(this.count, 21)}`, `sum:${formatFloatG(this.sum, 21)}`];
    for (const b of this.buckets()) {
      if (b.kind === 'zero' && b.count === 0) continue;
      const [open, close] = b.kind === 'negative' ? ['[', ')'] : b.kind === 'zero' ? ['[', ']'] : ['(', ']'];
      parts.push(`${open}${formatFloatG(b.lower, 21)},${formatFloatG(b.upper, 21)}${close}:${formatFloatG(b.count, 21)}`);
    }
    return `{${parts.join(', ')}}`;
  }

  /** As promqltest writes one: `{{schema:0 count:2 sum:3 buckets:[1 1]}}`. */
  toString(): string {
    const parts: string[] = [];
    if (this.schema !== 0) parts.push(`schema:${this.schema}`);
    parts.push(`count:${this.count}`, `sum:${this.sum}`);
    if (this.zeroThreshold !== 0) parts.push(`z_bucket_w:${this.zeroThreshold}`);
    if (this.zeroCount !== 0) parts.push(`z_bucket:${this.zeroCount}`);
    const bucketText = (b: IndexedBuckets, name: string, offsetName: string): void => {
      if (b.idx.length === 0) return;
      const first = b.idx[0]!;
      const dense = new Array<number>(b.idx[b.idx.length - 1]! - first + 1).fill(0);
      for (let k = 0; k < b.idx.length; k++) dense[b.idx[k]! - first] = b.cnt[k]!;
      if (first !== 0) parts.push(`${offsetName}:${first}`);
      parts.push(`${name}:[${dense.join(' ')}]`);
    };
    bucketText(this.positive(), 'buckets', 'offset');
    bucketText(this.negative(), 'n_buckets', 'n_offset');
    if (this.usesCustomBuckets()) parts.push(`custom_values:[${this.customValues.join(' ')}]`);
    if (this.counterResetHint !== 'unknown') parts.push(`counter_reset_hint:${this.counterResetHint}`);
    return `{{${parts.join(' ')}}}`;
  }
}

/**
 * The hint of a sum of two histograms: theirs when they agree, a gauge if either is one, else
 * unknown (a reset beside a not_reset, or either unknown).
 */
export function sumHint(a: CounterResetHint, b: CounterResetHint): CounterResetHint {
  if (a === b) return a;
  return a === 'gauge' || b === 'gauge' ? 'gauge' : 'unknown';
}

export interface HistogramBucket {
  lower: number;
  upper: number;
  count: number;
  kind: 'negative' | 'zero' | 'positive' | 'custom';
}

/** The upper bound of exponential bucket `i` at `schema` (for negative buckets, of its absolute value). */
function bucketUpper(i: number, schema: number): number {
  return schema >= 0 ? Math.pow(2, i / 2 ** schema) : Math.pow(2, i * 2 ** -schema);
}

function expand(spans: readonly BucketSpan[], counts: readonly number[]): IndexedBuckets {
  const idx: number[] = [];
  const cnt: number[] = [];
  let i = 0;
  let k = 0;
  for (const s of spans) {
    i += s.offset;
    for (let j = 0; j < s.length && k < counts.length; j++, i++) {
      idx.push(i);
      cnt.push(counts[k++]!);
    }
  }
  return { idx, cnt };
}

/** Spans from sorted indexes: consecutive indexes share a span. */
function collapse(b: IndexedBuckets): [BucketSpan[], number[]] {
  const spans: BucketSpan[] = [];
  const counts: number[] = [];
  let next = 0;
  for (let k = 0; k < b.idx.length; k++) {
    const i = b.idx[k]!;
    const last = spans[spans.length - 1];
    if (last === undefined || i !== next) {
      spans.push({ offset: last === undefined ? i : i - next, length: 1 });
    } else {
      last.length++;
    }
    counts.push(b.cnt[k]!);
    next = i + 1;
  }
  return [spans, counts];
}

function dropEmpty(b: IndexedBuckets): IndexedBuckets {
  const out: IndexedBuckets = { idx: [], cnt: [] };
  for (let k = 0; k < b.idx.length; k++) {
    if (b.cnt[k] === 0) continue;
    out.idx.push(b.idx[k]!);
    out.cnt.push(b.cnt[k]!);
  }
  return out;
}

/** Bucket `i` at `from` lies inside bucket ceil(i / 2^(from-to)) at the coarser schema `to`. */
function reduceIndexed(b: IndexedBuckets, from: number, to: number): IndexedBuckets {
  if (to >= from) return { idx: [...b.idx], cnt: [...b.cnt] };
  const factor = 2 ** (from - to);
  const out: IndexedBuckets = { idx: [], cnt: [] };
  for (let k = 0; k < b.idx.length; k++) {
    const j = Math.floor((b.idx[k]! - 1) / factor) + 1;
    const last = out.idx.length - 1;
    if (last >= 0 && out.idx[last] === j) out.cnt[last]! += b.cnt[k]!;
    else {
      out.idx.push(j);
      out.cnt.push(b.cnt[k]!);
    }
  }
  return out;
}

/** Removes the buckets that lie within the zero bucket of `threshold`; returns their total. */
function takeIntoZero(b: IndexedBuckets, schema: number, threshold: number): number {
  let total = 0;
  let k = 0;
  while (k < b.idx.length && bucketUpper(b.idx[k]!, schema) <= threshold) total += b.cnt[k++]!;
  b.idx.splice(0, k);
  b.cnt.splice(0, k);
  return total;
}

function addIndexed(a: IndexedBuckets, b: IndexedBuckets, sign: 1 | -1): IndexedBuckets {
  const out: IndexedBuckets = { idx: [], cnt: [] };
  let i = 0;
  let j = 0;
  while (i < a.idx.length || j < b.idx.length) {
    const ai = i < a.idx.length ? a.idx[i]! : Infinity;
    const bj = j < b.idx.length ? b.idx[j]! : Infinity;
    if (ai < bj) {
      out.idx.push(ai);
      out.cnt.push(a.cnt[i++]!);
    } else if (bj < ai) {
      out.idx.push(bj);
      out.cnt.push(sign * b.cnt[j++]!);
    } else {
      out.idx.push(ai);
      out.cnt.push(a.cnt[i++]! + sign * b.cnt[j++]!);
    }
  }
  return out;
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

function sameSpans(a: readonly BucketSpan[], b: readonly BucketSpan[]): boolean {
  return a.length === b.length && a.every((s, i) => s.offset === b[i]!.offset && s.length === b[i]!.length);
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const inB = new Set(b);
  return a.filter((x) => inB.has(x));
}

/** Custom buckets of boundaries `from` moved to the coarser boundaries `to` (a subset of them). */
function toCustom(b: IndexedBuckets, from: readonly number[], to: readonly number[]): IndexedBuckets {
  if (from === to) return b;
  const counts = new Map<number, number>();
  for (let k = 0; k < b.idx.length; k++) {
    const upper = b.idx[k]! < from.length ? from[b.idx[k]!]! : Infinity;
    let j = 0;
    while (j < to.length && to[j]! < upper) j++;
    counts.set(j, (counts.get(j) ?? 0) + b.cnt[k]!);
  }
  const idx = [...counts.keys()].sort((x, y) => x - y);
  return { idx, cnt: idx.map((i) => counts.get(i)!) };
}

/** True when a bucket of `prev` (at the same schema) holds more than the same bucket of `cur`. */
function bucketsFell(cur: IndexedBuckets, prev: IndexedBuckets): boolean {
  let j = 0;
  for (let k = 0; k < prev.idx.length; k++) {
    if (prev.cnt[k] === 0) continue;
    while (j < cur.idx.length && cur.idx[j]! < prev.idx[k]!) j++;
    const now = j < cur.idx.length && cur.idx[j] === prev.idx[k] ? cur.cnt[j]! : 0;
    if (now < prev.cnt[k]!) return true;
  }
  return false;
}
