import { describe, expect, it } from 'vitest';
import { AppendStatus, Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord, labelsGet } from '../../src/tsdb/labels.js';
import { Matcher } from '../../src/tsdb/matcher.js';

const m = (type: '=' | '!=' | '=~' | '!~', name: string, value: string) => new Matcher(type, name, value);

function seed(db: Tsdb): void {
  db.appendLabels(labelsFromRecord({ __name__: 'up', job: 'a', instance: '1' }), 1000, 1);
  db.appendLabels(labelsFromRecord({ __name__: 'up', job: 'b', instance: '2' }), 1000, 0);
  db.appendLabels(labelsFromRecord({ __name__: 'other', job: 'a' }), 1000, 5);
}

describe('Tsdb selection', () => {
  it('selects with all four matcher types, a missing label matching as empty', () => {
    const db = new Tsdb();
    seed(db);
    const names = (ms: Matcher[]) =>
      db
        .select(ms)
        .map((s) => `${labelsGet(s.labels, '__name__')}/${labelsGet(s.labels, 'job')}`)
        .sort();
    expect(names([m('=', '__name__', 'up')])).toEqual(['up/a', 'up/b']);
    expect(names([m('=', '__name__', 'up'), m('!=', 'job', 'a')])).toEqual(['up/b']);
    expect(names([m('=~', 'job', 'a|b'), m('!~', '__name__', 'up')])).toEqual(['other/a']);
    expect(names([m('=~', '__name__', '.+'), m('=', 'instance', '')])).toEqual(['other/a']);
    expect(names([m('=', '__name__', 'nope')])).toEqual([]);
    // The smaller posting is walked; the other equality matcher still filters it.
    expect(names([m('=', '__name__', 'up'), m('=', 'job', 'b')])).toEqual(['up/b']);
    expect(names([m('=', 'job', 'a'), m('=', '__name__', 'other')])).toEqual(['other/a']);
  });

  it('anchors regexes fully', () => {
    const db = new Tsdb();
    seed(db);
    expect(db.select([m('=~', '__name__', 'u')])).toHaveLength(0);
    expect(db.select([m('=~', '__name__', 'u.')])).toHaveLength(2);
  });

  it('finds a series by its alias name, but prints and excludes by its real name', () => {
    const db = new Tsdb();
    const s = db.getOrCreate(labelsFromRecord({ __name__: 'spans_total', job: 'a' }), 'spans')!;
    db.append(s, 1000, 7);
    expect(db.select([m('=', '__name__', 'spans')])).toEqual([s]);
    expect(db.select([m('=', '__name__', 'spans_total')])).toEqual([s]);
    expect(db.select([m('=~', '__name__', 'spans|spans_total')])).toEqual([s]);
    expect(db.select([m('!=', '__name__', 'spans'), m('=', 'job', 'a')])).toEqual([s]);
    expect(db.labelValues('__name__')).toEqual(['spans_total']);
  });

  it('lists label names and values, optionally under matchers', () => {
    const db = new Tsdb();
    seed(db);
    expect(db.labelNames()).toEqual(['__name__', 'instance', 'job']);
    expect(db.labelValues('job')).toEqual(['a', 'b']);
    expect(db.labelValues('job', [m('=', '__name__', 'other')])).toEqual(['a']);
    expect(db.labelNames([m('=', '__name__', 'other')])).toEqual(['__name__', 'job']);
  });
});

describe('Tsdb limits, retention and notifications', () => {
  it('rejects new series past maxSeries and counts them, keeping the old ones', () => {
    const db = new Tsdb({ maxSeries: 2 });
    seed(db);
    expect(db.seriesCount).toBe(2);
    expect(db.stats.seriesRejected).toBe(1);
    expect(db.select([m('=', '__name__', 'up')])).toHaveLength(2);
  });

  it('frees series with no sample inside retention and forgets their postings', () => {
    let now = 10_000;
    const db = new Tsdb({ retentionMs: 5_000, now: () => now });
    db.appendLabels(labelsFromRecord({ __name__: 'old', pod: 'p1' }), 6_000, 1);
    db.appendLabels(labelsFromRecord({ __name__: 'new', pod: 'p2' }), 9_000, 1);
    expect(db.appendLabels(labelsFromRecord({ __name__: 'new', pod: 'p2' }), 1_000, 1)).toBe(AppendStatus.TooOld);
    now = 12_000;
    expect(db.gc()).toBe(1);
    expect(db.seriesCount).toBe(1);
    expect(db.labelValues('pod')).toEqual(['p2']);
    expect(db.select([m('=', '__name__', 'old')])).toHaveLength(0);
  });

  it('keeps a shared posting for the series that stay when others in it are freed, and a new series under a freed value joins it', () => {
    let now = 100_000;
    const db = new Tsdb({ retentionMs: 50_000, now: () => now });
    for (let i = 0; i < 50; i++) {
      const labels = labelsFromRecord({ __name__: 'x', job: 'j', pod: `p${i}`, alias: i % 2 === 0 ? 'even' : 'odd' });
      db.appendLabels(labels, i % 2 === 0 ? 60_000 : 90_000, i);
    }
    now = 120_000;
    expect(db.gc()).toBe(25);
    expect(db.select([m('=', 'job', 'j')]).map((s) => labelsGet(s.labels, 'pod'))).toEqual(Array.from({ length: 25 }, (_, i) => `p${2 * i + 1}`));
    expect(db.labelValues('alias')).toEqual(['odd']);
    const series = db.getOrCreate(labelsFromRecord({ __name__: 'x', job: 'j', pod: 'p0', alias: 'even' }))!;
    for (let t = 0; t < 100; t++) db.append(series, 100_000 + t * 10, t);
    expect(series.copyWindow(100_500, 100_520, new Float64Array(100), new Float64Array(100))).toBe(2);
    expect(db.select([m('=', 'alias', 'even')])).toEqual([series]);
  });

  it('tells listeners which metric names got samples, once a flush', () => {
    const db = new Tsdb();
    const seen: string[][] = [];
    db.onIngest((names) => seen.push([...names].sort()));
    const s = db.getOrCreate(labelsFromRecord({ __name__: 'x_total' }), 'x')!;
    db.append(s, 1, 1);
    db.append(s, 2, 2);
    db.flushIngest();
    db.flushIngest();
    expect(seen).toEqual([['x', 'x_total']]);
  });
});

describe('Tsdb metadata', () => {
  it('lists metadata of metrics with series, histogram families by their _bucket/_count/_sum series', () => {
    const db = new Tsdb();
    db.setMetadata('latency_seconds', { type: 'histogram', unit: 's', help: 'Latency' });
    db.setMetadata('gone', { type: 'gauge', unit: '', help: '' });
    db.appendLabels(labelsFromRecord({ __name__: 'latency_seconds_count' }), 1, 1);
    expect([...db.metadata().keys()]).toEqual(['latency_seconds']);
    expect(db.metadata('latency_seconds').get('latency_seconds')?.type).toBe('histogram');
  });
});

describe('Tsdb label pairs', () => {
  it('keeps a freed series its labels when another series takes its pair numbers, and frees pairs no series carries', () => {
    let now = 100_000;
    const db = new Tsdb({ retentionMs: 10_000, now: () => now });
    const old = db.getOrCreate(labelsFromRecord({ __name__: 'up', pod: 'a' }))!;
    db.append(old, now, 1);
    now += 60_000;
    expect(db.gc()).toBe(1);
    expect(db.labelValues('pod')).toEqual([]);
    const fresh = db.getOrCreate(labelsFromRecord({ __name__: 'down', pod: 'b' }))!;
    db.append(fresh, now, 2);
    expect([old.live, old.labels, old.metricName]).toEqual([false, ['__name__', 'up', 'pod', 'a'], 'up']);
    expect([fresh.labels, db.labelValues('pod'), db.labelValues('__name__')]).toEqual([['__name__', 'down', 'pod', 'b'], ['b'], ['down']]);
    expect(db.append(old, now + 1, 3)).toBe(AppendStatus.TooOld);
    expect(fresh.length).toBe(1);
  });
});
