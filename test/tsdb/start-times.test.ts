import { describe, expect, it } from 'vitest';
import { Tsdb } from '../../src/tsdb/db.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { SeriesColumns } from '../../src/tsdb/series-columns.js';
import { Series } from '../../src/tsdb/series.js';
import { StartTimes } from '../../src/tsdb/start-times.js';

function starts(s: Series): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.startTimeAt(i));
  return out;
}

describe('StartTimes', () => {
  it('needs one run for a counter that never resets, and one more a reset', () => {
    const st = new StartTimes();
    for (let t = 1000; t <= 100_000; t += 1000) st.set(t, 500, undefined);
    expect(st.runs).toBe(1);
    for (let t = 101_000; t <= 200_000; t += 1000) st.set(t, 100_500, undefined);
    expect(st.runs).toBe(2);
    expect(st.at(100_000)).toBe(500);
    expect(st.at(101_000)).toBe(100_500);
    expect(st.at(999)).toBe(0);
  });

  it('changes one sample inside a run without changing the samples after it', () => {
    const st = new StartTimes();
    for (const t of [10, 20, 30, 40]) st.set(t, 5, undefined);
    st.set(20, 15, 30);
    expect([10, 20, 30, 40].map((t) => st.at(t))).toEqual([5, 15, 5, 5]);
    expect(st.runs).toBe(3);
    st.set(20, 5, 30);
    expect(st.runs).toBe(1);
  });

  it('gives a sample before the first run a start time of its own, leaving later samples unknown', () => {
    const st = new StartTimes();
    st.set(30, 25, undefined);
    st.set(10, 5, 20);
    expect([10, 20, 30].map((t) => st.at(t))).toEqual([5, 0, 25]);
  });

  it('fills the start times of ascending sample times, across runs', () => {
    const st = new StartTimes();
    st.set(20, 15, undefined);
    st.set(40, 35, undefined);
    st.set(60, 0, undefined);
    const out = new Float64Array(6);
    expect(st.fill(Float64Array.from([10, 20, 30, 40, 50, 60]), 6, out)).toBe(false);
    expect([...out]).toEqual([0, 15, 15, 35, 35, 0]);
    expect(st.fill(Float64Array.from([45, 70]), 2, out)).toBe(false);
    expect([...out.subarray(0, 2)]).toEqual([35, 0]);
    expect(st.fill(Float64Array.from([40, 45, 59]), 3, out)).toBe(true);
  });

  it('forgets runs of trimmed samples and says when nothing is left', () => {
    const st = new StartTimes();
    st.set(10, 5, undefined);
    st.set(20, 15, undefined);
    st.set(30, 0, undefined);
    expect(st.trimBefore(20)).toBe(true);
    expect(st.runs).toBe(2);
    expect(st.at(20)).toBe(15);
    expect(st.trimBefore(30)).toBe(false);
  });
});

describe('Series start times', () => {
  it('costs nothing for a series that never gets one', () => {
    const plain = new Series([], undefined, new SeriesColumns<Series>(100));
    const started = new Series([], undefined, new SeriesColumns<Series>(100));
    for (let t = 1; t <= 50; t++) {
      plain.appendWithStart(t, t, false, 0, 0);
      started.appendWithStart(t, t, false, 0, 0);
    }
    expect(plain.hasStartTimes).toBe(false);
    expect(starts(plain).every((x) => x === 0)).toBe(true);
    started.appendWithStart(51, 51, false, 0, 1);
    expect(started.hasStartTimes).toBe(true);
    expect(started.bufferBytes).toBeGreaterThan(plain.bufferBytes);
  });

  it('keeps start times with their samples through out-of-order inserts and overwrites', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(100));
    s.appendWithStart(10, 1, false, 100, 5);
    s.appendWithStart(30, 3, false, 100, 5);
    s.appendWithStart(20, 2, false, 100, 18);
    expect(starts(s)).toEqual([5, 18, 5]);
    s.appendWithStart(30, 4, false, 100, 25);
    expect(starts(s)).toEqual([5, 18, 25]);
    s.appendWithStart(40, 5, false, 100, 0);
    expect(starts(s)).toEqual([5, 18, 25, 0]);
  });

  it('drops start times of samples the full ring buffer overwrote', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(3));
    s.appendWithStart(10, 1, false, 0, 5);
    s.appendWithStart(20, 2, false, 0, 15);
    for (const t of [30, 40, 50]) s.appendWithStart(t, t, false, 0, 0);
    expect(starts(s)).toEqual([0, 0, 0]);
    expect(s.hasStartTimes).toBe(false);
  });
});

describe('Tsdb start times', () => {
  it('stores the start time given with append and appendLabels', () => {
    const db = new Tsdb();
    const labels = labelsFromRecord({ __name__: 'c_total' });
    db.appendLabels(labels, 1000, 1, false, 500);
    const series = db.getOrCreate(labels)!;
    db.append(series, 2000, 2, false, 500);
    db.append(series, 3000, 1, false, 2500);
    expect(starts(series)).toEqual([500, 500, 2500]);
  });

  it('trims start times with retention, forgetting them once the samples that had one are gone', () => {
    let now = 10_000;
    const db = new Tsdb({ retentionMs: 5000, now: () => now });
    const labels = labelsFromRecord({ __name__: 'c_total' });
    db.appendLabels(labels, 6000, 1, false, 5500);
    db.appendLabels(labels, 8000, 1, false, 7500);
    db.appendLabels(labels, 9000, 2, false, 0);
    const series = db.getOrCreate(labels)!;
    now = 13_000;
    db.gc();
    expect(starts(series)).toEqual([7500, 0]);
    now = 14_000;
    db.gc();
    expect(series.length).toBe(1);
    expect(series.hasStartTimes).toBe(false);
  });
});
