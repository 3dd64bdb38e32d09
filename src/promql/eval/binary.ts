import { LabelsBuilder, labelsGet, labelsKeep, labelsKey, labelsWithout, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import type { BinaryOp, VectorMatching } from '../ast.js';
import { EvalError } from '../errors.js';
import { METADATA_LABELS, type StepSample, type StepSeries } from '../value.js';
import { MixedSchemasError, type FloatHistogram, type HistogramOpNotes } from '../../tsdb/float-histogram.js';
import { arithmetic, compare } from '../functions/operators.js';
import { trimHistogram } from '../functions/histogram-trim.js';

function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

function isSetOp(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** `</` and `>/`, which cut a native histogram's buckets at a float and apply to nothing else. */
export function isTrim(op: BinaryOp): boolean {
  return op === '</' || op === '>/';
}

/** Arithmetic changes what the value means, so the result loses the metric name; a trimmed histogram still measures the same thing. */
function changesMeaning(op: BinaryOp): boolean {
  return !isComparison(op) && !isSetOp(op) && !isTrim(op);
}

/**
 * Reports an annotation: an info when an operation's sample types do not combine or custom
 * buckets were reconciled, a warning (`warn`) when counter resets conflict.
 */
export type Inform = (message: string, warn?: boolean) => void;

const exactly = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** One side of an operator: a histogram when `h` is set, else the float `v`. */
type Operand = Pick<StepSample, 'h' | 'v'>;

interface HistogramResult {
  h: FloatHistogram | undefined;
  v: number;
  keep: boolean;
}

/**
 * `l op r` where at least one side is a native histogram: the histogram or (for a bool
 * comparison) float it makes, whether a filtering comparison keeps the left side, or undefined
 * when the operator does not apply to these types.
 */
function histogramOperation(op: BinaryOp, l: Operand, r: Operand, returnBool: boolean, notes: HistogramOpNotes): HistogramResult | undefined {
  const lh = l.h;
  const rh = r.h;
  if (isComparison(op)) {
    if (lh === undefined || rh === undefined || (op !== '==' && op !== '!=')) return undefined;
    const keep = lh.equals(rh, exactly) === (op === '==');
    return returnBool ? { h: undefined, v: keep ? 1 : 0, keep: true } : { h: lh, v: NaN, keep };
  }
  if (lh !== undefined && rh !== undefined) {
    if (op === '+') return { h: lh.add(rh, notes).compact(), v: NaN, keep: true };
    if (op === '-') return { h: lh.sub(rh, notes).compact(), v: NaN, keep: true };
    return undefined;
  }
  if (op === '*') return { h: (lh ?? rh)!.copy().mul(lh === undefined ? l.v : r.v), v: NaN, keep: true };
  if (op === '/' && lh !== undefined) return { h: lh.copy().div(r.v), v: NaN, keep: true };
  if (isTrim(op) && lh !== undefined) return { h: trimHistogram(lh, r.v, op === '</'), v: NaN, keep: true };
  return undefined;
}

/** Reports that `l op r` does not apply to these sample types. */
function incompatible(op: BinaryOp, l: Operand, r: Operand, inform: Inform): void {
  const types = `${l.h === undefined ? 'float' : 'histogram'} ${op} ${r.h === undefined ? 'float' : 'histogram'}`;
  inform(`incompatible sample types encountered for binary operator ${JSON.stringify(op)}: ${types}`);
}

/** A histogram operation's result, or undefined (reported) when the types do not combine. Exponential and custom buckets mixed count as not combining. */
function combineHistograms(op: BinaryOp, l: Operand, r: Operand, returnBool: boolean, inform: Inform): HistogramResult | undefined {
  try {
    const notes: HistogramOpNotes = { reconciled: false };
    const res = histogramOperation(op, l, r, returnBool, notes);
    if (res === undefined) incompatible(op, l, r, inform);
    const operation = op === '+' ? 'addition' : 'subtraction';
    if (notes.reconciled) inform(`mismatched custom buckets were reconciled during ${operation}`);
    if (notes.conflictingResets === true) inform(`conflicting counter resets during histogram ${operation}`, true);
    return res;
  } catch (e) {
    if (e instanceof MixedSchemasError) return undefined;
    throw e;
  }
}

/**
 * An operation between a vector and a scalar at one step. `scalarLeft` means `scalar op vector`;
 * comparisons then still keep the vector's value.
 */
export function vectorScalar(op: BinaryOp, v: StepSample[], s: number, scalarLeft: boolean, returnBool: boolean, out: StepSample[], inform: Inform): void {
  for (const sample of v) {
    if (sample.h !== undefined) {
      const scalar = { v: s };
      const r = scalarLeft ? combineHistograms(op, scalar, sample, returnBool, inform) : combineHistograms(op, sample, scalar, returnBool, inform);
      if (r?.keep === true) out.push({ labels: sample.labels, v: r.v, dropName: sample.dropName || changesMeaning(op), src: -1, h: r.h });
      continue;
    }
    if (isTrim(op)) {
      incompatible(op, sample, { v: s }, inform);
      continue;
    }
    const l = scalarLeft ? s : sample.v;
    const r = scalarLeft ? sample.v : s;
    if (isComparison(op)) {
      const keep = compare(op, l, r);
      if (returnBool) out.push({ labels: sample.labels, v: keep ? 1 : 0, dropName: true, src: -1 });
      else if (keep) out.push({ labels: sample.labels, v: sample.v, dropName: sample.dropName, src: -1 });
      continue;
    }
    out.push({ labels: sample.labels, v: arithmetic(op, l, r), dropName: true, src: -1 });
  }
}

/**
 * Precomputed matching state of a vector/vector operation: each input series' matching
 * signature as a small integer, computed once per series instead of once per step.
 */
export class VectorMatcher {
  readonly lhsSig: Int32Array;
  readonly rhsSig: Int32Array;
  private readonly sigCount: number;
  private readonly resultCache = new Map<string, Labels>();

  constructor(
    readonly op: BinaryOp,
    readonly matching: VectorMatching,
    readonly returnBool: boolean,
    lhs: StepSeries[],
    rhs: StepSeries[],
    private readonly inform: Inform,
  ) {
    const ordinals = new Map<string, number>();
    const sig = (l: Labels): number => {
      const key = labelsKey(this.matchLabels(l));
      let o = ordinals.get(key);
      if (o === undefined) {
        o = ordinals.size;
        ordinals.set(key, o);
      }
      return o;
    };
    this.lhsSig = Int32Array.from(lhs, (s) => sig(s.labels));
    this.rhsSig = Int32Array.from(rhs, (s) => sig(s.labels));
    this.sigCount = ordinals.size;
  }

  /** The labels two sides are matched on. */
  matchLabels(l: Labels): Labels {
    return this.matching.on ? labelsKeep(l, this.matching.labels) : labelsWithout(l, [...this.matching.labels, METRIC_NAME]);
  }

  /** One step: lhs and rhs samples carry `src`, their series index, to find signatures. */
  apply(lhs: StepSample[], rhs: StepSample[], out: StepSample[]): void {
    switch (this.op) {
      case 'and':
        return this.and(lhs, rhs, out);
      case 'or':
        return this.or(lhs, rhs, out);
      case 'unless':
        return this.unless(lhs, rhs, out);
      default:
        return this.binop(lhs, rhs, out);
    }
  }

  private present(samples: StepSample[], sigs: Int32Array): Uint8Array {
    const seen = new Uint8Array(this.sigCount);
    for (const s of samples) seen[sigs[s.src]!] = 1;
    return seen;
  }

  private and(lhs: StepSample[], rhs: StepSample[], out: StepSample[]): void {
    if (lhs.length === 0 || rhs.length === 0) return;
    const right = this.present(rhs, this.rhsSig);
    for (const s of lhs) if (right[this.lhsSig[s.src]!] === 1) out.push(s);
  }

  private or(lhs: StepSample[], rhs: StepSample[], out: StepSample[]): void {
    const left = this.present(lhs, this.lhsSig);
    for (const s of lhs) out.push(s);
    for (const s of rhs) if (left[this.rhsSig[s.src]!] !== 1) out.push(s);
  }

  private unless(lhs: StepSample[], rhs: StepSample[], out: StepSample[]): void {
    if (rhs.length === 0) {
      for (const s of lhs) out.push(s);
      return;
    }
    const right = this.present(rhs, this.rhsSig);
    for (const s of lhs) if (right[this.lhsSig[s.src]!] !== 1) out.push(s);
  }

  private binop(lhsIn: StepSample[], rhsIn: StepSample[], out: StepSample[]): void {
    const { fillLeft, fillRight } = this.matching;
    if (lhsIn.length === 0 && rhsIn.length === 0) return;
    if ((lhsIn.length === 0 || rhsIn.length === 0) && fillLeft === undefined && fillRight === undefined) return;
    const card = this.matching.card;
    const swap = card === 'one-to-many';
    // The "many" side drives the loop; the "one" side is looked up by signature. As in
    // Prometheus, a fill value stands in for whichever side is missing in this swapped order.
    const many = swap ? rhsIn : lhsIn;
    const one = swap ? lhsIn : rhsIn;
    const manySig = swap ? this.rhsSig : this.lhsSig;
    const oneSig = swap ? this.lhsSig : this.rhsSig;
    const oneBySig = new Map<number, StepSample>();
    for (const s of one) {
      const sig = oneSig[s.src]!;
      const dup = oneBySig.get(sig);
      if (dup !== undefined) {
        let a = labelsString(s.labels);
        let b = labelsString(dup.labels);
        if (a > b) [a, b] = [b, a];
        throw new EvalError(
          `found duplicate series for the match group ${labelsString(this.matchLabels(s.labels))} on the ${swap ? 'left' : 'right'} hand-side of the operation: [${a}, ${b}]` +
            ';many-to-many matching not allowed: matching labels must be unique on one side',
        );
      }
      oneBySig.set(sig, s);
    }
    const matchedOne = card === 'one-to-one' ? new Uint8Array(this.sigCount) : undefined;
    const matchedMany = card === 'one-to-one' ? undefined : new Map<number, Set<string>>();
    const combine = (ms: StepSample, os: StepSample, sig: number): void => {
      const l = swap ? os.v : ms.v;
      const r = swap ? ms.v : os.v;
      let value: number;
      let keep = true;
      let h: FloatHistogram | undefined;
      const histograms = ms.h !== undefined || os.h !== undefined;
      if (histograms) {
        const ls = swap ? os : ms;
        const rs = swap ? ms : os;
        const res = combineHistograms(this.op, ls, rs, this.returnBool, this.inform);
        if (res === undefined) return;
        ({ h, v: value, keep } = res);
      } else if (isTrim(this.op)) {
        incompatible(this.op, ms, os, this.inform);
        return;
      } else if (isComparison(this.op)) {
        keep = compare(this.op, l, r);
        value = l;
      } else {
        value = arithmetic(this.op, l, r);
      }
      if (this.returnBool && !histograms) {
        value = keep ? 1 : 0;
        keep = true;
      }
      const labels = this.resultLabels(ms, os);
      if (matchedOne !== undefined) {
        if (matchedOne[sig] === 1) {
          throw new EvalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        }
        matchedOne[sig] = 1;
      } else {
        let set = matchedMany!.get(sig);
        if (set === undefined) {
          set = new Set();
          matchedMany!.set(sig, set);
        }
        const key = labelsKey(labels);
        if (set.has(key)) throw new EvalError('multiple matches for labels: grouping labels must ensure unique matches');
        set.add(key);
      }
      if (keep) out.push({ labels, v: value, dropName: this.returnBool || (h !== undefined && changesMeaning(this.op)), src: -1, h });
    };
    for (const ms of many) {
      const sig = manySig[ms.src]!;
      const os = oneBySig.get(sig);
      if (os !== undefined) combine(ms, os, sig);
      else if (fillRight !== undefined) combine(ms, this.filled(ms, fillRight), sig);
    }
    if (fillLeft === undefined) return;
    for (const os of one) {
      const sig = oneSig[os.src]!;
      if (matchedOne !== undefined ? matchedOne[sig] === 1 : (matchedMany!.get(sig)?.size ?? 0) > 0) continue;
      combine(this.filled(os, fillLeft), os, sig);
    }
  }

  /** The sample a fill modifier puts in place of a missing series: the match labels of the present one, and the fill value. */
  private filled(present: StepSample, v: number): StepSample {
    return { labels: this.matchLabels(present.labels), v, dropName: false, src: -1 };
  }

  private resultLabels(many: StepSample, one: StepSample): Labels {
    const filled = many.src < 0 || one.src < 0;
    const cacheKey = `${many.src}\xfe${one.src}`;
    const cached = filled ? undefined : this.resultCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const b = new LabelsBuilder(many.labels);
    if (changesMeaning(this.op)) for (const name of METADATA_LABELS) b.del(name);
    if (this.matching.card === 'one-to-one') {
      if (this.matching.on) {
        const keep = new Set(this.matching.labels);
        for (let i = 0; i < many.labels.length; i += 2) if (!keep.has(many.labels[i]!)) b.del(many.labels[i]!);
      } else {
        for (const name of this.matching.labels) b.del(name);
      }
    }
    for (const name of this.matching.include) b.set(name, labelsGet(one.labels, name));
    const labels = b.labels();
    if (!filled) this.resultCache.set(cacheKey, labels);
    return labels;
  }
}

/** A label set as Go's labels.String() prints it: `{a="b", c="d"}`, the name included. */
export function labelsString(l: Labels): string {
  const parts: string[] = [];
  for (let i = 0; i < l.length; i += 2) parts.push(`${l[i]}=${JSON.stringify(l[i + 1])}`);
  return `{${parts.join(', ')}}`;
}
