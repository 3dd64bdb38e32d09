import { describe, expect, it } from 'vitest';
import { parseSeriesDesc, parseValues } from '../../../src/promql/conformance/series-desc.js';
import { labelsToRecord } from '../../../src/tsdb/labels.js';

function values(s: string): (number | string)[] {
  return parseValues(s).values.map((v) => (v.kind === 'value' ? v.v : v.kind));
}

describe('series descriptions', () => {
  it('expands increments, repeats, blanks and staleness markers', () => {
    expect(values('0+10x3')).toEqual([0, 10, 20, 30]);
    expect(values('5-2x2')).toEqual([5, 3, 1]);
    expect(values('7x2')).toEqual([7, 7, 7]);
    expect(values('1 _x2 stale 3')).toEqual([1, 'omitted', 'omitted', 'stale', 3]);
    expect(values('Inf -Inf NaN 1e3 .5')).toEqual([Infinity, -Infinity, NaN, 1000, 0.5]);
  });

  it('reads 0x3 as three repeats of 0, not as hex', () => {
    expect(values('0x3')).toEqual([0, 0, 0, 0]);
  });

  it('reads native histograms with their repeats and increments', () => {
    const d = parseValues('1 {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2 3');
    expect(d.values.map((v) => v.kind)).toEqual(['value', 'histogram', 'histogram', 'histogram', 'value']);
    const steps = parseValues(
      '{{schema:1 sum:1 count:2 z_bucket:1 z_bucket_w:0.5 buckets:[1] offset:-2 counter_reset_hint:gauge}}+{{sum:2 count:1 n_buckets:[1]}}x2',
    ).values;
    const last = steps[2]!;
    if (last.kind !== 'histogram') throw new Error('expected a histogram');
    expect(last.hintGiven).toBe(true);
    expect(last.h.counterResetHint).toBe('gauge');
    expect([last.h.schema, last.h.count, last.h.sum, last.h.zeroCount, last.h.zeroThreshold]).toEqual([0, 4, 5, 1, 0.5]);
    // Schema 1 bucket -2 is bucket -1 at schema 0, where the increment's schema puts the sum.
    expect(last.h.positive()).toEqual({ idx: [-1], cnt: [1] });
    expect(last.h.negative()).toEqual({ idx: [0], cnt: [2] });
  });

  it('reads custom bucket bounds and rejects a histogram field it does not know', () => {
    const [v] = parseValues('{{schema:-53 sum:3 count:3 custom_values:[5 10] buckets:[1 2]}}').values;
    expect(v).toMatchObject({ kind: 'histogram', hintGiven: false, h: { schema: -53, customValues: [5, 10], positiveBuckets: [1, 2] } });
    expect(() => parseValues('{{schema:0 sums:1}}')).toThrow('unknown histogram field sums');
  });

  it('reads names, labels and quoted names', () => {
    expect(labelsToRecord(parseSeriesDesc('up{job="a", le="+Inf"} 1').labels)).toEqual({ __name__: 'up', job: 'a', le: '+Inf' });
    expect(labelsToRecord(parseSeriesDesc('{"my.metric", "a.b"="c\\"d"} 1').labels)).toEqual({ __name__: 'my.metric', 'a.b': 'c"d' });
  });

  it('rejects a value it cannot read, naming it', () => {
    expect(() => parseValues('1 two 3')).toThrow('invalid value "two"');
  });
});
