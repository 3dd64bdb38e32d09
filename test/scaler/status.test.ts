import { describe, expect, it } from 'vitest';
import { SelfMetrics } from '../../src/api/self-metrics.js';
import { Engine } from '../../src/promql/eval/engine.js';
import { Scaler } from '../../src/scaler/scaler.js';
import { ScaledObjectStatus, STATUS_TTL_MS } from '../../src/scaler/status.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { holdEverything } from '../support/app.js';

const NOW = 1_800_000_000_000;

describe('ScaledObject statuses', () => {
  it('are forgotten, on the status list and in /metrics, once KEDA has not asked for STATUS_TTL_MS', async () => {
    let now = NOW;
    const tsdb = new Tsdb();
    holdEverything(tsdb);
    const scaler = new Scaler(new Engine(tsdb), tsdb, { now: () => now });
    const ask = (name: string, metricQuery: string) => {
      tsdb.appendLabels(labelsFromRecord({ __name__: 'queue' }), now, 5);
      return scaler.read(scaler.compile({ name, namespace: 'shop', scalerMetadata: { metricQuery, targetValue: '1' } }));
    };
    const metrics = new SelfMetrics();
    metrics.watch({ tsdb, scaler });
    const scraped = async () => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('keda_otlp_scaler_scaledobject_value{'));

    await ask('deleted', 'sum(queue)');
    // An edit gives the trigger a new query and so a new default metric name: a new status.
    await ask('edited', 'sum(queue)');
    now += STATUS_TTL_MS / 2;
    await ask('edited', 'max(queue)');
    await ask('kept', 'sum(queue)');
    expect(scaler.status.list().map((s) => s.name)).toEqual(['deleted', 'edited', 'edited', 'kept']);
    expect(await scraped()).toHaveLength(4);

    now += STATUS_TTL_MS / 2;
    await ask('kept', 'sum(queue)');
    expect(scaler.status.list().map((s) => [s.name, s.query])).toEqual([
      ['edited', 'max(queue)'],
      ['kept', 'sum(queue)'],
    ]);
    expect(await scraped()).toEqual([
      expect.stringMatching(/^keda_otlp_scaler_scaledobject_value\{namespace="shop",name="edited",metric="otlp-edited-[0-9a-f]{8}"\} 5$/),
      expect.stringMatching(/name="kept"/),
    ]);

    now += STATUS_TTL_MS;
    expect(scaler.status.list()).toEqual([]);
    expect(await scraped()).toEqual([]);
  });

  it('are bounded in number, dropping the least recently asked about', () => {
    let now = NOW;
    const tsdb = new Tsdb();
    holdEverything(tsdb);
    const scaler = new Scaler(new Engine(tsdb), tsdb, { now: () => now });
    const status = new ScaledObjectStatus(() => now, { ttlMs: STATUS_TTL_MS, maxEntries: 3 });
    const trigger = (name: string) => scaler.compile({ name, namespace: 'ns', scalerMetadata: { metricQuery: 'sum(queue)', targetValue: '1' } });
    for (const name of ['a', 'b', 'c']) status.recordValue(trigger(name), 1, true, now++);
    // Asking about `a` again makes `b` the least recently asked about.
    status.recordError(trigger('a'), 'boom', now++);
    status.recordValue(trigger('d'), 1, true, now++);
    expect(status.list().map((s) => [s.name, s.lastError ?? null])).toEqual([
      ['a', 'boom'],
      ['c', null],
      ['d', null],
    ]);
  });

  it('start afresh when an edit keeps the metric name but changes the target', () => {
    const tsdb = new Tsdb();
    holdEverything(tsdb);
    const scaler = new Scaler(new Engine(tsdb), tsdb, { now: () => NOW });
    const trigger = (targetValue: string) =>
      scaler.compile({ name: 'so', namespace: 'ns', scalerMetadata: { metricQuery: 'sum(queue)', targetValue, metricName: 'queue' } });
    scaler.status.recordError(trigger('10'), 'boom', NOW);
    scaler.status.recordValue(trigger('20'), 1, true, NOW);
    expect(scaler.status.list().map((s) => [s.targetValue, s.lastError ?? null])).toEqual([[20, null]]);
  });
});
