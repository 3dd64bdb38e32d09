import type { EncodedKey } from './encoded-key.js';
import type { Attribute } from './attributes.js';
import type { NumberPoints } from './number-points.js';

/**
 * An OTLP metrics export request as the translator reads it, whatever the wire encoding.
 * Both decoders (protobuf and JSON) produce exactly this, so translation has one input shape.
 *
 * Two deliberate departures from the protocol messages keep translation lean:
 * - attribute values are already rendered as strings (the only form a label can take);
 * - times are in milliseconds since the epoch (Prometheus's unit), truncated from nanoseconds.
 *   0 still means "not set".
 */

export interface OtlpRequest {
  resourceMetrics: ResourceMetrics[];
}

export type { Attribute } from './attributes.js';

export interface ResourceMetrics {
  resource: Attribute[];
  /** The resource's encoded bytes when the decoder kept them: equal keys mean equal resources. */
  resourceKey?: EncodedKey;
  /** Why no label can be made of the resource (e.g. an attribute that is not UTF-8): its points are rejected. */
  invalidUtf8?: string;
  scopeMetrics: ScopeMetrics[];
}

export interface Scope {
  name: string;
  version: string;
  attributes: Attribute[];
}

export interface ScopeMetrics {
  scope: Scope;
  metrics: Metric[];
}

/** The protocol's AggregationTemporality values. */
export const enum Temporality {
  Unspecified = 0,
  Delta = 1,
  Cumulative = 2,
}

/** Bit of a data point's `flags`: the point has no value (the series ended). */
export const FLAG_NO_RECORDED_VALUE = 1;

/** What every point but a gauge's or sum's carries (those are columns: number-points.ts). */
export interface PointBase {
  attributes: Attribute[];
  /**
   * The point's encoded attributes when the decoder kept them: equal keys (within one resource
   * and metric) mean equal attributes, so the translator can reuse the series it found before.
   */
  attributesKey?: EncodedKey;
  startTimeMs: number;
  /** Milliseconds since the epoch; 0 means not set, NaN a time the decoder could not represent. */
  timeMs: number;
  flags: number;
  /** Why the point cannot be stored although the request could be read (e.g. an attribute that is not UTF-8). */
  invalidUtf8?: string;
}

export interface HistogramPoint extends PointBase {
  count: number;
  /** undefined when the producer did not send one (e.g. histograms of values that can be negative). */
  sum: number | undefined;
  /** Per-bucket (not cumulative) counts; one more than `explicitBounds` when well-formed. */
  bucketCounts: number[];
  explicitBounds: number[];
}

export interface ExponentialBuckets {
  offset: number;
  bucketCounts: number[];
}

export interface ExponentialHistogramPoint extends PointBase {
  count: number;
  sum: number | undefined;
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: ExponentialBuckets;
  negative: ExponentialBuckets;
}

export interface QuantileValue {
  quantile: number;
  value: number;
}

export interface SummaryPoint extends PointBase {
  count: number;
  sum: number;
  quantileValues: QuantileValue[];
}

export type MetricData =
  | { kind: 'gauge'; points: NumberPoints; first: number; count: number }
  | { kind: 'sum'; points: NumberPoints; first: number; count: number; temporality: Temporality; monotonic: boolean }
  | { kind: 'histogram'; dataPoints: HistogramPoint[]; temporality: Temporality }
  | { kind: 'exponentialHistogram'; dataPoints: ExponentialHistogramPoint[]; temporality: Temporality }
  | { kind: 'summary'; dataPoints: SummaryPoint[] };

/** How many data points a metric's data holds. */
export function pointCount(data: MetricData): number {
  return data.kind === 'gauge' || data.kind === 'sum' ? data.count : data.dataPoints.length;
}

export interface Metric {
  name: string;
  description: string;
  unit: string;
  /** Why none of the metric's points can be stored (e.g. a name that is not UTF-8). */
  invalidUtf8?: string;
  /** undefined when the metric carries no data field at all (nothing to store). */
  data: MetricData | undefined;
}
