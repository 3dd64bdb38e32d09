import { describe, expect, it } from 'vitest';
import { queryDataJson } from '../../src/api/query-json.js';
import type { QueryValue } from '../../src/promql/value.js';
import { FloatHistogram } from '../../src/tsdb/float-histogram.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';

const h = new FloatHistogram({
  zeroThreshold: 0.001,
  zeroCount: 1,
  count: 4,
  sum: 1.5,
  positiveSpans: [{ offset: 0, length: 2 }],
  positiveBuckets: [0, 2],
  negativeSpans: [{ offset: 1, length: 1 }],
  negativeBuckets: [1],
});

const json = (value: QueryValue): unknown => JSON.parse([...queryDataJson(value)].join(''));

describe('native histograms in query answers', () => {
  it('writes an instant sample as Prometheus does: count, sum and each non-empty bucket with its boundary rule', () => {
    const value: QueryValue = { type: 'vector', samples: [{ labels: labelsFromRecord({ __name__: 'h' }), t: 1500, v: NaN, h }] };
    expect(json(value)).toEqual({
      resultType: 'vector',
      result: [
        {
          metric: { __name__: 'h' },
          histogram: [
            1.5,
            {
              count: '4',
              sum: '1.5',
              buckets: [
                [1, '-2', '-1', '1'],
                [3, '-0.001', '0.001', '1'],
                [0, '1', '2', '2'],
              ],
            },
          ],
        },
      ],
    });
  });

  it('writes a range series with histograms under "histograms", and "values" only when it has floats too', () => {
    const value: QueryValue = {
      type: 'matrix',
      series: [
        { labels: labelsFromRecord({ s: 'a' }), timestamps: [], values: [], histogramTimestamps: [1000], histograms: [h] },
        { labels: labelsFromRecord({ s: 'b' }), timestamps: [1000], values: [2], histogramTimestamps: [2000], histograms: [h] },
      ],
    };
    const out = json(value) as { result: Record<string, unknown>[] };
    expect(Object.keys(out.result[0]!)).toEqual(['metric', 'histograms']);
    expect(out.result[1]).toMatchObject({ values: [[1, '2']], histograms: [[2, { count: '4' }]] });
  });
});
