import { describe, expect, it } from 'vitest';
import { WireReader } from '../../src/common/wire.js';
import { loadProto } from '../../src/protobuf.js';
import { readHistogram } from '../../src/remotewrite/histogram.js';
import { STALE_NAN, type HistogramMessage } from './client.js';

const Histogram = loadProto('io/prometheus/write/v2/types.proto').lookupType('io.prometheus.write.v2.Histogram');

function read(message: Partial<HistogramMessage>) {
  const bytes = Buffer.from(Histogram.encode(Histogram.fromObject({ timestamp: 1000, sum: 0, schema: 0, ...message })).finish());
  return readHistogram(new WireReader(bytes, 'io.prometheus.write.v2.Histogram'), bytes.length);
}

const invalid = (message: Partial<HistogramMessage>) => read(message).invalid;

describe('a remote-write native histogram sample', () => {
  it('turns the deltas of an integer histogram into counts, across spans and on both sides of zero', () => {
    const s = read({
      count_int: 13,
      sum: 7.5,
      schema: 1,
      zero_threshold: 0.001,
      zero_count_int: 2,
      positive_spans: [
        { offset: -2, length: 2 },
        { offset: 3, length: 1 },
      ],
      positive_deltas: [4, -3, 2],
      negative_spans: [{ offset: 1, length: 1 }],
      negative_deltas: [3],
      reset_hint: 2,
    });
    expect(s.invalid).toBeUndefined();
    expect([s.time, s.stale]).toEqual([1000, false]);
    expect(s.h).toMatchObject({
      schema: 1,
      count: 13,
      sum: 7.5,
      zeroThreshold: 0.001,
      zeroCount: 2,
      positiveBuckets: [4, 1, 3],
      negativeBuckets: [3],
      counterResetHint: 'not_reset',
    });
    expect(s.h!.positiveSpans).toEqual([
      { offset: -2, length: 2 },
      { offset: 3, length: 1 },
    ]);
  });

  it('takes the counts of a float histogram as sent, and custom buckets with their bounds', () => {
    const float = read({
      count_float: 2.5,
      sum: 1,
      zero_count_float: 0.5,
      positive_spans: [{ offset: 0, length: 2 }],
      positive_counts: [1.5, 0.5],
      reset_hint: 3,
    });
    expect(float.h).toMatchObject({ count: 2.5, zeroCount: 0.5, positiveBuckets: [1.5, 0.5], counterResetHint: 'gauge' });
    const custom = read({ count_int: 3, sum: 2, schema: -53, custom_values: [0.1, 1], positive_spans: [{ offset: 0, length: 3 }], positive_deltas: [1, 0, 0] });
    expect(custom.h).toMatchObject({ schema: -53, customValues: [0.1, 1], positiveBuckets: [1, 1, 1] });
  });

  it('merges the buckets of a schema finer than 8 down to 8, as Prometheus stores it', () => {
    // At schema 9, buckets 1 and 2 both lie in schema 8's bucket 1.
    const s = read({ count_int: 3, schema: 9, positive_spans: [{ offset: 1, length: 2 }], positive_deltas: [1, 1] });
    expect(s.h).toMatchObject({ schema: 8, positiveBuckets: [3], positiveSpans: [{ offset: 1, length: 1 }] });
  });

  it('is a staleness marker when its sum is the marker, whatever else it holds', () => {
    const s = read({ count_int: 1, sum: STALE_NAN, positive_spans: [{ offset: 0, length: 2 }], positive_deltas: [1] });
    expect([s.stale, s.h, s.invalid]).toEqual([true, undefined, undefined]);
    expect(read({ count_int: 0, sum: NaN }).stale).toBe(false);
  });

  it('says why a histogram Prometheus would not store is invalid', () => {
    const spans = [{ offset: 0, length: 2 }];
    expect(invalid({ count_int: 2, positive_spans: spans, positive_deltas: [1] })).toBe('positive spans need 2 buckets, 1 were sent');
    expect(invalid({ count_int: 2, positive_spans: spans, positive_deltas: [1, -2] })).toBe('positive bucket 2 has count -1');
    expect(invalid({ count_float: 2, negative_spans: spans, negative_counts: [1, NaN] })).toBe('negative bucket 2 has count NaN');
    expect(invalid({ count_int: 2, positive_spans: spans, positive_deltas: [1, 1], zero_count_int: 1 })).toBe(
      'the count is 2, below the 4 observations in its buckets',
    );
    expect(
      invalid({
        count_int: 2,
        positive_spans: [
          { offset: 0, length: 1 },
          { offset: -1, length: 1 },
        ],
        positive_deltas: [1, 0],
      }),
    ).toBe('positive span 2 has a negative offset (-1)');
    expect(invalid({ schema: -5 })).toMatch(/^schema -5 is neither an exponential schema \(-4 to 52, those past 8 merged down to it\) nor -53/);
    expect(invalid({ schema: -53, custom_values: [1, 1] })).toBe('custom bucket bounds are not strictly increasing');
    expect(invalid({ schema: -53, custom_values: [1, Infinity] })).toMatch(/^the last custom bucket bound is \+Inf/);
    expect(invalid({ schema: -53, custom_values: [1], positive_spans: [{ offset: 0, length: 3 }], positive_deltas: [1, 0, 0], count_int: 3 })).toBe(
      'bucket 2 is past the 1 custom bounds and the +Inf bucket',
    );
    expect(invalid({ schema: -53, custom_values: [1], zero_count_int: 1, count_int: 1 })).toBe('a histogram with custom buckets has a zero bucket');
    expect(invalid({ schema: 0, custom_values: [1] })).toBe('custom bucket bounds are sent with exponential schema 0');
  });
});
