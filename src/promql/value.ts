import type { FloatHistogram } from '../tsdb/float-histogram.js';
import type { Labels } from '../tsdb/labels.js';

/** One sample of an instant vector result: a float, or a native histogram when `h` is set. */
export interface Sample {
  labels: Labels;
  t: number;
  v: number;
  h?: FloatHistogram;
}

/**
 * One series of a range result: parallel arrays of timestamps (ms) and values, and its native
 * histogram points, if any, in their own parallel arrays.
 */
export interface RangeSeries {
  labels: Labels;
  timestamps: number[];
  values: number[];
  histogramTimestamps?: number[];
  histograms?: FloatHistogram[];
}

export type QueryValue =
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; v: string }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: RangeSeries[] };

export interface QueryResult {
  value: QueryValue;
  warnings: string[];
  infos: string[];
}

/**
 * A series as the evaluator passes it between nodes: one point per evaluation step at most.
 * `dropName` records that a function or operator changed the value, so `__name__` goes when the
 * query finishes (Prometheus drops it lazily, letting label_replace still read it).
 */
export interface StepSeries {
  labels: Labels;
  dropName: boolean;
  ts: number[];
  vs: number[];
  /**
   * The steps at which the series holds a native histogram, and the histograms: a lane of its
   * own, so floats stay unboxed and code that only knows floats never meets a histogram. A step
   * is in one lane at most.
   */
  hts?: number[];
  hs?: FloatHistogram[];
}

/**
 * A vector element inside one evaluation step; `src` is its series' index in the input matrix.
 * `h` is set when the element is a native histogram (then `v` means nothing).
 */
export interface StepSample {
  labels: Labels;
  v: number;
  dropName: boolean;
  src: number;
  h?: FloatHistogram;
}

/**
 * The labels that describe what a value is (its metric name, and the type and unit labels of
 * Prometheus's type-and-unit feature); they go when a function or operator changes the value.
 */
export const METADATA_LABELS: readonly string[] = ['__name__', '__type__', '__unit__'];
