import { beforeAll, describe, expect, it } from 'vitest';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { apiGet, apiPost, POINTS, STEP_MS, useSeededApp } from './http.js';

describe('/api/v1/series, /labels, /label/<name>/values, /metadata', () => {
  const { app, end } = useSeededApp();
  const first = end - (POINTS - 1) * STEP_MS;

  beforeAll(() => {
    // A series whose only sample is old: outside a recent start/end window.
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'old_gauge', job: 'c' }), first, 1);
  });

  it('lists the series matching any match[], sorted, GET or POST', async () => {
    const params = { 'match[]': ['queue_size{job="b"}', 'requests_total'] };
    const res = await apiGet(app, '/api/v1/series', params);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: [
        { __name__: 'queue_size', instance: 'y', job: 'b' },
        { __name__: 'requests_total', code: '200', job: 'a' },
      ],
    });
    expect((await apiPost(app, '/api/v1/series', params)).body).toEqual(res.body);
  });

  it('limits series to those with samples between start and end', async () => {
    const all = await apiGet(app, '/api/v1/series', { 'match[]': '{job=~".+"}' });
    expect(all.body.data.map((s: Record<string, string>) => s.__name__)).toContain('old_gauge');
    const recent = await apiGet(app, '/api/v1/series', { 'match[]': '{job=~".+"}', start: String((end - 60_000) / 1000), end: String(end / 1000) });
    expect(recent.body.data.map((s: Record<string, string>) => s.__name__)).not.toContain('old_gauge');
    expect(recent.body.data).toHaveLength(3);
  });

  it('truncates to limit with a warning', async () => {
    const res = await apiGet(app, '/api/v1/series', { 'match[]': 'queue_size', limit: '1' });
    expect(res.body.data).toHaveLength(1);
    expect(res.body.warnings).toEqual(['results truncated due to limit']);
  });

  it('requires match[] and rejects selectors that match everything or do not parse', async () => {
    expect((await apiGet(app, '/api/v1/series')).body).toEqual({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
    const empty = await apiGet(app, '/api/v1/series', { 'match[]': '{job=~".*"}' });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('invalid parameter "match[]": match[] must contain at least one non-empty matcher');
    const bad = await apiGet(app, '/api/v1/series', { 'match[]': 'queue_size{' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid parameter "match\[\]": 1:\d+: parse error: /);
    const time = await apiGet(app, '/api/v1/series', { 'match[]': 'up', start: 'then' });
    expect(time.body.error).toBe(`invalid parameter "start": invalid time value for 'start': cannot parse "then" to a valid timestamp`);
  });

  it('lists label names, optionally for match[] and a time range', async () => {
    expect((await apiGet(app, '/api/v1/labels')).body).toEqual({ status: 'success', data: ['__name__', 'code', 'instance', 'job'] });
    expect((await apiPost(app, '/api/v1/labels', { 'match[]': 'requests_total' })).body.data).toEqual(['__name__', 'code', 'job']);
    expect((await apiGet(app, '/api/v1/labels', { 'match[]': 'old_gauge', start: String((end - 60_000) / 1000) })).body.data).toEqual([]);
    const limited = await apiGet(app, '/api/v1/labels', { limit: '2' });
    expect(limited.body).toEqual({ status: 'success', data: ['__name__', 'code'], warnings: ['results truncated due to limit'] });
  });

  it('lists label values, optionally for match[] and a time range', async () => {
    expect((await apiGet(app, '/api/v1/label/__name__/values')).body).toEqual({
      status: 'success',
      data: ['old_gauge', 'queue_size', 'requests_total'],
    });
    expect((await apiGet(app, '/api/v1/label/job/values', { 'match[]': 'queue_size' })).body.data).toEqual(['a', 'b']);
    expect((await apiGet(app, '/api/v1/label/job/values', { 'match[]': ['queue_size{job="b"}', 'requests_total'] })).body.data).toEqual(['a', 'b']);
    expect((await apiGet(app, '/api/v1/label/job/values', { start: String((end - 60_000) / 1000), end: String(end / 1000) })).body.data).toEqual(['a', 'b']);
    expect((await apiGet(app, '/api/v1/label/nope/values')).body).toEqual({ status: 'success', data: [] });
    const bad = await apiGet(app, '/api/v1/label/job/values', { 'match[]': '{' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorType).toBe('bad_data');
  });

  it('takes U__-escaped label names in the path, as Grafana sends names that are not identifiers', async () => {
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'dotted', 'k8s.pod_name': 'p1' }), end, 1);
    const res = await apiGet(app, `/api/v1/label/${encodeURIComponent('U__k8s_2e_pod__name')}/values`);
    expect(res.body.data).toEqual(['p1']);
  });

  it('gives type, help and unit per metric from the OTLP descriptions', async () => {
    const all = await apiGet(app, '/api/v1/metadata');
    expect(all.body).toEqual({
      status: 'success',
      data: {
        queue_size: [{ type: 'gauge', help: 'Batches waiting to be sent.', unit: '' }],
        requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
      },
    });
    expect((await apiGet(app, '/api/v1/metadata', { metric: 'requests_total' })).body.data).toEqual({
      requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
    });
    expect(Object.keys((await apiGet(app, '/api/v1/metadata', { limit: '1' })).body.data)).toHaveLength(1);
    expect((await apiGet(app, '/api/v1/metadata', { metric: 'nothing' })).body.data).toEqual({});
    expect((await apiGet(app, '/api/v1/metadata', { limit: 'many' })).body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'limit must be a number',
    });
  });
});
