import type { FloatHistogram } from '../../tsdb/float-histogram.js';
import { labelsKey, type Labels } from '../../tsdb/labels.js';
import { EvalError } from '../errors.js';
import type { StepSample, StepSeries } from '../value.js';

/** The evaluation steps of a node: start, end (inclusive) and interval, in ms. */
export interface StepGrid {
  start: number;
  end: number;
  interval: number;
}

export function stepCount(g: StepGrid): number {
  return Math.floor((g.end - g.start) / g.interval) + 1;
}

const keyCache = new WeakMap<Labels, string>();

/** labelsKey, memoised per label-set object: selectors hand out the same arrays at every step. */
export function cachedKey(l: Labels): string {
  let k = keyCache.get(l);
  if (k === undefined) {
    k = labelsKey(l);
    keyCache.set(l, k);
  }
  return k;
}

/**
 * Walks the series of a matrix step by step: their points are at step times in ascending order,
 * so one cursor per series finds each step's value without searching.
 */
export class StepReader {
  private readonly cursor: Int32Array;
  private readonly samples: StepSample[];
  /** Cursors in the histogram lanes, when the reader hands out histograms too. */
  private readonly hcursor: Int32Array | undefined;
  private readonly hsamples: StepSample[] | undefined;

  /** With `histograms`, each step's vector holds the series' native histograms too (samples with `h` set). */
  constructor(
    readonly series: StepSeries[],
    histograms = false,
  ) {
    this.cursor = new Int32Array(series.length);
    this.samples = series.map((s, i) => ({ labels: s.labels, v: 0, dropName: s.dropName, src: i }));
    if (histograms && series.some((s) => s.hts !== undefined)) {
      this.hcursor = new Int32Array(series.length);
      this.hsamples = series.map((s, i) => ({ labels: s.labels, v: 0, dropName: s.dropName, src: i }));
    }
  }

  /** The instant vector at ts. The sample objects are reused by the next call. */
  vectorAt(ts: number, into: StepSample[]): StepSample[] {
    into.length = 0;
    for (let i = 0; i < this.series.length; i++) {
      const s = this.series[i]!;
      const c = this.cursor[i]!;
      if (c < s.ts.length && s.ts[c] === ts) {
        const sample = this.samples[i]!;
        sample.v = s.vs[c]!;
        into.push(sample);
        this.cursor[i] = c + 1;
      }
    }
    if (this.hcursor !== undefined) this.histogramsAt(ts, into, this.hcursor, this.hsamples!);
    return into;
  }

  private histogramsAt(ts: number, into: StepSample[], cursor: Int32Array, samples: StepSample[]): void {
    for (let i = 0; i < this.series.length; i++) {
      const hts = this.series[i]!.hts;
      const c = cursor[i]!;
      if (hts === undefined || c >= hts.length || hts[c] !== ts) continue;
      const sample = samples[i]!;
      sample.h = this.series[i]!.hs![c]!;
      into.push(sample);
      cursor[i] = c + 1;
    }
  }
}

/** Collects the samples of each step into series, rejecting two samples of one series in a step. */
export class StepOutput {
  private readonly byKey = new Map<string, StepSeries>();
  private readonly list: StepSeries[] = [];

  add(labels: Labels, dropName: boolean, ts: number, v: number): void {
    const s = this.seriesOf(labels, dropName, ts);
    s.ts.push(ts);
    s.vs.push(v);
  }

  private addHistogram(labels: Labels, dropName: boolean, ts: number, h: FloatHistogram): void {
    const s = this.seriesOf(labels, dropName, ts);
    (s.hts ??= []).push(ts);
    (s.hs ??= []).push(h);
  }

  /** A sample pushed to a step: a float unless `h` is set. */
  addSample(s: StepSample, ts: number): void {
    if (s.h === undefined) this.add(s.labels, s.dropName, ts, s.v);
    else this.addHistogram(s.labels, s.dropName, ts, s.h);
  }

  private seriesOf(labels: Labels, dropName: boolean, ts: number): StepSeries {
    const key = cachedKey(labels);
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = { labels, dropName, ts: [], vs: [] };
      this.byKey.set(key, s);
      this.list.push(s);
    } else if (s.ts[s.ts.length - 1] === ts || (s.hts !== undefined && s.hts[s.hts.length - 1] === ts)) {
      throw new EvalError('vector cannot contain metrics with the same labelset');
    }
    return s;
  }

  series(): StepSeries[] {
    return this.list;
  }
}
