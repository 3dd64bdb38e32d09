import { I64, LEN, VARINT, type WireReader } from '../common/wire.js';
import {
  COUNTER_RESET_HINTS,
  CUSTOM_BUCKETS_SCHEMA,
  FloatHistogram,
  MAX_EXPONENTIAL_SCHEMA,
  MIN_EXPONENTIAL_SCHEMA,
  type BucketSpan,
} from '../tsdb/float-histogram.js';

/*
 * A native histogram sample of remote write: the Histogram message, the same field numbers in 1.0
 * and 2.0 (proto/io/prometheus/write/v2/types.proto). Integer histograms send each bucket as the
 * difference from the one before it, float histograms send the counts; both become the store's
 * FloatHistogram. A message that is well framed but not a valid histogram is kept with the reason,
 * so only that sample is refused.
 */

/** One decoded histogram sample: a histogram, a staleness marker, or why it cannot be stored. */
export interface HistogramSample {
  time: number;
  h: FloatHistogram | undefined;
  stale: boolean;
  invalid: string | undefined;
}

/** Past this, bucket boundaries 2^(2^-schema) are no longer apart in a double. */
const FINEST_SENT_SCHEMA = 52;

/** What a message holds before it is checked. */
interface Sent {
  integer: boolean;
  count: number;
  zeroCount: number;
  positiveSpans: BucketSpan[];
  negativeSpans: BucketSpan[];
  positive: number[];
  negative: number[];
}

export function readHistogram(r: WireReader, end: number): HistogramSample {
  const sample: HistogramSample = { time: 0, h: undefined, stale: false, invalid: undefined };
  const h = new FloatHistogram();
  const sent: Sent = { integer: true, count: 0, zeroCount: 0, positiveSpans: [], negativeSpans: [], positive: [], negative: [] };
  let resetHint = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === VARINT) {
      if (field === 1) sent.count = r.varint(end);
      else if (field === 4) h.schema = r.sint(end);
      else if (field === 6) sent.zeroCount = r.varint(end);
      else if (field === 9) sent.negative.push(r.sint(end));
      else if (field === 12) sent.positive.push(r.sint(end));
      else if (field === 14) resetHint = r.varint(end);
      else if (field === 15) sample.time = r.int64(end);
      else r.skip(wire, end, field);
    } else if (wire === I64) {
      const at = r.fixed64(end);
      const v = r.double(at);
      if (field === 2) {
        sent.integer = false;
        sent.count = v;
      } else if (field === 3) {
        h.sum = v;
        // A stale histogram carries the marker as its sum.
        sample.stale = r.staleNaN(at);
      } else if (field === 5) h.zeroThreshold = v;
      else if (field === 7) {
        sent.integer = false;
        sent.zeroCount = v;
      } else if (field === 10) sent.negative.push(v);
      else if (field === 13) sent.positive.push(v);
      else if (field === 16) h.customValues.push(v);
    } else if (wire === LEN) {
      const stop = r.len(end);
      if (field === 8) sent.negativeSpans.push(readSpan(r, stop));
      else if (field === 11) sent.positiveSpans.push(readSpan(r, stop));
      else if (field === 9 || field === 12) {
        const into = field === 9 ? sent.negative : sent.positive;
        while (r.pos < stop) into.push(r.sint(stop));
      } else if (field === 10 || field === 13 || field === 16) {
        const into = field === 10 ? sent.negative : field === 13 ? sent.positive : h.customValues;
        if ((stop - r.pos) % 8 !== 0) throw r.error(`packed doubles of field ${field} are ${stop - r.pos} bytes, not a multiple of 8`);
        for (; r.pos < stop; r.pos += 8) into.push(r.double(r.pos));
      }
      r.pos = stop;
    } else r.skip(wire, end, field);
  }
  h.counterResetHint = COUNTER_RESET_HINTS[resetHint] ?? 'unknown';
  if (sample.stale) return sample;
  sample.invalid = fill(h, sent);
  if (sample.invalid === undefined) sample.h = h.schema > MAX_EXPONENTIAL_SCHEMA ? h.reduceResolution(MAX_EXPONENTIAL_SCHEMA) : h;
  return sample;
}

function readSpan(r: WireReader, end: number): BucketSpan {
  const span: BucketSpan = { offset: 0, length: 0 };
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === VARINT) span.offset = r.sint(end);
    else if (field === 2 && (tag & 7) === VARINT) span.length = r.varint(end);
    else r.skip(tag & 7, end, field);
  }
  return span;
}

/** Fills the histogram from what was sent, or says why that is not a histogram Prometheus would store. */
function fill(h: FloatHistogram, sent: Sent): string | undefined {
  const custom = h.schema === CUSTOM_BUCKETS_SCHEMA;
  if (!custom && (h.schema < MIN_EXPONENTIAL_SCHEMA || h.schema > FINEST_SENT_SCHEMA)) {
    return `schema ${h.schema} is neither an exponential schema (${MIN_EXPONENTIAL_SCHEMA} to ${FINEST_SENT_SCHEMA}, those past ${MAX_EXPONENTIAL_SCHEMA} merged down to it) nor ${CUSTOM_BUCKETS_SCHEMA} (custom buckets)`;
  }
  if (custom) {
    if (sent.negativeSpans.length > 0 || sent.negative.length > 0) return 'a histogram with custom buckets has negative buckets';
    if (sent.zeroCount !== 0 || h.zeroThreshold !== 0) return 'a histogram with custom buckets has a zero bucket';
    for (let i = 0; i < h.customValues.length; i++) {
      const v = h.customValues[i]!;
      if (Number.isNaN(v) || (i > 0 && v <= h.customValues[i - 1]!)) return 'custom bucket bounds are not strictly increasing';
    }
    if (h.customValues.at(-1) === Infinity) return 'the last custom bucket bound is +Inf, which the bucket past the bounds already is';
    if ((sent.positiveSpans[0]?.offset ?? 0) < 0) return 'a histogram with custom buckets has a bucket below index 0';
  } else if (h.customValues.length > 0) return `custom bucket bounds are sent with exponential schema ${h.schema}`;
  const positive = buckets('positive', sent.positiveSpans, sent.positive, sent.integer);
  if (typeof positive === 'string') return positive;
  const negative = buckets('negative', sent.negativeSpans, sent.negative, sent.integer);
  if (typeof negative === 'string') return negative;
  if (custom && sent.positiveSpans.length > 0) {
    const last = lastIndex(sent.positiveSpans);
    if (last > h.customValues.length) return `bucket ${last} is past the ${h.customValues.length} custom bounds and the +Inf bucket`;
  }
  if (sent.zeroCount < 0 || Number.isNaN(sent.zeroCount)) return `the zero bucket count is ${sent.zeroCount}`;
  if (sent.integer) {
    const observed = sent.zeroCount + sum(positive) + sum(negative);
    // NaN observations count in no bucket, so only a count below the buckets' is impossible.
    if (sent.count < observed) return `the count is ${sent.count}, below the ${observed} observations in its buckets`;
  }
  h.count = sent.count;
  h.zeroCount = sent.zeroCount;
  h.positiveSpans = sent.positiveSpans;
  h.positiveBuckets = positive;
  h.negativeSpans = sent.negativeSpans;
  h.negativeBuckets = negative;
  return undefined;
}

/** A side's absolute bucket counts, or why they cannot be. */
function buckets(side: string, spans: readonly BucketSpan[], sent: readonly number[], integer: boolean): number[] | string {
  let needed = 0;
  for (let i = 0; i < spans.length; i++) {
    if (i > 0 && spans[i]!.offset < 0) return `${side} span ${i + 1} has a negative offset (${spans[i]!.offset})`;
    needed += spans[i]!.length;
  }
  if (needed !== sent.length) return `${side} spans need ${needed} buckets, ${sent.length} were sent`;
  if (!integer) {
    const bad = sent.findIndex((c) => !(c >= 0));
    return bad === -1 ? [...sent] : `${side} bucket ${bad + 1} has count ${sent[bad]}`;
  }
  const counts: number[] = new Array<number>(sent.length);
  let running = 0;
  for (let i = 0; i < sent.length; i++) {
    running += sent[i]!;
    if (running < 0) return `${side} bucket ${i + 1} has count ${running}`;
    counts[i] = running;
  }
  return counts;
}

function lastIndex(spans: readonly BucketSpan[]): number {
  let idx = -1;
  for (const span of spans) idx += span.offset + span.length;
  return idx;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
