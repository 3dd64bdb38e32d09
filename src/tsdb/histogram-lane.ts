import type { ChunkPool } from './chunk-pool.js';
import type { FloatHistogram } from './float-histogram.js';
import {
  appendHistogramSample,
  decodeHistogramChunk,
  freeHistogramChunk,
  histogramChunkBytes,
  histogramChunkPrev,
  histogramChunkTimes,
  setHistogramChunkPrev,
  type HistogramAppendState,
} from './histogram-chunk.js';
import { HistogramSamples, upperBound } from './histogram-samples.js';
import { chunkCount, chunkMaxT, chunkMinT, decodeChunk, MAX_SAMPLES } from './xor-chunk.js';

/** Timestamps and values of one float chunk, decoded. */
const chunkTs = new Float64Array(MAX_SAMPLES);
const chunkVs = new Float64Array(MAX_SAMPLES);

/**
 * One series' native histogram samples, compressed in histogram chunks (histogram-chunk.ts) in
 * the database's pool, linked from the newest to the oldest as a series' float chunks are. The
 * newest sample is kept decoded: the next append is coded against it, and its counter reset hint
 * read. Samples come in time order; one out of order, or at a time already held, re-encodes the
 * lane, as floats do.
 */
export class HistogramLane implements HistogramAppendState {
  /** The newest chunk, 0 when there is none. */
  private open = 0;
  /** Samples at the start of the oldest chunk that retention dropped but are still encoded. */
  private skip = 0;
  private count = 0;
  /** The newest sample and its time. */
  last: FloatHistogram | undefined;
  lastT = -Infinity;
  integer = false;
  win = new Uint8Array(0);
  /** Bumped by every change: a view of the lane is current while it is unchanged. */
  private version = 0;
  /** Bumped by every change that frees or rewrites chunks: a view decoding after one would read freed blocks. */
  epoch = 0;

  constructor(readonly pool: ChunkPool) {}

  get length(): number {
    return this.count;
  }

  /** Adds a sample; one at a timestamp already held replaces it. Returns true on replacement. */
  put(t: number, h: FloatHistogram): boolean {
    if (t > this.lastT) {
      this.push(t, h);
      return false;
    }
    const { ts, hs } = this.view();
    const all = hs.slice();
    const times = ts.slice();
    const i = upperBound(times, t);
    const replaced = i > 0 && times[i - 1] === t;
    if (replaced) all[i - 1] = h;
    else {
      times.splice(i, 0, t);
      all.splice(i, 0, h);
    }
    this.free();
    for (let k = 0; k < times.length; k++) this.push(times[k]!, all[k]!);
    return replaced;
  }

  private push(t: number, h: FloatHistogram): void {
    this.open = appendHistogramSample(this.pool, this.open, t, h, this.last, this);
    this.last = h;
    this.lastT = t;
    this.count++;
    this.version++;
  }

  /** Drops samples older than minT; returns how many remain. */
  trimBefore(minT: number): number {
    if (this.count === 0 || this.lastT < minT) {
      this.free();
      return 0;
    }
    const pool = this.pool;
    const chain = this.chain();
    let dropped = 0;
    for (let k = chain.length - 1; k >= 0; k--) {
      const c = chain[k]!;
      const times = histogramChunkTimes(pool, c);
      const skip = k === chain.length - 1 ? this.skip : 0;
      if (chunkMaxT(pool, times) < minT) {
        dropped += chunkCount(pool, times) - skip;
        freeHistogramChunk(pool, c);
        setHistogramChunkPrev(pool, chain[k - 1]!, 0);
        this.skip = 0;
        continue;
      }
      if (chunkMinT(pool, times) < minT) {
        const n = decodeChunk(pool, times, skip, -Infinity, minT, chunkTs, chunkVs, 0);
        const older = n > 0 && chunkTs[n - 1] === minT ? n - 1 : n;
        dropped += older;
        this.skip = skip + older;
      }
      break;
    }
    if (dropped > 0) {
      this.count -= dropped;
      this.version++;
      this.epoch++;
    }
    return this.count;
  }

  /** Returns every chunk to the pool. */
  free(): void {
    for (let c = this.open; c !== 0;) {
      const prev = histogramChunkPrev(this.pool, c);
      freeHistogramChunk(this.pool, c);
      c = prev;
    }
    this.open = 0;
    this.skip = 0;
    this.count = 0;
    this.last = undefined;
    this.lastT = -Infinity;
    this.version++;
    this.epoch++;
  }

  /** Bytes held by the chunks. */
  get bytes(): number {
    let n = 0;
    for (let c = this.open; c !== 0; c = histogramChunkPrev(this.pool, c)) n += histogramChunkBytes(this.pool, c);
    return n;
  }

  /** The chunks, newest first. */
  private chain(): number[] {
    const out: number[] = [];
    for (let c = this.open; c !== 0; c = histogramChunkPrev(this.pool, c)) out.push(c);
    return out;
  }

  /** The samples as queries read them: every timestamp decoded, histograms as they are asked for. */
  view(): HistogramSamples {
    if (viewed !== undefined && viewed.lane === this && viewed.version === this.version) return viewed;
    const pool = this.pool;
    const chain = this.chain();
    const ts: number[] = [];
    const chunks: number[] = [];
    const firsts: number[] = [];
    const skips: number[] = [];
    for (let k = chain.length - 1; k >= 0; k--) {
      const skip = k === chain.length - 1 ? this.skip : 0;
      const n = decodeChunk(pool, histogramChunkTimes(pool, chain[k]!), skip, -Infinity, Infinity, chunkTs, chunkVs, 0);
      chunks.push(chain[k]!);
      firsts.push(ts.length);
      skips.push(skip);
      for (let i = 0; i < n; i++) ts.push(chunkTs[i]!);
    }
    viewed = new LaneView(this, this.version, ts, chunks, firsts, skips);
    return viewed;
  }
}

/** The view last made, which serves again while its lane is unchanged: a query reads a series' lane more than once. */
let viewed: LaneView | undefined;

/** A lane's samples at one version, decoding its chunks' histograms as a window first reaches them. */
class LaneView extends HistogramSamples {
  private readonly epoch: number;
  /** For each chunk, the first of its encoded samples decoded: every one from there to its end is. */
  private readonly decodedFrom: number[];

  constructor(
    readonly lane: HistogramLane,
    readonly version: number,
    ts: number[],
    /** The chunks, oldest first; the index of the first sample of each, and the samples retention dropped at its start. */
    private readonly chunks: readonly number[],
    private readonly firsts: readonly number[],
    private readonly skips: readonly number[],
  ) {
    super(ts, new Array<FloatHistogram>(ts.length));
    this.epoch = lane.epoch;
    this.decodedFrom = chunks.map((_, k) => this.end(k) - firsts[k]! + skips[k]!);
  }

  /** Index after the last sample of chunk k. */
  private end(k: number): number {
    return k + 1 < this.firsts.length ? this.firsts[k + 1]! : this.ts.length;
  }

  override window(lo: number, hi: number): readonly FloatHistogram[] {
    if (lo >= hi) return this.held;
    for (let k = this.firsts.length - 1; k >= 0; k--) {
      const first = this.firsts[k]!;
      if (first >= hi) continue;
      const end = this.end(k);
      if (end <= lo) break;
      const from = Math.max(lo, first) - first + this.skips[k]!;
      const decoded = this.decodedFrom[k]!;
      if (from < decoded) {
        if (this.lane.epoch !== this.epoch) throw new Error('a native histogram lane changed under a read of it');
        decodeHistogramChunk(this.lane.pool, this.chunks[k]!, decoded, from, this.held, first + from - this.skips[k]!);
        this.decodedFrom[k] = from;
      }
    }
    return this.held;
  }
}
