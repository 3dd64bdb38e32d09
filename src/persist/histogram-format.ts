import { COUNTER_RESET_HINTS, FloatHistogram, type BucketSpan } from '../tsdb/float-histogram.js';
import type { HistogramSamples } from '../tsdb/histogram-samples.js';
import { FormatError, type ByteReader, type ByteWriter } from './bytes.js';

/**
 * A series' native histogram samples in the snapshot: varint count, then each sample as f64
 * timestamp and its histogram by meaning (schema, zero bucket, count, sum, hint, spans and
 * absolute bucket counts, custom bounds). Histograms are few next to floats, so they are written
 * plainly rather than compressed.
 */

export function writeHistogramSamples(w: ByteWriter, lane: HistogramSamples): void {
  w.varint(lane.length);
  for (let i = 0; i < lane.length; i++) {
    w.f64(lane.ts[i]!);
    writeHistogram(w, lane.hs[i]!);
  }
}

export function writeHistogram(w: ByteWriter, h: FloatHistogram): void {
  w.zigzag(h.schema);
  w.f64(h.zeroThreshold);
  w.f64(h.zeroCount);
  w.f64(h.count);
  w.f64(h.sum);
  w.u8(COUNTER_RESET_HINTS.indexOf(h.counterResetHint));
  writeBuckets(w, h.positiveSpans, h.positiveBuckets);
  writeBuckets(w, h.negativeSpans, h.negativeBuckets);
  w.varint(h.customValues.length);
  for (const v of h.customValues) w.f64(v);
}

function writeBuckets(w: ByteWriter, spans: readonly BucketSpan[], buckets: readonly number[]): void {
  w.varint(spans.length);
  for (const s of spans) {
    w.zigzag(s.offset);
    w.varint(s.length);
  }
  for (const b of buckets) w.f64(b);
}

/** Reads what writeHistogramSamples wrote, checking the timestamps ascend. */
export function readHistogramSamples(r: ByteReader): { ts: number[]; hs: FloatHistogram[] } {
  const n = r.varint();
  const ts: number[] = [];
  const hs: FloatHistogram[] = [];
  for (let i = 0; i < n; i++) {
    const t = r.f64();
    if (i > 0 && !(t > ts[i - 1]!)) throw new FormatError('histogram timestamps are not ascending');
    ts.push(t);
    hs.push(readHistogram(r));
  }
  return { ts, hs };
}

export function readHistogram(r: ByteReader): FloatHistogram {
  const schema = r.zigzag();
  const zeroThreshold = r.f64();
  const zeroCount = r.f64();
  const count = r.f64();
  const sum = r.f64();
  const counterResetHint = COUNTER_RESET_HINTS[r.u8()];
  if (counterResetHint === undefined) throw new FormatError('unknown histogram counter reset hint');
  const [positiveSpans, positiveBuckets] = readBuckets(r);
  const [negativeSpans, negativeBuckets] = readBuckets(r);
  const customValues: number[] = [];
  const nCustom = r.varint();
  for (let i = 0; i < nCustom; i++) customValues.push(r.f64());
  return new FloatHistogram({
    schema,
    zeroThreshold,
    zeroCount,
    count,
    sum,
    counterResetHint,
    positiveSpans,
    positiveBuckets,
    negativeSpans,
    negativeBuckets,
    customValues,
  });
}

function readBuckets(r: ByteReader): [BucketSpan[], number[]] {
  const spans: BucketSpan[] = [];
  let total = 0;
  const nSpans = r.varint();
  for (let i = 0; i < nSpans; i++) {
    const span = { offset: r.zigzag(), length: r.varint() };
    total += span.length;
    spans.push(span);
  }
  const buckets: number[] = [];
  for (let i = 0; i < total; i++) buckets.push(r.f64());
  return [spans, buckets];
}
