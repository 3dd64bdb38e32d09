import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeWriteRequest, readLabels } from '../../src/remotewrite/decode.js';
import { UserError } from '../../src/common/errors.js';
import { encodeV1, encodeV2, STALE_NAN } from './client.js';

describe('remote-write wire decoding', () => {
  it('reads 1.0 labels, samples (negative and large timestamps exact), metadata, and counts exemplars and histograms', () => {
    const body = encodeV1(
      [
        {
          labels: { __name__: 'a', job: 'j' },
          samples: [
            { value: 1.5, timestamp: -1 },
            { value: STALE_NAN, timestamp: 253402300799999 },
            { value: NaN, timestamp: 1 },
          ],
          exemplars: 2,
          histograms: 1,
        },
      ],
      [{ type: 5, metric_family_name: 'a', help: 'h', unit: 'u' }],
    );
    const batch = decodeWriteRequest(Buffer.from(body), 'v1');
    expect(batch.series).toHaveLength(1);
    const s = batch.series[0]!;
    // Labels are found by their bytes first, and read only when asked.
    expect(s.labels).toBeUndefined();
    expect(s.rawKey).toBe(Buffer.from(body).toString('latin1', s.labelsStart, s.labelsEnd));
    expect(readLabels(batch, s)).toEqual(['__name__', 'a', 'job', 'j']);
    expect([s.first, s.count, s.histograms]).toEqual([0, 3, 1]);
    expect(Array.from(batch.samples.times.subarray(0, 3))).toEqual([-1, 253402300799999, 1]);
    expect(batch.samples.values[0]).toBe(1.5);
    // Only the 0x7ff0000000000002 pattern is a marker; an ordinary NaN is a value.
    expect(Array.from(batch.samples.stale.subarray(0, 3))).toEqual([0, 1, 0]);
    expect(batch.exemplars).toBe(2);
    expect(batch.metadata).toEqual([['a', { type: 'summary', help: 'h', unit: 'u' }]]);
  });

  it('reads 1.0 labels whose fields are not contiguous at once', () => {
    const label = (name: string, value: string) =>
      protobuf.Writer.create()
        .uint32((1 << 3) | 2)
        .string(name)
        .uint32((2 << 3) | 2)
        .string(value)
        .finish();
    const sample = protobuf.Writer.create()
      .uint32((1 << 3) | 1)
      .double(3)
      .uint32((2 << 3) | 0)
      .int64(9)
      .finish();
    const ts = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(label('__name__', 'split'))
      .uint32((2 << 3) | 2)
      .bytes(sample)
      .uint32((1 << 3) | 2)
      .bytes(label('pod', 'p'))
      .finish();
    const batch = decodeWriteRequest(
      Buffer.from(
        protobuf.Writer.create()
          .uint32((1 << 3) | 2)
          .bytes(ts)
          .finish(),
      ),
      'v1',
    );
    expect(batch.series[0]!.rawKey).toBeUndefined();
    expect(batch.series[0]!.labels).toEqual(['__name__', 'split', 'pod', 'p']);
    expect(batch.series[0]!.count).toBe(1);
  });

  it('reads a 2.0 symbol table that comes after the series, and unpacked label references', () => {
    const w = protobuf.Writer.create();
    // TimeSeries (field 5) first: labels_refs as two unpacked varints, one sample with a start timestamp.
    const ts = protobuf.Writer.create();
    ts.uint32((1 << 3) | 0).uint32(1);
    ts.uint32((1 << 3) | 0).uint32(2);
    const sample = protobuf.Writer.create()
      .uint32((1 << 3) | 1)
      .double(7)
      .uint32((2 << 3) | 0)
      .int64(2000)
      .uint32((3 << 3) | 0)
      .int64(1000)
      .finish();
    ts.uint32((2 << 3) | 2).bytes(sample);
    // An unknown field is skipped.
    ts.uint32((9 << 3) | 0).uint32(5);
    w.uint32((5 << 3) | 2).bytes(ts.finish());
    for (const s of ['', '__name__', 'late_symbols']) w.uint32((4 << 3) | 2).string(s);
    const batch = decodeWriteRequest(Buffer.from(w.finish()), 'v2');
    expect(batch.series[0]!.labels).toEqual(['__name__', 'late_symbols']);
    expect([batch.samples.values[0], batch.samples.times[0], batch.samples.starts[0]]).toEqual([7, 2000, 1000]);
  });

  it('keeps a series whose labels are not UTF-8 as invalid, and the rest of the request', () => {
    const w = protobuf.Writer.create();
    for (const s of ['', '__name__', 'ok']) w.uint32((4 << 3) | 2).string(s);
    w.uint32((4 << 3) | 2).bytes(Uint8Array.from([0xc3, 0x28]));
    const series = (refs: number[]) => {
      const ts = protobuf.Writer.create()
        .uint32((1 << 3) | 2)
        .fork();
      for (const r of refs) ts.uint32(r);
      ts.ldelim();
      ts.uint32((2 << 3) | 2).bytes(
        protobuf.Writer.create()
          .uint32((1 << 3) | 1)
          .double(1)
          .uint32((2 << 3) | 0)
          .int64(5)
          .finish(),
      );
      return ts.finish();
    };
    w.uint32((5 << 3) | 2).bytes(series([1, 2]));
    w.uint32((5 << 3) | 2).bytes(series([1, 3]));
    const batch = decodeWriteRequest(Buffer.from(w.finish()), 'v2');
    expect(batch.series[0]!.labels).toEqual(['__name__', 'ok']);
    expect(batch.series[1]!.labels).toBeUndefined();
    expect(batch.series[1]!.invalid).toBe('labels_refs refers to symbol 3, which is not valid UTF-8');
  });

  it('refuses framing errors whole: a length past the end, field number 0, a bad wire type', () => {
    const good = Buffer.from(encodeV2([{ labels: { __name__: 'x' }, samples: [{ value: 1, timestamp: 1 }] }]));
    const cases: [Buffer, RegExp][] = [
      [good.subarray(0, good.length - 2), /runs past the end of its message/],
      [Buffer.concat([good, Buffer.from([0, 0])]), /field number 0/],
      [Buffer.from([(1 << 3) | 7]), /wire type 7 of field 1 is not a protobuf wire type/],
    ];
    for (const [body, message] of cases) {
      expect(() => decodeWriteRequest(body, 'v2')).toThrow(UserError);
      expect(() => decodeWriteRequest(body, 'v2')).toThrow(message);
    }
  });
});
