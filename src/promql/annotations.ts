import type { PosRange } from './ast.js';
import { lineCol } from './errors.js';
import { formatFloatG, formatFloatPrecisionG, formatRFC3339Seconds } from '../common/go-format.js';

const MONOTONICITY_INFO =
  'PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)';

interface MonotonicityFix {
  metricName: string;
  pos: PosRange;
  minTs: number;
  maxTs: number;
  minBucket: number;
  maxBucket: number;
  maxDiff: number;
  count: number;
}

/**
 * Warnings and infos of one query, rendered as Prometheus's API renders them: the message, then
 * the `line:column` of the expression it is about. Like Prometheus, a message is reported once,
 * at the position it was last raised for.
 */
export class Annotations {
  private readonly warnings = new Map<string, string>();
  private readonly infos = new Map<string, string>();
  private readonly fixes = new Map<string, MonotonicityFix>();
  private readonly overlaps = new Map<string, { pos: PosRange; count: number }>();

  constructor(private readonly query: string | undefined) {}

  warn(message: string, pos: PosRange | undefined): void {
    const text = `PromQL warning: ${message}`;
    this.warnings.set(text, this.render(text, pos));
  }

  info(message: string, pos: PosRange | undefined): void {
    const text = `PromQL info: ${message}`;
    this.infos.set(text, this.render(text, pos));
  }

  invalidQuantile(q: number, pos: PosRange | undefined): void {
    this.warn(`quantile value should be between 0 and 1, got ${formatFloatG(q)}`, pos);
  }

  /** Start-time overlaps are counted by metric name and reported once, at the first place seen. */
  startTimeOverlap(metricName: string, pos: PosRange): void {
    const prev = this.overlaps.get(metricName);
    if (prev === undefined) this.overlaps.set(metricName, { pos, count: 1 });
    else prev.count++;
  }

  /** Repeated fixes of the same histogram merge into one info spanning their times and buckets. */
  monotonicityFixed(metricName: string, pos: PosRange, ts: number, minBucket: number, maxBucket: number, maxDiff: number): void {
    const key = `${metricName}\xff${pos.start}`;
    const prev = this.fixes.get(key);
    if (prev === undefined) {
      this.fixes.set(key, { metricName, pos, minTs: ts, maxTs: ts, minBucket, maxBucket, maxDiff, count: 1 });
      return;
    }
    prev.minTs = Math.min(prev.minTs, ts);
    prev.maxTs = Math.max(prev.maxTs, ts);
    prev.minBucket = Math.min(prev.minBucket, minBucket);
    prev.maxBucket = Math.max(prev.maxBucket, maxBucket);
    prev.maxDiff = Math.max(prev.maxDiff, maxDiff);
    prev.count++;
  }

  result(): { warnings: string[]; infos: string[] } {
    const infos = [...this.infos.values()];
    for (const f of this.fixes.values()) {
      let msg = MONOTONICITY_INFO;
      if (f.metricName !== '') msg += ` for metric name ${JSON.stringify(f.metricName)}`;
      msg +=
        `, from buckets ${formatFloatG(f.minBucket)} to ${formatFloatG(f.maxBucket)}, with a max diff of ${formatFloatPrecisionG(f.maxDiff, 2)}` +
        `, over ${f.count} samples from ${formatRFC3339Seconds(f.minTs)} to ${formatRFC3339Seconds(f.maxTs)}`;
      infos.push(this.render(msg, f.pos));
    }
    const warnings = [...this.warnings.values()];
    for (const [name, { pos, count }] of this.overlaps) {
      const times = count > 1 ? ` (${count} occurrences)` : '';
      warnings.push(
        this.render(`PromQL warning: sample has start time that overlaps with previous sample timestamp for metric ${JSON.stringify(name)}${times}`, pos),
      );
    }
    return { warnings, infos };
  }

  private render(message: string, pos: PosRange | undefined): string {
    if (this.query === undefined || pos === undefined) return message;
    return `${message} (${lineCol(this.query, pos.start)})`;
  }
}
