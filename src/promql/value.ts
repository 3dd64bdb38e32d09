import type { Labels } from '../tsdb/labels.js';

/** One sample of an instant vector result. */
export interface Sample {
  labels: Labels;
  t: number;
  v: number;
}

/** One series of a range result: parallel arrays of timestamps (ms) and values. */
export interface RangeSeries {
  labels: Labels;
  timestamps: number[];
  values: number[];
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
}

/** A vector element inside one evaluation step; `src` is its series' index in the input matrix. */
export interface StepSample {
  labels: Labels;
  v: number;
  dropName: boolean;
  src: number;
}

/**
 * The labels that describe what a value is (its metric name, and the type and unit labels of
 * Prometheus's type-and-unit feature); they go when a function or operator changes the value.
 */
export const METADATA_LABELS: readonly string[] = ['__name__', '__type__', '__unit__'];
