import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config.js';
import { decodeProtobufRequest } from './protobuf-reference.js';
import { BUCKETED_METRICS } from './bucketed-metrics.js';
import { decodeWireRequest } from '../../../src/otlp/decode/wire.js';
import { EncodedKeyMap, KeyArena } from '../../../src/otlp/decode/encoded-key.js';
import { DecodeError } from '../../../src/otlp/errors.js';
import { plainRequest as plain } from './plain.js';
import { OtlpReceiver } from '../../../src/otlp/receiver.js';
import { Tsdb } from '../../../src/tsdb/db.js';
import { Matcher } from '../../../src/tsdb/matcher.js';
import { encodeRequest } from '../../../harness/clients/otlp.js';

const T = '1700000000123456789';
const ATTRIBUTE_VALUES: object[] = [
  { string_value: 's' },
  { bool_value: true },
  { int_value: '-9007199254740993' },
  { double_value: 1e21 },
  { bytes_value: Buffer.from([1, 2, 3]) },
  { array_value: { values: [{ string_value: 'a' }, { int_value: 2 }, { bool_value: false }] } },
  {
    kvlist_value: {
      values: [
        { key: 'z', value: { double_value: 1.5 } },
        { key: 'a', value: { string_value: 'x' } },
      ],
    },
  },
  {},
];

const REQUEST = {
  resource_metrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { string_value: 'api' } }] },
      scope_metrics: [
        {
          scope: { name: 'sc', version: '1', attributes: [{ key: 'lib', value: { string_value: 'x' } }] },
          metrics: [
            {
              name: 'g',
              unit: 'By',
              description: 'd',
              gauge: {
                data_points: [
                  {
                    time_unix_nano: T,
                    start_time_unix_nano: T,
                    as_int: -5,
                    flags: 1,
                    attributes: ATTRIBUTE_VALUES.map((value, i) => ({ key: `k${i}`, value })),
                  },
                  { time_unix_nano: T, as_int: '-9007199254740993' },
                ],
              },
            },
            {
              name: 's',
              sum: {
                aggregation_temporality: 1,
                is_monotonic: true,
                data_points: [{ time_unix_nano: T, as_double: 2.5, attributes: [{ key: 'a', value: { string_value: 'b' } }] }],
              },
            },
            ...BUCKETED_METRICS,
            { name: 'empty' },
          ],
        },
      ],
    },
  ],
};

/** A length-delimited field: its tag byte, its length, its bytes. */
const field = (tag: number, bytes: Buffer) => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
const fixed64 = (tag: number, write: (b: Buffer) => void) => {
  const b = Buffer.alloc(9);
  b[0] = tag;
  write(b.subarray(1));
  return b;
};

describe('wire decoder', () => {
  it('reads repeated scalars sent unpacked, one tag a value, as a decoder must', () => {
    const point = Buffer.concat([
      fixed64((6 << 3) | 1, (b) => b.writeBigUInt64LE(1n)),
      fixed64((6 << 3) | 1, (b) => b.writeBigUInt64LE(2n)),
      fixed64((7 << 3) | 1, (b) => b.writeDoubleLE(0.5)),
    ]);
    const metric = Buffer.concat([field((1 << 3) | 2, Buffer.from('h')), field((9 << 3) | 2, field((1 << 3) | 2, point))]);
    const bytes = field((1 << 3) | 2, field((2 << 3) | 2, field((2 << 3) | 2, metric)));
    const data = decodeWireRequest(bytes).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
    expect(data).toMatchObject({ kind: 'histogram', dataPoints: [{ bucketCounts: [1, 2], explicitBounds: [0.5] }] });
  });

  it('reads every point kind and attribute value as the protobufjs decoder does', () => {
    const bytes = encodeRequest(REQUEST);
    expect(plain(decodeWireRequest(bytes))).toEqual(plain(decodeProtobufRequest(bytes)));
  });

  it('gives equal attribute sets equal keys and different ones different keys', () => {
    const point = (v: string) => ({ time_unix_nano: T, as_double: 1, attributes: [{ key: 'a', value: { string_value: v } }] });
    const bytes = encodeRequest({
      resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 'g', gauge: { data_points: [point('x'), point('y'), point('x')] } }] }] }],
    });
    const data = decodeWireRequest(bytes).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data!;
    if (data.kind !== 'gauge') throw new Error('not a gauge');
    const seen = new EncodedKeyMap<string>(new KeyArena());
    seen.set(data.points.key(0)!, 'x');
    expect(seen.get(data.points.key(2)!)).toBe('x');
    expect(seen.get(data.points.key(1)!)).toBeUndefined();
  });

  it('refuses truncated bytes with a DecodeError that says where', () => {
    const bytes = encodeRequest(REQUEST);
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => decodeWireRequest(bytes.subarray(0, cut))).toThrow(DecodeError);
    }
    expect(() => decodeWireRequest(bytes.subarray(0, 7))).toThrow(/runs past the end of its message/);
  });

  it('refuses attribute values nested too deeply inside a data point', () => {
    let value: object = { string_value: 'leaf' };
    for (let i = 0; i < 40; i++) value = { array_value: { values: [value] } };
    const bytes = encodeRequest({
      resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 'g', gauge: { data_points: [{ attributes: [{ key: 'k', value }] }] } }] }] }],
    });
    expect(() => decodeWireRequest(bytes)).toThrow(new DecodeError('attribute value nested deeper than 32 levels'));
  });
});

describe('series reuse across requests', () => {
  const push = (receiver: OtlpReceiver, timeMs: number, value: number) =>
    receiver.ingestNow(
      encodeRequest({
        resource_metrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { string_value: 'api' } }] },
            scope_metrics: [
              {
                metrics: [
                  {
                    name: 'q',
                    gauge: { data_points: [{ time_unix_nano: `${timeMs}000000`, as_double: value, attributes: [{ key: 'a', value: { string_value: 'b' } }] }] },
                  },
                ],
              },
            ],
          },
        ],
      }),
      'protobuf',
      'grpc',
    );

  it('appends the same attributes to the same series, and finds it again after retention freed it', () => {
    let now = 1_000_000;
    const tsdb = new Tsdb({ retentionMs: 60_000, now: () => now });
    const receiver = new OtlpReceiver(tsdb, defaultConfig(), pino({ level: 'silent' }));
    const select = () => tsdb.select([new Matcher('=', '__name__', 'q')]);
    push(receiver, now - 1000, 1);
    push(receiver, now, 2);
    expect(select().map((s) => s.length)).toEqual([2]);
    now += 120_000;
    expect(tsdb.gc()).toBe(1);
    push(receiver, now, 3);
    const [series] = select();
    expect(series!.length).toBe(1);
    expect(series!.valueAt(0)).toBe(3);
    expect(series!.live).toBe(true);
    expect(series!.labels).toEqual(['__name__', 'q', 'a', 'b', 'job', 'api']);
  });
});
