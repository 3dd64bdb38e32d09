/**
 * Compensated (Kahan–Neumaier) summation, as Prometheus sums floats, so sums and averages agree
 * with Prometheus to the last digit its tests check.
 */
export class KahanSum {
  sum = 0;
  c = 0;

  reset(): void {
    this.sum = 0;
    this.c = 0;
  }

  add(inc: number): void {
    const t = this.sum + inc;
    if (t === Infinity || t === -Infinity) {
      this.c = 0;
    } else if (Math.abs(this.sum) >= Math.abs(inc)) {
      this.c += this.sum - t + inc;
    } else {
      this.c += inc - t + this.sum;
    }
    this.sum = t;
  }

  /** The compensated total; an infinite running sum stays infinite (c would be NaN-prone). */
  value(): number {
    return this.sum === Infinity || this.sum === -Infinity ? this.sum : this.sum + this.c;
  }
}

/**
 * A mean that sums while the sum stays finite and switches to an incremental mean when it would
 * overflow, as Prometheus's avg and avg_over_time do.
 */
export class KahanMean {
  private readonly acc = new KahanSum();
  private count = 0;
  private incremental = false;
  private mean = 0;

  reset(): void {
    this.acc.reset();
    this.count = 0;
    this.incremental = false;
    this.mean = 0;
  }

  add(v: number): void {
    this.count++;
    if (this.count === 1) {
      this.acc.sum = v;
      this.acc.c = 0;
      return;
    }
    if (!this.incremental) {
      const prevSum = this.acc.sum;
      const prevC = this.acc.c;
      this.acc.add(v);
      if (this.acc.sum !== Infinity && this.acc.sum !== -Infinity) return;
      this.incremental = true;
      this.mean = prevSum / (this.count - 1);
      this.acc.c = prevC / (this.count - 1);
    }
    const q = (this.count - 1) / this.count;
    this.acc.sum = q * this.mean;
    this.acc.c = q * this.acc.c;
    this.acc.add(v / this.count);
    this.mean = this.acc.sum;
  }

  value(): number {
    if (this.incremental) return this.mean + this.acc.c;
    return this.acc.sum / this.count + this.acc.c / this.count;
  }
}

/**
 * The q-quantile of values by linear interpolation between closest ranks (Prometheus's
 * `quantile`); sorts `values` in place, NaN first.
 */
export function quantileOf(q: number, values: number[] | Float64Array): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort(compareNaNFirst);
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

function compareNaNFirst(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}
