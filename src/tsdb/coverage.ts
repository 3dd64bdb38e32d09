/** A span of time in ms, both ends inclusive. */
export interface Span {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The spans of time for which the store holds every sample that was sent to it: the live span
 * since this process started receiving, and spans restored from a snapshot or a peer. A query
 * whose look-back starts inside a span reads data from the start of its window; one whose
 * look-back starts in a gap (before the process started, or while it was down) would read a
 * partial window and answer low, which the scaler must not pass to KEDA.
 */
export class Coverage {
  private restoredSpans: Span[] = [];
  private vouchedUntil = Infinity;

  constructor(private liveSince: number) {}

  /** When the live span began. */
  get liveSinceMs(): number {
    return this.liveSince;
  }

  /**
   * Moves the live span's start to when the store began receiving. A store is created before its
   * listeners bind, and a restarting process may wait for its predecessor's ports; samples sent
   * meanwhile went to the predecessor, so the live span cannot start at creation.
   */
  startLive(ms: number): void {
    this.liveSince = ms;
  }

  /**
   * For a replica, whose peers forward it samples: the live span is whole only up to `ms`, until
   * vouched for again. A replica that stalls (a frozen node, a stopped process) may have lost
   * forwarded samples meanwhile; until its heartbeat runs again and restarts the live span,
   * times after its last vouch are not covered.
   */
  vouchLive(ms: number): void {
    this.vouchedUntil = ms;
  }

  /** The restored spans, oldest first, without the live one. */
  get restored(): readonly Span[] {
    return this.restoredSpans;
  }

  /** Every span, oldest first; the live one ends at +Infinity. */
  spans(): Span[] {
    return [...this.restoredSpans, { fromMs: this.liveSinceMs, toMs: Infinity }];
  }

  /** Records a restored span; overlapping or touching spans merge, and the live span absorbs what reaches it. */
  addRestored(span: Span): void {
    if (!(span.fromMs <= span.toMs)) return;
    const all = [...this.restoredSpans, span].sort((a, b) => a.fromMs - b.fromMs);
    const merged: Span[] = [];
    for (const s of all) {
      const last = merged[merged.length - 1];
      if (last !== undefined && s.fromMs <= last.toMs) merged[merged.length - 1] = { fromMs: last.fromMs, toMs: Math.max(last.toMs, s.toMs) };
      else merged.push(s);
    }
    this.restoredSpans = merged.filter((s) => s.fromMs < this.liveSinceMs);
  }

  /** Forgets restored spans that end before `minMs` (retention has dropped their samples). */
  trimBefore(minMs: number): void {
    this.restoredSpans = this.restoredSpans.filter((s) => s.toMs >= minMs);
  }

  /** True when the store holds every sample sent at time t. */
  covers(t: number): boolean {
    if (t >= this.liveSinceMs) return t <= this.vouchedUntil;
    for (const s of this.restoredSpans) if (t >= s.fromMs && t <= s.toMs) return true;
    return false;
  }

  /** The earliest time from which the store holds everything sent up to now, without a gap. */
  get gapFreeSinceMs(): number {
    let since = this.liveSinceMs;
    for (let i = this.restoredSpans.length - 1; i >= 0; i--) {
      const s = this.restoredSpans[i]!;
      if (s.toMs < since) break;
      since = Math.min(since, s.fromMs);
    }
    return since;
  }
}
