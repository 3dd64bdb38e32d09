import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { apiGet, attrs, nanos, post, queryRange, request, tempDir } from './support.js';

const STEP_MS = 10_000;
const POINTS = 10;

/** Every kind of state the answers depend on, pushed as OTLP at explicit times in the recent past. */
function pushes(base: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < POINTS; k++) {
    const t = base + k * STEP_MS;
    const afterReset = k >= 5;
    out.push(
      request([
        {
          name: 'jobs.done',
          description: 'Jobs finished',
          sum: {
            aggregation_temporality: 2,
            is_monotonic: true,
            // A restart of the producer at k = 5: a new start time and a smaller total.
            data_points: [
              {
                attributes: attrs({ queue: 'a' }),
                start_time_unix_nano: nanos(afterReset ? base + 45_000 : base - 5_000),
                time_unix_nano: nanos(t),
                as_double: afterReset ? k - 4 : 100 + 7 * k,
              },
            ],
          },
        },
        {
          name: 'queue.depth',
          unit: '{items}',
          description: 'Items waiting',
          // The last point says the series ended: a staleness marker.
          gauge: { data_points: [{ time_unix_nano: nanos(t), as_double: 1.5 * k, flags: k === POINTS - 1 ? 1 : 0 }] },
        },
        {
          name: 'latency',
          unit: 's',
          description: 'Request latency',
          histogram: {
            aggregation_temporality: 2,
            data_points: [
              {
                start_time_unix_nano: nanos(base - 5_000),
                time_unix_nano: nanos(t),
                count: 3 * k + 3,
                sum: 0.25 * k,
                bucket_counts: [k, 2 * k + 1, 2],
                explicit_bounds: [0.1, 1],
              },
            ],
          },
        },
        {
          name: 'requests',
          description: 'Requests, sent as deltas',
          sum: {
            aggregation_temporality: 1,
            is_monotonic: true,
            data_points: [{ start_time_unix_nano: nanos(t - STEP_MS), time_unix_nano: nanos(t), as_int: 2 }],
          },
        },
        {
          name: 'wait',
          unit: 's',
          description: 'Time waited, as delta exponential histograms: native histograms',
          exponential_histogram: { aggregation_temporality: 1, data_points: [waitPoint(t)] },
        },
      ]),
    );
  }
  return out;
}

/** Two waits in an interval, one of 1 s and one of 2 s. */
function waitPoint(t: number): object {
  return { start_time_unix_nano: nanos(t - STEP_MS), time_unix_nano: nanos(t), count: 2, sum: 3, scale: 0, positive: { offset: -1, bucket_counts: [1, 1] } };
}

const QUERIES = [
  'jobs_done_total',
  'jobs_done',
  'rate(jobs_done_total[1m])',
  'resets(jobs_done_total[2m])',
  'start_timestamp(jobs_done_total)',
  'queue_depth',
  'histogram_quantile(0.5, rate(latency_seconds_bucket[1m]))',
  'latency_seconds_count',
  'requests_total',
  'increase(requests_total[1m])',
  'wait_seconds',
  'histogram_quantile(0.5, rate(wait_seconds[1m]))',
];

describe('a snapshot round trip through a restart', () => {
  const dir = tempDir('persist-round-trip');
  const apps: App[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a new app identical query results, metadata and series, and a delta total that continues', async () => {
    const settings = { dataDir: dir, snapshotIntervalMs: 3_600_000 };
    const base = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const first = await startTestApp(settings, { fresh: true });
    apps.push(first);
    for (const body of pushes(base)) await post(first.ports.otlpHttp, body);

    const end = base + POINTS * STEP_MS;
    const answers = async (app: App) => ({
      ranges: await Promise.all(QUERIES.map((q) => queryRange(app.ports.http, q, base, end, 5))),
      metadata: await apiGet(app.ports.http, '/api/v1/metadata'),
      series: await apiGet(app.ports.http, '/api/v1/series?match[]={job="persist"}'),
    });
    const before = await answers(first);
    for (const r of before.ranges) expect(r.status).toBe('success');
    expect(before.ranges.every((r: any) => r.data.result.length > 0)).toBe(true);
    const liveSince = first.tsdb.coverage.liveSinceMs;
    await first.close();

    const second = await startTestApp(settings, { fresh: true });
    apps.push(second);
    expect(await answers(second)).toEqual(before);
    // The first app's time is known covered; the gap while neither ran is not.
    const restored = second.tsdb.coverage.restored;
    expect(restored).toHaveLength(1);
    expect(restored[0]!.fromMs).toBe(liveSince);
    expect(restored[0]!.toMs).toBeGreaterThan(liveSince);
    expect(second.tsdb.coverage.covers(restored[0]!.toMs + 1)).toBe(restored[0]!.toMs + 1 >= second.tsdb.coverage.liveSinceMs);

    // The next delta adds to the restored running total (10 × 2), not to zero; so does the histograms'.
    await post(
      second.ports.otlpHttp,
      request([
        { name: 'wait', unit: 's', exponential_histogram: { aggregation_temporality: 1, data_points: [waitPoint(end)] } },
        {
          name: 'requests',
          sum: {
            aggregation_temporality: 1,
            is_monotonic: true,
            data_points: [{ start_time_unix_nano: nanos(end - STEP_MS), time_unix_nano: nanos(end), as_int: 2 }],
          },
        },
      ]),
    );
    const total = await apiGet(second.ports.http, `/api/v1/query?query=requests_total&time=${end / 1000}`);
    expect(total.data.result.map((r: any) => r.value[1])).toEqual(['22']);
    const increase = await apiGet(second.ports.http, `/api/v1/query?query=resets(requests_total[5m])&time=${end / 1000}`);
    expect(increase.data.result.map((r: any) => r.value[1])).toEqual(['0']);
    const waits = await apiGet(second.ports.http, `/api/v1/query?query=histogram_count(wait_seconds)&time=${end / 1000}`);
    expect(waits.data.result.map((r: any) => r.value[1])).toEqual(['22']);
  });

  it('starts empty rather than restore a snapshot taken with exponential histograms converted the other way', async () => {
    const other = tempDir('persist-round-trip-histograms');
    const base = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const native = await startTestApp({ dataDir: other, snapshotIntervalMs: 3_600_000 }, { fresh: true });
    apps.push(native);
    for (const body of pushes(base)) await post(native.ports.otlpHttp, body);
    await native.close();

    const classic = await startTestApp({ dataDir: other, snapshotIntervalMs: 3_600_000, exponentialHistograms: 'classic' }, { fresh: true });
    apps.push(classic);
    expect(classic.tsdb.seriesCount).toBe(0);
    expect(classic.tsdb.coverage.restored).toEqual([]);
    rmSync(other, { recursive: true, force: true });
  });
});
