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

  it('marks native histograms, which a float engine cannot load', () => {
    const d = parseValues('1 {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2 3');
    expect(d.native).toBe(true);
    expect(d.values.map((v) => v.kind)).toEqual(['value', 'histogram', 'histogram', 'histogram', 'value']);
  });

  it('reads names, labels and quoted names', () => {
    expect(labelsToRecord(parseSeriesDesc('up{job="a", le="+Inf"} 1').labels)).toEqual({ __name__: 'up', job: 'a', le: '+Inf' });
    expect(labelsToRecord(parseSeriesDesc('{"my.metric", "a.b"="c\\"d"} 1').labels)).toEqual({ __name__: 'my.metric', 'a.b': 'c"d' });
  });

  it('rejects a value it cannot read, naming it', () => {
    expect(() => parseValues('1 two 3')).toThrow('invalid value "two"');
  });
});
