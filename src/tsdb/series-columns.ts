import { ChunkPool } from './chunk-pool.js';
import { Postings } from './postings.js';
import type { HistogramLane } from './histogram-lane.js';
import type { StartTimes } from './start-times.js';

/** Slot 0 is never handed out: it stays empty, and a freed series points at it, reading as no samples. */
export const FREED_SLOT = 0;
const FIRST_SLOTS = 16;

/**
 * The state of every series (S) of a database, by slot: a series object holds its labels and its
 * slot, and what changes as samples come lives here in typed arrays. Fields of an object cost 8
 * bytes each and a start time a heap number of 16 more; a slot costs about 30 bytes here, its
 * place in the array of series by slot included. Staleness markers and start times that change
 * are rare, and kept in maps by slot, as are native histogram samples.
 */
export class SeriesColumns<S> {
  readonly pool = new ChunkPool();
  /** The label pairs the series' labels are numbers of. */
  readonly postings = new Postings<S>();
  /** The newest chunk, 0 when the series has no samples; each chunk links to the next older. */
  open = new Uint32Array(FIRST_SLOTS);
  /** Samples held. */
  len = new Int32Array(FIRST_SLOTS);
  /** Samples at the start of the oldest chunk that were trimmed or evicted but are still encoded (fewer than a chunk holds). */
  skip = new Uint8Array(FIRST_SLOTS);
  /** The start time of every sample of the series, 0 when it has none or when they differ (then `runs` has them). */
  start = new Float64Array(FIRST_SLOTS);
  /** The hash of the series' labels, which the series map finds it by. */
  hash = new Int32Array(FIRST_SLOTS);
  /** 1 once the series' label set was built since the last retention pass (see Series.labels). */
  reads = new Uint8Array(FIRST_SLOTS);
  /** The series by slot. */
  readonly series: (S | undefined)[] = [undefined];
  /** Timestamps of the series' staleness markers, ascending. */
  readonly stale = new Map<number, number[]>();
  /** Start times of series whose samples' start times differ. */
  readonly runs = new Map<number, StartTimes>();
  /** Native histogram samples of the series that have any. */
  readonly histograms = new Map<number, HistogramLane>();
  private next = FREED_SLOT + 1;
  private readonly freed: number[] = [];

  constructor(readonly maxCapacity: number) {}

  /** A slot for a new series, its columns zero. */
  alloc(series: S): number {
    let slot = this.freed.pop();
    if (slot === undefined) {
      slot = this.next++;
      if (slot === this.len.length) this.grow();
    }
    this.series[slot] = series;
    return slot;
  }

  /** Returns an emptied series' slot. */
  free(slot: number): void {
    this.open[slot] = 0;
    this.len[slot] = 0;
    this.skip[slot] = 0;
    this.start[slot] = 0;
    this.reads[slot] = 0;
    this.stale.delete(slot);
    this.runs.delete(slot);
    this.histograms.delete(slot);
    this.series[slot] = undefined;
    this.freed.push(slot);
  }

  /** By an eighth, not double: the columns are memory a series. */
  private grow(): void {
    const n = this.len.length + Math.max(this.len.length >> 3, 256);
    this.open = grown(new Uint32Array(n), this.open);
    this.len = grown(new Int32Array(n), this.len);
    this.skip = grown(new Uint8Array(n), this.skip);
    this.start = grown(new Float64Array(n), this.start);
    this.hash = grown(new Int32Array(n), this.hash);
    this.reads = grown(new Uint8Array(n), this.reads);
  }
}

function grown<T extends Uint32Array | Int32Array | Uint8Array | Float64Array>(to: T, from: T): T {
  to.set(from);
  return to;
}
