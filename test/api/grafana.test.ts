import { describe, expect, it } from 'vitest';
import { apiGet, apiPost, useSeededApp } from './http.js';

/** Go's strconv.FormatFloat(seconds, 'f', -1, 64), as Grafana's Prometheus client formats times. */
function goSeconds(ms: number): string {
  return String(ms / 1000);
}

/**
 * The requests Grafana's Prometheus data source sends (its Go client and its query editor), in
 * the forms it sends them, and the parts of the answers it reads.
 */
describe("Grafana's Prometheus data source", () => {
  const { app, end } = useSeededApp();

  it('passes "Save & test": instant 1+1 at t=4 by POST, then build info that reads as Prometheus', async () => {
    const health = await apiPost(app, '/api/v1/query', { query: '1+1', time: '4', timeout: '60s' });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });

    const info = await apiGet(app, '/api/v1/status/buildinfo');
    expect(info.status).toBe(200);
    expect(info.body.status).toBe('success');
    expect(info.body.data.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const field of ['revision', 'branch', 'buildUser', 'buildDate', 'goVersion']) expect(typeof info.body.data[field]).toBe('string');
    // With features present Grafana would take the server for Mimir and look for a ruler API.
    expect(info.body.data).not.toHaveProperty('features');
  });

  it('draws a panel from a POST query_range with fractional start/end, step in seconds and a timeout', async () => {
    const res = await apiPost(app, '/api/v1/query_range', {
      query: 'sum by (job) (queue_size)',
      start: goSeconds(end - 120_000 + 500),
      end: goSeconds(end + 500),
      step: '15',
      timeout: '60s',
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('success');
    expect(res.body.data.resultType).toBe('matrix');
    const byJob = Object.fromEntries(res.body.data.result.map((s: { metric: { job: string }; values: [number, string][] }) => [s.metric.job, s.values]));
    expect(Object.keys(byJob).sort()).toEqual(['a', 'b']);
    for (const values of Object.values(byJob) as [number, string][][]) {
      expect(values).toHaveLength(9);
      for (const [t, v] of values) {
        expect(typeof t).toBe('number');
        expect(typeof v).toBe('string');
        expect(Number.isFinite(Number(v))).toBe(true);
      }
      expect(values[0]![0]).toBe((end - 120_000 + 500) / 1000);
    }
    expect(byJob.a!.at(-1)).toEqual([(end + 500) / 1000, '28.5']);
  });

  it('runs an instant panel query by POST at a fractional time', async () => {
    const res = await apiPost(app, '/api/v1/query', { query: 'queue_size{job="b"}', time: goSeconds(end + 250) });
    expect(res.body.data).toEqual({
      resultType: 'vector',
      result: [{ metric: { __name__: 'queue_size', instance: 'y', job: 'b' }, value: [(end + 250) / 1000, '81'] }],
    });
  });

  it('fills the metric picker: label values of __name__ by GET with start, end and limit', async () => {
    const res = await apiGet(app, '/api/v1/label/__name__/values', { start: goSeconds(end - 3_600_000), end: goSeconds(end), limit: '40000' });
    expect(res.body).toEqual({ status: 'success', data: ['queue_size', 'requests_total'] });
  });

  it('fills the label pickers: labels and series by POST with match[], start, end and limit', async () => {
    const range = { start: String((end - 3_600_000) / 1000), end: String(end / 1000), limit: '40000' };
    const labels = await apiPost(app, '/api/v1/labels', { ...range, 'match[]': 'queue_size' });
    expect(labels.body).toEqual({ status: 'success', data: ['__name__', 'instance', 'job'] });
    const series = await apiPost(app, '/api/v1/series', { ...range, 'match[]': '{__name__!=""}' });
    expect(series.body.status).toBe('success');
    expect(series.body.data).toHaveLength(3);
    expect(series.body.data).toContainEqual({ __name__: 'requests_total', code: '200', job: 'a' });
    const values = await apiGet(app, '/api/v1/label/instance/values', { ...range, 'match[]': 'queue_size{job="a"}' });
    expect(values.body.data).toEqual(['x']);
  });

  it('reads metric metadata for the query editor hints', async () => {
    const res = await apiGet(app, '/api/v1/metadata');
    expect(res.body.data.queue_size).toEqual([{ type: 'gauge', help: 'Batches waiting to be sent.', unit: '' }]);
  });

  it('gets empty successes for exemplars, rules and alerts', async () => {
    const exemplars = await apiPost(app, '/api/v1/query_exemplars', { query: 'queue_size', start: String((end - 60_000) / 1000), end: String(end / 1000) });
    expect(exemplars.body).toEqual({ status: 'success', data: [] });
    expect((await apiPost(app, '/api/v1/query_exemplars', { query: 'sum(' })).body.errorType).toBe('bad_data');
    expect((await apiGet(app, '/api/v1/rules')).body).toEqual({ status: 'success', data: { groups: [] } });
    expect((await apiGet(app, '/api/v1/alerts')).body).toEqual({ status: 'success', data: { alerts: [] } });
  });

  it('reads runtime info with Prometheus field names and the retention', async () => {
    const res = await apiGet(app, '/api/v1/status/runtimeinfo');
    expect(res.body.status).toBe('success');
    expect(res.body.data).toMatchObject({ storageRetention: '10m', reloadConfigSuccess: true });
    expect(Date.parse(res.body.data.startTime)).not.toBeNaN();
  });

  it('gets not_found with status 404 for an API path this server does not have', async () => {
    const res = await apiGet(app, '/api/v1/targets');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ status: 'error', errorType: 'not_found', error: 'no API endpoint GET /api/v1/targets' });
  });
});
