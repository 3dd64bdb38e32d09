import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { encodeV1, encodeV2, postRemoteWrite, snappy, STALE_NAN, V1_CONTENT_TYPE, V2_CONTENT_TYPE, type HistogramMessage } from './client.js';

const MAX_REQUEST = 64 * 1024;
const MAX_DECOMPRESSED = 256 * 1024;

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

describe('remote write: POST /api/v1/write', () => {
  let app: App;
  let apiUrl: string;
  let otlpUrl: string;
  beforeAll(async () => {
    app = await startTestApp({ maxRequestBytes: MAX_REQUEST, maxDecompressedBytes: MAX_DECOMPRESSED, maxSeries: 50 });
    apiUrl = `http://127.0.0.1:${app.ports.http}/api/v1/write`;
    otlpUrl = `http://127.0.0.1:${app.ports.otlpHttp}/api/v1/write`;
  });
  afterAll(() => app.close());

  const query = async (q: string): Promise<Vector[]> => {
    const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { data: { result: Vector[] } };
    return body.data.result;
  };
  const now = () => Date.now();

  it('stores Remote-Write 1.0 samples on the API port and answers 204 with the written counts', async () => {
    const t = now();
    const body = encodeV1(
      [
        {
          labels: { __name__: 'rw1_requests_total', job: 'api', code: '200' },
          samples: [
            { value: 3, timestamp: t - 1000 },
            { value: 7, timestamp: t },
          ],
        },
        { labels: { __name__: 'rw1_temperature', job: 'api' }, samples: [{ value: 21.5, timestamp: t }] },
      ],
      [{ type: 1, metric_family_name: 'rw1_requests_total', help: 'Requests served.', unit: '' }],
    );
    const res = await postRemoteWrite(apiUrl, snappy(body), 'application/x-protobuf');
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('3');
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('0');
    expect(await query('rw1_requests_total')).toEqual([
      { metric: { __name__: 'rw1_requests_total', job: 'api', code: '200' }, value: [expect.any(Number), '7'] },
    ]);
    expect((await query('rw1_temperature'))[0]!.value[1]).toBe('21.5');
    expect(app.tsdb.metadata('rw1_requests_total').get('rw1_requests_total')).toEqual({ type: 'counter', help: 'Requests served.', unit: '' });
  });

  it('stores Remote-Write 2.0 samples on the OTLP/HTTP port, with start timestamps and metadata', async () => {
    const t = now();
    const body = encodeV2([
      {
        labels: { __name__: 'rw2_jobs_total', queue: 'emails' },
        samples: [{ value: 42, timestamp: t, start: t - 60_000 }],
        metadata: { type: 1, help: 'Jobs done.', unit: '' },
        exemplars: 1,
      },
      {
        labels: { __name__: 'rw2_latency_seconds_bucket', le: '0.5' },
        samples: [{ value: 9, timestamp: t }],
        metadata: { type: 3, help: 'Latency.', unit: 'seconds' },
      },
    ]);
    const res = await postRemoteWrite(otlpUrl, snappy(body), V2_CONTENT_TYPE);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
    expect(res.headers.get('x-prometheus-remote-write-exemplars-written')).toBe('0');
    expect((await query('rw2_jobs_total{queue="emails"}'))[0]!.value[1]).toBe('42');
    const series = app.tsdb.select([]).find((s) => s.metricName === 'rw2_jobs_total')!;
    expect(series.startTimeAt(series.length - 1)).toBe(t - 60_000);
    expect(app.tsdb.metadata('rw2_latency_seconds').get('rw2_latency_seconds')).toEqual({ type: 'histogram', help: 'Latency.', unit: 'seconds' });
  });

  it("reads the 2.0 release candidates' per-series created timestamp when a sample has no start timestamp", async () => {
    const t = now();
    const res = await postRemoteWrite(
      apiUrl,
      snappy(encodeV2([{ labels: { __name__: 'rw2_created_total' }, samples: [{ value: 1, timestamp: t }], createdTimestamp: t - 5000 }])),
      V2_CONTENT_TYPE,
    );
    expect(res.status).toBe(204);
    const series = app.tsdb.select([]).find((s) => s.metricName === 'rw2_created_total')!;
    expect(series.startTimeAt(series.length - 1)).toBe(t - 5000);
  });

  it('stores the staleness marker as a marker, so the series ends at once', async () => {
    const t = now();
    const labels = { __name__: 'rw_stale_gauge', pod: 'a' };
    await postRemoteWrite(apiUrl, snappy(encodeV1([{ labels, samples: [{ value: 5, timestamp: t - 2000 }] }])), V1_CONTENT_TYPE);
    expect(await query('rw_stale_gauge')).toHaveLength(1);
    const res = await postRemoteWrite(apiUrl, snappy(encodeV2([{ labels, samples: [{ value: STALE_NAN, timestamp: t - 1000 }] }])), V2_CONTENT_TYPE);
    expect(res.status).toBe(204);
    expect(await query('rw_stale_gauge')).toEqual([]);
    // An ordinary NaN is a value, not a marker.
    await postRemoteWrite(apiUrl, snappy(encodeV1([{ labels, samples: [{ value: NaN, timestamp: t }] }])), V1_CONTENT_TYPE);
    expect((await query('rw_stale_gauge'))[0]!.value[1]).toBe('NaN');
  });

  it('stores native histograms of 1.0 and 2.0, integer and float, and refuses an invalid one alone with a 400 naming why', async () => {
    const t = now();
    const histogram = async (q: string) => {
      const res = await fetch(`http://127.0.0.1:${app.ports.http}/api/v1/query?query=${encodeURIComponent(q)}`);
      return ((await res.json()) as { data: { result: { histogram: [number, { count: string; sum: string; buckets: unknown[] }] }[] } }).data.result;
    };
    for (const [encode, type] of [
      [encodeV1, V1_CONTENT_TYPE],
      [encodeV2, V2_CONTENT_TYPE],
    ] as const) {
      // An integer histogram sends each bucket as the difference from the one before: (0.5,1] 2, (1,2] 5, (2,4] 3.
      const integer: HistogramMessage = {
        timestamp: t - 1000,
        count_int: 12,
        sum: 20,
        schema: 0,
        zero_threshold: 1e-128,
        zero_count_int: 1,
        positive_spans: [{ offset: 0, length: 3 }],
        positive_deltas: [2, 3, -2],
        negative_spans: [{ offset: 0, length: 1 }],
        negative_deltas: [1],
      };
      const float: HistogramMessage = {
        ...integer,
        timestamp: t,
        count_int: undefined,
        count_float: 24,
        sum: 40,
        zero_count_int: undefined,
        zero_count_float: 2,
      };
      Object.assign(float, { positive_deltas: undefined, positive_counts: [4, 10, 6], negative_deltas: undefined, negative_counts: [2] });
      const invalid: HistogramMessage = { timestamp: t, count_int: 1, sum: 1, schema: 0, positive_spans: [{ offset: 0, length: 2 }], positive_deltas: [1] };
      const res = await postRemoteWrite(
        apiUrl,
        snappy(
          encode([
            { labels: { __name__: 'rw_latency_seconds', v: type }, samples: [], histograms: [integer, float] },
            { labels: { __name__: 'rw_bad_histogram', v: type }, samples: [], histograms: [invalid] },
            { labels: { __name__: 'rw_beside_native', v: type }, samples: [{ value: 1, timestamp: t }] },
          ]),
        ),
        type,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
      expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('2');
      expect(await res.text()).toBe(
        `1 samples rejected: 1 native histogram samples that are not valid histograms (e.g. rw_bad_histogram{v="${type}"}: positive spans need 2 buckets, 1 were sent)\n`,
      );
      expect(await query(`rw_beside_native{v="${type}"}`)).toHaveLength(1);
      expect(await histogram(`rw_bad_histogram{v="${type}"}`)).toEqual([]);
      const [stored] = await histogram(`rw_latency_seconds{v="${type}"}`);
      expect(stored!.histogram[1]).toMatchObject({ count: '24', sum: '40' });
      expect(stored!.histogram[1].buckets).toHaveLength(5);
      // Between the two samples: 12 more observations in 1 s, 5 of them in (1, 2].
      const [rate] = await query(`histogram_count(rate(rw_latency_seconds{v="${type}"}[1m]))`);
      expect(Number(rate!.value[1])).toBeGreaterThan(0);
      const [median] = await query(`histogram_quantile(0.5, rw_latency_seconds{v="${type}"})`);
      expect(Number(median!.value[1])).toBeGreaterThan(1);
      expect(Number(median!.value[1])).toBeLessThanOrEqual(2);
    }
  });

  it('ends a native histogram series at the staleness marker Prometheus sends as its sum', async () => {
    const t = now();
    const labels = { __name__: 'rw_stale_histogram' };
    const h = (timestamp: number, sum: number): HistogramMessage => ({
      timestamp,
      count_int: 1,
      sum,
      schema: 0,
      positive_spans: [{ offset: 0, length: 1 }],
      positive_deltas: [1],
    });
    await postRemoteWrite(apiUrl, snappy(encodeV2([{ labels, samples: [], histograms: [h(t - 2000, 1)] }])), V2_CONTENT_TYPE);
    expect(await query('histogram_count(rw_stale_histogram)')).toHaveLength(1);
    const res = await postRemoteWrite(apiUrl, snappy(encodeV1([{ labels, samples: [], histograms: [h(t - 1000, STALE_NAN)] }])), V1_CONTENT_TYPE);
    expect(res.status).toBe(204);
    expect(await query('histogram_count(rw_stale_histogram)')).toEqual([]);
  });

  it('refuses bad series and samples alone (unsorted labels are sorted; out-of-order samples and label limits are refused)', async () => {
    const t = now();
    await postRemoteWrite(apiUrl, snappy(encodeV1([{ labels: { __name__: 'rw_ooo' }, samples: [{ value: 1, timestamp: t }] }])), V1_CONTENT_TYPE);
    const body = encodeV1([
      { labels: { job: 'x', __name__: 'rw_unsorted', a: 'b' }, samples: [{ value: 1, timestamp: t }] },
      { labels: { __name__: 'rw_huge', big: 'x'.repeat(17 * 1024) }, samples: [{ value: 1, timestamp: t }] },
      { labels: { __name__: 'rw_ooo' }, samples: [{ value: 2, timestamp: t - 60_000 }] },
      { labels: { __name__: 'rw_good' }, samples: [{ value: 4, timestamp: t }] },
    ]);
    const res = await postRemoteWrite(apiUrl, snappy(body), V1_CONTENT_TYPE);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
    const message = await res.text();
    expect(message).toContain('2 samples rejected');
    expect(message).toContain('1 over the label limits');
    expect(message).toContain('1 older than the newest sample of their series');
    expect((await query('rw_unsorted'))[0]!.metric).toEqual({ __name__: 'rw_unsorted', a: 'b', job: 'x' });
    expect(await query('rw_good')).toHaveLength(1);
    expect(await query('rw_huge')).toEqual([]);
  });

  it('refuses 2.0 series whose label references do not resolve, alone', async () => {
    const Request = (await import('../../src/protobuf.js')).loadProto('io/prometheus/write/v2/types.proto').lookupType('io.prometheus.write.v2.Request');
    const t = now();
    const body = Request.encode(
      Request.fromObject({
        symbols: ['', '__name__', 'rw2_ref_ok'],
        timeseries: [
          { labels_refs: [1, 2], samples: [{ value: 1, timestamp: t }] },
          { labels_refs: [1, 99], samples: [{ value: 1, timestamp: t }] },
          { labels_refs: [1], samples: [{ value: 1, timestamp: t }] },
        ],
      }),
    ).finish();
    const res = await postRemoteWrite(apiUrl, snappy(body), V2_CONTENT_TYPE);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
    expect(await res.text()).toMatch(/2 of series with invalid labels \(e\.g\. labels_refs refers to symbol 99/);
  });

  it('answers 400 for the series limit, and stores what fits', async () => {
    const limited = await startTestApp({ maxSeries: 2 });
    try {
      const t = now();
      const series = [1, 2, 3].map((i) => ({ labels: { __name__: 'rw_limited', i: String(i) }, samples: [{ value: i, timestamp: t }] }));
      const res = await postRemoteWrite(`http://127.0.0.1:${limited.ports.http}/api/v1/write`, snappy(encodeV2(series)), V2_CONTENT_TYPE);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
      expect(await res.text()).toContain('1 over the series limit');
    } finally {
      await limited.close();
    }
  });

  it('chooses the message by Content-Type and answers 415 for what it does not speak', async () => {
    const v2 = snappy(encodeV2([{ labels: { __name__: 'rw_ct' }, samples: [{ value: 1, timestamp: now() }] }]));
    for (const type of ['application/json', 'application/x-protobuf;proto=io.prometheus.write.v3.Request', 'text/plain']) {
      const res = await postRemoteWrite(apiUrl, v2, type);
      expect(res.status, type).toBe(415);
      expect(await res.text()).toContain('unsupported content-type');
    }
    const gz = await postRemoteWrite(apiUrl, v2, V2_CONTENT_TYPE, { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(await gz.text()).toContain('unsupported content-encoding "gzip"');
    // A 2.0 body read as 1.0 is an empty message (its fields are reserved there): nothing written, as the spec foresees.
    const asV1 = await postRemoteWrite(apiUrl, v2, 'application/x-protobuf');
    expect(asV1.status).toBe(204);
    expect(asV1.headers.get('x-prometheus-remote-write-samples-written')).toBe('0');
    const quoted = await postRemoteWrite(apiUrl, v2, 'application/x-protobuf; proto="io.prometheus.write.v2.Request"');
    expect(quoted.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
  });

  it('answers 400 naming the fault for malformed bodies', async () => {
    const good = encodeV1([{ labels: { __name__: 'rw_malformed' }, samples: [{ value: 1, timestamp: now() }] }]);
    const cases: [string, Buffer, RegExp][] = [
      ['not snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /invalid snappy body/],
      ['snappy of garbage protobuf', snappy(Buffer.from([0x0a, 0x7f, 0x01])), /invalid protobuf prometheus\.WriteRequest: a length-delimited field runs past/],
      ['truncated snappy', snappy(good).subarray(0, 8), /invalid (snappy body|protobuf)/],
      ['uncompressed protobuf', Buffer.from(good), /invalid (snappy body|protobuf)/],
    ];
    for (const [what, body, message] of cases) {
      const res = await postRemoteWrite(apiUrl, body, V1_CONTENT_TYPE);
      expect(res.status, what).toBe(400);
      expect(await res.text(), what).toMatch(message);
    }
    const noEmpty = (await import('../../src/protobuf.js')).loadProto('io/prometheus/write/v2/types.proto').lookupType('io.prometheus.write.v2.Request');
    const res = await postRemoteWrite(
      apiUrl,
      snappy(
        noEmpty
          .encode(noEmpty.fromObject({ symbols: ['__name__', 'x'], timeseries: [{ labels_refs: [0, 1], samples: [{ value: 1, timestamp: now() }] }] }))
          .finish(),
      ),
      V2_CONTENT_TYPE,
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('the symbol table must start with the empty string');
    expect(await query('rw_malformed')).toEqual([]);
  });

  it('answers 413 for bodies over --max-request-bytes, and for snappy bombs before decompressing them', async () => {
    const big = Buffer.alloc(MAX_REQUEST + 1, 1);
    const tooLong = await postRemoteWrite(apiUrl, big, V1_CONTENT_TYPE);
    expect(tooLong.status).toBe(413);
    expect(await tooLong.text()).toContain(`over the limit of ${MAX_REQUEST} bytes`);
    // A 6-byte body whose header claims 4 GiB - 1 of output: refused on the header alone.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    const bombed = await postRemoteWrite(otlpUrl, bomb, V2_CONTENT_TYPE);
    expect(bombed.status).toBe(413);
    expect(await bombed.text()).toBe(`snappy body declares 4294967295 uncompressed bytes, over the limit of ${MAX_DECOMPRESSED} bytes\n`);
    // A real body that inflates past the limit is refused the same way.
    const inflating = snappy(
      encodeV1([{ labels: { __name__: 'rw_inflating', pad: 'a'.repeat(MAX_DECOMPRESSED) }, samples: [{ value: 1, timestamp: now() }] }]),
    );
    expect(inflating.length).toBeLessThan(MAX_REQUEST);
    expect((await postRemoteWrite(apiUrl, inflating, V1_CONTENT_TYPE)).status).toBe(413);
  });

  it('answers 405 for other methods and counts everything on /metrics', async () => {
    const get = await fetch(otlpUrl);
    expect(get.status).toBe(405);
    const metrics = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_requests_total\{protocol="v1"\} [1-9]/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_requests_total\{protocol="v2"\} [1-9]/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_requests_failed_total [1-9]/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_samples_rejected_total\{reason="invalid_histogram"\} 2/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_samples_written_total\{kind="float"\} [1-9]/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_samples_written_total\{kind="histogram"\} 6/);
    expect(metrics).toMatch(/keda_otlp_scaler_remote_write_exemplars_ignored_total 1/);
  });

  it('is absent when --remote-write is off', async () => {
    const off = await startTestApp({ remoteWrite: false });
    try {
      const body = snappy(encodeV1([{ labels: { __name__: 'rw_off' }, samples: [{ value: 1, timestamp: now() }] }]));
      expect((await postRemoteWrite(`http://127.0.0.1:${off.ports.http}/api/v1/write`, body, V1_CONTENT_TYPE)).status).toBe(404);
      expect((await postRemoteWrite(`http://127.0.0.1:${off.ports.otlpHttp}/api/v1/write`, body, V1_CONTENT_TYPE)).status).toBe(404);
      expect(off.tsdb.seriesCount).toBe(0);
    } finally {
      await off.close();
    }
  });
});
