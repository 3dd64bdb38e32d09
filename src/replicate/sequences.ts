/**
 * Which forwarded bodies this replica has seen, per sending process: each sender numbers the
 * bodies it forwards here 1, 2, 3…, so a number skipped is a body this replica never got (the
 * sender's queue for it was full). Before the replica has caught up, numbers are only recorded:
 * what came before it joined is in the snapshot it restores.
 */
export class Sequences {
  private readonly next = new Map<string, { seq: number; atMs: number }>();
  private caughtUp = false;

  /** What a peer said when this replica joined it: the first number it will send here. */
  joined(sender: string, nextSeq: number, nowMs: number): void {
    const seen = this.next.get(sender);
    if (seen === undefined || seen.seq < nextSeq) this.next.set(sender, { seq: nextSeq, atMs: nowMs });
  }

  /** From now on, a number skipped is a gap. */
  markCaughtUp(): void {
    this.caughtUp = true;
  }

  /**
   * Records a body; returns when the last body before a gap arrived (ms), or undefined when
   * there is none. A sender first heard from after catching up must start at 1: one that starts
   * later had forwarded here before and some of its bodies were lost.
   */
  observe(sender: string, seq: number, nowMs: number): number | undefined {
    const seen = this.next.get(sender);
    const expected = seen?.seq ?? 1;
    if (seq < expected) return undefined;
    this.next.set(sender, { seq: seq + 1, atMs: nowMs });
    if (!this.caughtUp || seq === expected) return undefined;
    return seen?.atMs ?? -Infinity;
  }
}
