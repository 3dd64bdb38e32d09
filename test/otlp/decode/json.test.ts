import { describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../../../src/otlp/decode/json.js';
import { numberPoints, plainMetric, plainRequest } from './plain.js';
import { decodeProtobufRequest } from './protobuf-reference.js';
import { BUCKETED_METRICS } from './bucketed-metrics.js';
import { DecodeError } from '../../../src/otlp/errors.js';
import { encodeRequest } from '../../../harness/clients/otlp.js';

/** The same attribute values in OTLP/JSON and in protobuf field names, with the label values Prometheus makes of them. */
const CASES: [json: object, proto: object, label: string][] = [
  [{ stringValue: 's' }, { string_value: 's' }, 's'],
  [{ boolValue: true }, { bool_value: true }, 'true'],
  [{ intValue: '-9007199254740993' }, { int_value: '-9007199254740993' }, '-9007199254740993'],
  [{ doubleValue: 0.1 }, { double_value: 0.1 }, '0.1'],
  [{ doubleValue: 1e21 }, { double_value: 1e21 }, '1e+21'],
  [{ bytesValue: 'AQID' }, { bytes_value: Buffer.from([1, 2, 3]) }, 'AQID'],
  [
    { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }, { boolValue: false }] } },
    { array_value: { values: [{ string_value: 'a' }, { int_value: 2 }, { bool_value: false }] } },
    '["a",2,false]',
  ],
  [
    {
      kvlistValue: {
        values: [
          { key: 'z', value: { doubleValue: 1.5 } },
          { key: 'a', value: { stringValue: 'x' } },
        ],
      },
    },
    {
      kvlist_value: {
        values: [
          { key: 'z', value: { double_value: 1.5 } },
          { key: 'a', value: { string_value: 'x' } },
        ],
      },
    },
    '{"a":"x","z":1.5}',
  ],
  [{}, {}, ''],
];

function jsonWith(value: object): string {
  return JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'k', value }] } }] });
}

describe('decoding', () => {
  it.each(CASES)('renders attribute %j as a label value the same way from JSON and protobuf', (json, proto, label) => {
    expect(decodeJsonRequest(jsonWith(json)).resourceMetrics[0]!.resource).toEqual([{ key: 'k', value: label }]);
    const bytes = encodeRequest({ resource_metrics: [{ resource: { attributes: [{ key: 'k', value: proto }] } }] });
    expect(decodeProtobufRequest(bytes).resourceMetrics[0]!.resource).toEqual([{ key: 'k', value: label }]);
  });

  it('reads every point kind the same from JSON and protobuf', () => {
    const t = '1700000000123456789';
    const proto = {
      resource_metrics: [
        {
          scope_metrics: [
            {
              scope: { name: 'sc', version: '1' },
              metrics: [
                { name: 'g', unit: 'By', description: 'd', gauge: { data_points: [{ time_unix_nano: t, start_time_unix_nano: t, as_int: -5, flags: 1 }] } },
                { name: 's', sum: { aggregation_temporality: 1, is_monotonic: true, data_points: [{ time_unix_nano: t, as_double: 2.5 }] } },
                ...BUCKETED_METRICS,
              ],
            },
          ],
        },
      ],
    };
    const json = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              scope: { name: 'sc', version: '1' },
              metrics: [
                { name: 'g', unit: 'By', description: 'd', gauge: { dataPoints: [{ timeUnixNano: t, startTimeUnixNano: t, asInt: '-5', flags: 1 }] } },
                {
                  name: 's',
                  sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', isMonotonic: true, dataPoints: [{ timeUnixNano: t, asDouble: 2.5 }] },
                },
                { name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ count: '3', sum: 4, bucketCounts: ['1', 2], explicitBounds: [1] }] } },
                {
                  name: 'e',
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      { count: 3, scale: -2, zeroCount: '1', zeroThreshold: 0.5, positive: { offset: -3, bucketCounts: ['2'] }, negative: { offset: 1 } },
                    ],
                  },
                },
                { name: 'q', summary: { dataPoints: [{ count: 2, sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }] }] } },
              ],
            },
          ],
        },
      ],
    };
    const fromProto = decodeProtobufRequest(encodeRequest(proto));
    const fromJson = decodeJsonRequest(JSON.stringify(json));
    expect(plainRequest(fromJson)).toEqual(plainRequest(fromProto));
    const metrics = fromProto.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(plainMetric(metrics[0]!)).toEqual({
      name: 'g',
      unit: 'By',
      description: 'd',
      data: { kind: 'gauge', dataPoints: [{ attributes: [], startTimeMs: 1_700_000_000_123, timeMs: 1_700_000_000_123, flags: 1, value: -5 }] },
    });
    expect(metrics[2]!.data).toMatchObject({ kind: 'histogram', dataPoints: [{ count: 3, sum: 4, bucketCounts: [1, 2], explicitBounds: [1] }] });
    expect(metrics[3]!.data).toMatchObject({ kind: 'exponentialHistogram', dataPoints: [{ sum: undefined, scale: -2, zeroCount: 1 }] });
  });

  it('tells a histogram without a sum from one with sum 0', () => {
    const req = (point: object) => ({ resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 'h', histogram: { data_points: [point] } }] }] }] });
    const sumOf = (bytes: Buffer) => {
      const data = decodeProtobufRequest(bytes).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
      return data?.kind === 'histogram' ? data.dataPoints[0]!.sum : 'not a histogram';
    };
    expect(sumOf(encodeRequest(req({ count: 1 })))).toBeUndefined();
    expect(sumOf(encodeRequest(req({ count: 1, sum: 0 })))).toBe(0);
  });

  it.each([
    ['[1]', 'the body is not a JSON object (ExportMetricsServiceRequest)'],
    ['{"resourceMetrics": {}}', 'resourceMetrics is not an array'],
    ['{"resourceMetrics": [{"resource": {"attributes": [{"key": 1}]}}]}', 'resourceMetrics[0].resource.attributes[0]: key is not a string'],
    [
      '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [{"asDouble": "x"}]}}]}]}]}',
      'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]: asDouble is not a number',
    ],
    [
      '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"histogram": {"dataPoints": [{"bucketCounts": [1, 2.5]}]}}]}]}]}',
      'resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]: bucketCounts[1] is not an integer',
    ],
    [
      '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"sum": {"aggregationTemporality": "SOMETIMES"}}]}]}]}',
      'resourceMetrics[0].scopeMetrics[0].metrics[0].sum: aggregationTemporality is not an AggregationTemporality ("SOMETIMES")',
    ],
    [
      '{"resourceMetrics": [{"resource": {"attributes": [{"key": "k", "value": {"arrayValue": {"values": [{"intValue": "1.5"}]}}}]}}]}',
      'resourceMetrics[0].resource.attributes[0].value.arrayValue.values[0]: intValue is not an integer',
    ],
  ])('names what is wrong in %s', (text, message) => {
    expect(() => decodeJsonRequest(text)).toThrow(new DecodeError(message));
  });

  it('accepts the NaN and Infinity spellings of the protobuf JSON mapping', () => {
    const req = decodeJsonRequest(
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":"NaN"},{"asDouble":"-Infinity"}]}}]}]}]}',
    );
    const data = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    expect(numberPoints(data).map((p) => p.value)).toEqual([NaN, -Infinity]);
  });

  it('refuses attribute values nested too deeply, from JSON and protobuf', () => {
    let json: object = { stringValue: 'leaf' };
    let proto: object = { string_value: 'leaf' };
    for (let i = 0; i < 40; i++) {
      json = { arrayValue: { values: [json] } };
      proto = { array_value: { values: [proto] } };
    }
    expect(() => decodeJsonRequest(jsonWith(json))).toThrow(
      /resourceMetrics\[0\]\.resource\.attributes\[0\]\.value(\.arrayValue\.values\[0\])+: attribute value nested deeper than 32 levels/,
    );
    const bytes = encodeRequest({ resource_metrics: [{ resource: { attributes: [{ key: 'k', value: proto }] } }] });
    expect(() => decodeProtobufRequest(bytes)).toThrow(new DecodeError('attribute value nested deeper than 32 levels'));
  });
});
