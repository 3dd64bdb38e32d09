import type { OtlpStats, RejectReason } from '../stats.js';

/**
 * How far past now a point's time may be. Prometheus's remote-write and OTLP handler take samples
 * up to 10 minutes ahead (its maxAheadTime), Mimir's creation grace period is 10 minutes too: clock
 * skew between producers is covered, and a far-future sample cannot hide a series' real newest one.
 */
export const MAX_AHEAD_MS = 10 * 60_000;

/** Counts rejections of one request and keeps one example message a reason. */
export class Rejections {
  total = 0;
  private readonly byReason = new Map<RejectReason, { count: number; example: string }>();

  constructor(private readonly stats: OtlpStats) {}

  add(reason: RejectReason, example: () => string): void {
    this.total++;
    this.stats.pointsRejected[reason]++;
    const entry = this.byReason.get(reason);
    if (entry) entry.count++;
    else this.byReason.set(reason, { count: 1, example: example() });
  }

  message(): string {
    const parts: string[] = [];
    for (const [reason, { count, example }] of this.byReason) {
      parts.push(`${count} ${REASON_TEXT[reason]} (e.g. ${example})`);
    }
    return parts.length === 0 ? '' : `${this.total} data points rejected: ${parts.join('; ')}`;
  }
}

/** How a partial-success message words the reasons the store and the label limits give, for OTLP and remote write alike. */
export const STORE_REJECT_TEXT = {
  series_limit: 'over the series limit',
  out_of_order: 'older than the newest sample of their series by more than the out-of-order window',
  too_old: 'older than the retention',
  too_far_ahead: `more than ${MAX_AHEAD_MS / 60_000} minutes ahead of the receiver's clock`,
  label_limit: 'over the label limits',
} as const;

const REASON_TEXT: Record<RejectReason, string> = {
  ...STORE_REJECT_TEXT,
  unspecified_temporality: 'with unspecified aggregation temporality',
  invalid_utf8: 'with a string that is not valid UTF-8',
  invalid: 'invalid',
};

/** A time for a message: ISO 8601 where Date can show it, else the number of milliseconds (NaN: the decoder's negative time). */
export function formatTime(ms: number): string {
  if (Number.isNaN(ms)) return 'a negative time';
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

/** A series for a message: `name{label="value", ...}`. */
export function seriesText(labels: readonly string[]): string {
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === '__name__') name = labels[i + 1]!;
    else parts.push(`${labels[i]}=${JSON.stringify(labels[i + 1])}`);
  }
  return `${name}{${parts.join(', ')}}`;
}
