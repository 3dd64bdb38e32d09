import { describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../../../src/otlp/decode/json.js';
import { OtlpStats } from '../../../src/otlp/stats.js';
import { Translator, type TranslateOptions } from '../../../src/otlp/translate/translator.js';
import { Tsdb, type TsdbOptions } from '../../../src/tsdb/db.js';
import { labelsToRecord } from '../../../src/tsdb/labels.js';
import { Matcher } from '../../../src/tsdb/matcher.js';
import { latest, value } from '../harness.js';

const T0 = 1_700_000_000_000;
const ns = (ms: number) => `${ms}000000`;
const attrs = (rec: Record<string, string>) => Object.entries(rec).map(([key, v]) => ({ key, value: { stringValue: v } }));

function setup(options: Partial<TranslateOptions> = {}, tsdbOptions: Partial<TsdbOptions> = {}) {
  const tsdb = new Tsdb(tsdbOptions);
  const stats = new OtlpStats();
  const translator = new Translator(tsdb, { nameTranslation: 'UnderscoreEscapingWithSuffixes', promoteResourceAttributes: '*', ...options }, stats);
  const send = (metrics: object[], resource: Record<string, string> = { 'service.name': 'svc' }, now = T0 + 60_000) =>
    translator.translate(
      decodeJsonRequest(JSON.stringify({ resourceMetrics: [{ resource: { attributes: attrs(resource) }, scopeMetrics: [{ metrics }] }] })),
      now,
    );
  return { tsdb, stats, translator, send };
}

const sum = (name: string, points: object[], temporality = 2, monotonic = true) => ({
  name,
  sum: { aggregationTemporality: temporality, isMonotonic: monotonic, dataPoints: points },
});
const gauge = (name: string, points: object[]) => ({ name, gauge: { dataPoints: points } });

describe('translation of the OTLP data model', () => {
  it('stores a summary as {quantile}, _count and _sum', () => {
    const { tsdb, send } = setup();
    send([
      {
        name: 'rpc.latency',
        unit: 'ms',
        summary: {
          dataPoints: [
            {
              timeUnixNano: ns(T0),
              count: '10',
              sum: 123.5,
              quantileValues: [
                { quantile: 0.5, value: 7 },
                { quantile: 0.99, value: 40 },
              ],
            },
          ],
        },
      },
    ]);
    expect(latest(tsdb, 'rpc_latency_milliseconds')).toEqual({
      'rpc_latency_milliseconds{job="svc", quantile="0.5"}': 7,
      'rpc_latency_milliseconds{job="svc", quantile="0.99"}': 40,
    });
    expect(value(tsdb, 'rpc_latency_milliseconds_count')).toBe(10);
    expect(value(tsdb, 'rpc_latency_milliseconds_sum')).toBe(123.5);
    expect(value(tsdb, 'rpc_latency_count')).toBe(10);
  });

  it('converts an exponential histogram with negative, zero and positive buckets to classic ones', () => {
    const { tsdb, send } = setup({ exponentialHistograms: 'classic' });
    send([
      {
        name: 'delta.temp',
        exponentialHistogram: {
          aggregationTemporality: 2,
          dataPoints: [
            {
              timeUnixNano: ns(T0),
              count: 7,
              sum: 1,
              scale: 0,
              zeroCount: 1,
              positive: { offset: 0, bucketCounts: [1, 2] },
              negative: { offset: 0, bucketCounts: [3] },
            },
          ],
        },
      },
    ]);
    expect(latest(tsdb, 'delta_temp_bucket')).toEqual({
      'delta_temp_bucket{job="svc", le="-1"}': 3,
      'delta_temp_bucket{job="svc", le="0"}': 4,
      'delta_temp_bucket{job="svc", le="2"}': 5,
      'delta_temp_bucket{job="svc", le="4"}': 7,
      'delta_temp_bucket{job="svc", le="+Inf"}': 7,
    });
  });

  it('uses fractional boundaries base^(i+1) at positive scales and writes le without exponents in classic buckets', () => {
    const { tsdb, send } = setup({ exponentialHistograms: 'classic' });
    send([
      {
        name: 'tiny',
        exponentialHistogram: {
          aggregationTemporality: 2,
          dataPoints: [{ timeUnixNano: ns(T0), count: 2, scale: 1, positive: { offset: -41, bucketCounts: [1, 1] } }],
        },
      },
    ]);
    const les = Object.keys(latest(tsdb, 'tiny_bucket')).map((k) => /le="([^"]+)"/.exec(k)![1]);
    // 2^-20 is 9.5367431640625e-7 in JavaScript's own formatting.
    expect(new Set(les)).toEqual(new Set(['0', '0.00000095367431640625', '0.000001348699152348609', '+Inf']));
    expect(latest(tsdb, 'tiny_sum')).toEqual({});
  });

  it('rejects a histogram whose bucket counts do not fit its bounds, keeping its neighbours', () => {
    const { tsdb, stats, send } = setup();
    const result = send([
      {
        name: 'bad.hist',
        histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(T0), count: 3, bucketCounts: [1, 2], explicitBounds: [1, 2] }] },
      },
      gauge('fine', [{ timeUnixNano: ns(T0), asDouble: 1 }]),
    ]);
    expect(result.rejectedDataPoints).toBe(1);
    expect(result.errorMessage).toMatch(/bad\.hist: 2 bucket counts for 2 explicit bounds \(want 3\)/);
    expect(stats.pointsRejected.invalid).toBe(1);
    expect(value(tsdb, 'fine')).toBe(1);
  });

  it('rejects sums with unspecified temporality with a message, keeping the good points', () => {
    const { tsdb, stats, send } = setup();
    const result = send([sum('no.temporality', [{ timeUnixNano: ns(T0), asInt: 3 }], 0), sum('with.temporality', [{ timeUnixNano: ns(T0), asInt: 4 }], 2)]);
    expect(result).toEqual({
      pointsReceived: 2,
      rejectedDataPoints: 1,
      errorMessage: expect.stringContaining('no.temporality has AGGREGATION_TEMPORALITY_UNSPECIFIED'),
    });
    expect(stats.pointsRejected.unspecified_temporality).toBe(1);
    expect(value(tsdb, 'with_temporality_total')).toBe(4);
  });

  it('accumulates delta sums across gaps, ignores a resent point and restarts when a start overlaps what was counted', () => {
    const { tsdb, send } = setup();
    const point = (start: number, end: number, v: number) => ({ startTimeUnixNano: ns(start), timeUnixNano: ns(end), asInt: v });
    send([sum('d', [point(T0, T0 + 10_000, 5)], 1)]);
    send([sum('d', [point(T0 + 10_000, T0 + 20_000, 3)], 1)]);
    send([sum('d', [point(T0 + 10_000, T0 + 20_000, 3)], 1)]);
    expect(value(tsdb, 'd_total')).toBe(8);
    send([sum('d', [point(T0 + 25_000, T0 + 30_000, 2)], 1)]);
    expect(value(tsdb, 'd_total')).toBe(10);
    const restarted = send([sum('d', [point(T0 + 15_000, T0 + 40_000, 4)], 1)]);
    expect(restarted.rejectedDataPoints).toBe(0);
    expect(value(tsdb, 'd_total')).toBe(4);
    const late = send([sum('d', [point(T0, T0 + 5_000, 1)], 1)]);
    expect(late.rejectedDataPoints).toBe(1);
    expect(late.errorMessage).toMatch(/older than the newest sample/);
  });

  it('adds two delta intervals that end within one millisecond, and still ignores the second one resent', () => {
    const { tsdb, send } = setup();
    const at = (ms: number, subMs: number) => (BigInt(ms) * 1_000_000n + BigInt(subMs)).toString();
    const point = (start: string, end: string, v: number) => ({ startTimeUnixNano: start, timeUnixNano: end, asInt: v });
    send([sum('d', [point(at(T0, 0), at(T0 + 1000, 200_000), 5)], 1)]);
    send([sum('d', [point(at(T0 + 1000, 200_000), at(T0 + 1000, 700_000), 3)], 1)]);
    expect(value(tsdb, 'd_total')).toBe(8);
    send([sum('d', [point(at(T0 + 1000, 200_000), at(T0 + 1000, 700_000), 3)], 1)]);
    expect(value(tsdb, 'd_total')).toBe(8);
    send([sum('d', [point(at(T0, 0), at(T0 + 1000, 200_000), 5)], 1)]);
    expect(value(tsdb, 'd_total')).toBe(8);
  });

  it('turns NoRecordedValue into a staleness marker', () => {
    const { tsdb, send } = setup();
    send([gauge('up.ish', [{ timeUnixNano: ns(T0), asDouble: 1 }])]);
    send([gauge('up.ish', [{ timeUnixNano: ns(T0 + 1000), flags: 1 }])]);
    const [s] = tsdb.select([new Matcher('=', '__name__', 'up_ish')]);
    expect(s!.length).toBe(2);
    expect(s!.isStaleAt(0)).toBe(false);
    expect(s!.isStaleAt(1)).toBe(true);
  });

  it('stamps points without a timestamp with the receive time, and converts ns to ms', () => {
    const { tsdb, send } = setup();
    send([gauge('no.time', [{ asDouble: 2 }]), gauge('with.time', [{ timeUnixNano: '1700000000123999999', asDouble: 3 }])], {}, T0 + 5);
    const [a] = tsdb.select([new Matcher('=', '__name__', 'no_time')]);
    const [b] = tsdb.select([new Matcher('=', '__name__', 'with_time')]);
    expect(a!.timestampAt(0)).toBe(T0 + 5);
    expect(b!.timestampAt(0)).toBe(1_700_000_000_123);
  });

  it('keeps ints and negatives exactly', () => {
    const { tsdb, send } = setup();
    send([gauge('temps', [{ timeUnixNano: ns(T0), asInt: '-40' }]), gauge('big', [{ timeUnixNano: ns(T0), asInt: '9007199254740993' }])]);
    expect(value(tsdb, 'temps')).toBe(-40);
    expect(value(tsdb, 'big')).toBe(9007199254740992);
  });

  it('lets point attributes win over promoted resource attributes, and job/instance over both', () => {
    const { tsdb, send } = setup();
    send(
      [gauge('g', [{ timeUnixNano: ns(T0), asDouble: 1, attributes: attrs({ region: 'point', job: 'spoofed', 'http.method': 'GET', http_method: 'POST' }) }])],
      { 'service.name': 'svc', 'service.instance.id': 'i-1', region: 'resource', 'k8s.namespace.name': 'prod' },
    );
    const [s] = tsdb.select([new Matcher('=', '__name__', 'g')]);
    expect(labelsToRecord(s!.labels)).toEqual({
      __name__: 'g',
      job: 'svc',
      instance: 'i-1',
      region: 'point',
      k8s_namespace_name: 'prod',
      http_method: 'GET;POST',
    });
  });

  it('promotes only the listed resource attributes, or none', () => {
    const listed = setup({ promoteResourceAttributes: 'k8s.pod.name, cloud.region' });
    listed.send([gauge('g', [{ timeUnixNano: ns(T0), asDouble: 1 }])], { 'service.name': 's', 'k8s.pod.name': 'p', 'host.name': 'h' });
    expect(labelsToRecord(listed.tsdb.select([new Matcher('=', '__name__', 'g')])[0]!.labels)).toEqual({ __name__: 'g', job: 's', k8s_pod_name: 'p' });
    const none = setup({ promoteResourceAttributes: '' });
    none.send([gauge('g', [{ timeUnixNano: ns(T0), asDouble: 1 }])], { 'service.name': 's', 'k8s.pod.name': 'p' });
    expect(labelsToRecord(none.tsdb.select([new Matcher('=', '__name__', 'g')])[0]!.labels)).toEqual({ __name__: 'g', job: 's' });
  });

  it('rejects the points of a metric whose name translates to nothing, and of an unusable attribute key', () => {
    const { tsdb, send } = setup();
    const result = send([
      gauge('@#$', [{ timeUnixNano: ns(T0), asDouble: 1 }]),
      gauge('ok', [
        { timeUnixNano: ns(T0), asDouble: 1, attributes: attrs({ ようこそ: 'x' }) },
        { timeUnixNano: ns(T0), asDouble: 2, attributes: attrs({ a: 'b' }) },
      ]),
    ]);
    expect(result.rejectedDataPoints).toBe(2);
    expect(result.errorMessage).toMatch(/translates to an empty name/);
    expect(value(tsdb, 'ok', { a: 'b' })).toBe(2);
  });

  it('counts samples older than the out-of-order window or the retention as rejected', () => {
    const { send, stats } = setup({}, { outOfOrderWindowMs: 1000, retentionMs: 3_600_000, now: () => T0 + 60_000 });
    send([gauge('g', [{ timeUnixNano: ns(T0 + 50_000), asDouble: 1 }])]);
    const result = send([gauge('g', [{ timeUnixNano: ns(T0 + 10_000), asDouble: 1 }]), gauge('h', [{ timeUnixNano: ns(T0 - 7_200_000), asDouble: 1 }])]);
    expect(result.rejectedDataPoints).toBe(2);
    expect(stats.pointsRejected.out_of_order).toBe(1);
    expect(stats.pointsRejected.too_old).toBe(1);
  });

  it('in lazy mode keeps only the metrics whose name or alias is wanted', () => {
    const { tsdb, stats, translator, send } = setup();
    let wanted = new Set(['kept', 'requests']);
    translator.setWantedNames(() => wanted);
    send([
      gauge('kept', [{ timeUnixNano: ns(T0), asDouble: 1 }]),
      gauge('dropped', [{ timeUnixNano: ns(T0), asDouble: 1 }]),
      sum('requests', [{ timeUnixNano: ns(T0), asInt: 3 }]),
      { name: 'lat', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(T0), count: 1 }] } },
    ]);
    expect(tsdb.labelValues('__name__')).toEqual(['kept', 'requests_total']);
    expect(stats.pointsSkippedLazy).toBe(2);
    wanted = new Set(['lat_seconds_bucket']);
    send([{ name: 'lat', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(T0), count: 1 }] } }]);
    expect(value(tsdb, 'lat_seconds_count')).toBe(1);
  });
});

describe('staleness of histograms', () => {
  it('marks every bucket, _count and _sum of a histogram point without a value stale', () => {
    const { tsdb, send } = setup();
    const hist = (point: object) => ({ name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [point] } });
    send([hist({ timeUnixNano: ns(T0), count: 3, sum: 4, bucketCounts: [1, 2], explicitBounds: [1] })]);
    send([hist({ timeUnixNano: ns(T0 + 1000), flags: 1, explicitBounds: [1] })]);
    const series = tsdb.select([new Matcher('=~', '__name__', 'h_.*')]);
    expect(series).toHaveLength(4);
    for (const s of series) expect(s.isStaleAt(s.length - 1)).toBe(true);
  });
});

describe('exponential histograms as native histograms', () => {
  const expo = (name: string, points: object[], temporality = 2) => ({
    name,
    exponentialHistogram: { aggregationTemporality: temporality, dataPoints: points },
  });
  const lane = (tsdb: Tsdb, name: string) => tsdb.select([new Matcher('=', '__name__', name)])[0]?.histograms;

  it('keeps the scale as schema, the zero bucket, and shifts bucket indexes by one', () => {
    const { tsdb, send } = setup();
    send([
      expo('delta.temp', [
        {
          timeUnixNano: ns(T0),
          count: 7,
          sum: 1,
          scale: 0,
          zeroCount: 1,
          zeroThreshold: 0.5,
          positive: { offset: 0, bucketCounts: [1, 0, 0, 0, 2] },
          negative: { offset: 0, bucketCounts: [3] },
        },
      ]),
    ]);
    expect(latest(tsdb, 'delta_temp_bucket')).toEqual({});
    const h = lane(tsdb, 'delta_temp')!.hs[0]!;
    expect(h).toMatchObject({
      schema: 0,
      zeroThreshold: 0.5,
      zeroCount: 1,
      count: 7,
      sum: 1,
      positiveSpans: [
        { offset: 1, length: 1 },
        { offset: 3, length: 1 },
      ],
      positiveBuckets: [1, 2],
      negativeSpans: [{ offset: 1, length: 1 }],
      negativeBuckets: [3],
    });
    // OTLP's positive bucket 4 is (16, 32]: Prometheus's bucket 5 at schema 0.
    expect(h.buckets().map((b) => [b.kind, b.lower, b.upper, b.count])).toEqual([
      ['negative', -2, -1, 3],
      ['zero', -0.5, 0.5, 1],
      ['positive', 1, 2, 1],
      ['positive', 16, 32, 2],
    ]);
  });

  it('reduces a scale above 8 to 8 by merging neighbouring buckets, and gives a point without a sum a sum of 0', () => {
    const { tsdb, send } = setup();
    // Scale 10 is reduced to 8: each four neighbouring OTLP buckets make one.
    send([expo('fine', [{ timeUnixNano: ns(T0), count: 36, scale: 10, positive: { offset: -5, bucketCounts: [1, 2, 3, 4, 5, 6, 7, 8] } }])]);
    const h = lane(tsdb, 'fine')!.hs[0]!;
    expect(h.schema).toBe(8);
    expect(h.sum).toBe(0);
    // -5 >> 2 = -2 holds -5..-5, -1 holds -4..-1, 0 holds 0..2: indexes -1, 0, 1 after the shift.
    expect(h.positiveSpans).toEqual([{ offset: -1, length: 3 }]);
    expect(h.positiveBuckets).toEqual([1, 2 + 3 + 4 + 5, 6 + 7 + 8]);
  });

  it('refuses a scale below -4 with a message, keeping the other points', () => {
    const { tsdb, stats, send } = setup();
    const result = send([
      expo('coarse', [{ timeUnixNano: ns(T0), count: 1, scale: -5, positive: { offset: 0, bucketCounts: [1] } }]),
      gauge('fine', [{ timeUnixNano: ns(T0), asDouble: 1 }]),
    ]);
    expect(result.rejectedDataPoints).toBe(1);
    expect(result.errorMessage).toMatch(/coarse: exponential histogram scale -5 is below -4, the coarsest native histogram schema/);
    expect(stats.pointsRejected.invalid).toBe(1);
    expect(value(tsdb, 'fine')).toBe(1);
  });

  it('accumulates delta points per series, and a point without a value is a staleness marker', () => {
    const { tsdb, send } = setup();
    const point = (k: number, flags = 0) => ({
      startTimeUnixNano: ns(T0 + (k - 1) * 10_000),
      timeUnixNano: ns(T0 + k * 10_000),
      count: k,
      sum: k,
      scale: 0,
      positive: { offset: k, bucketCounts: [k] },
      flags,
    });
    send([expo('jobs', [point(1), point(2)], 1)]);
    send([expo('jobs', [point(3)], 1)]);
    const hs = lane(tsdb, 'jobs')!.hs;
    expect(hs.map((h) => [h.count, h.sum])).toEqual([
      [1, 1],
      [3, 3],
      [6, 6],
    ]);
    expect(hs[2]!.positiveSpans).toEqual([{ offset: 2, length: 3 }]);
    expect(hs[2]!.positiveBuckets).toEqual([1, 2, 3]);

    send([expo('jobs', [point(4, 1)], 1)]);
    const series = tsdb.select([new Matcher('=', '__name__', 'jobs')])[0]!;
    expect(series.isStaleAt(series.length - 1)).toBe(true);
    expect(series.timestampAt(series.length - 1)).toBe(T0 + 40_000);
    // After the marker the total starts again from the next delta.
    send([expo('jobs', [point(5)], 1)]);
    expect(lane(tsdb, 'jobs')!.hs[3]!.count).toBe(5);
  });
});
