import { describe, expect, it } from 'vitest';
import { SeriesColumns } from '../../src/tsdb/series-columns.js';
import { AppendStatus, Series } from '../../src/tsdb/series.js';

function samples(s: Series): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < s.length; i++) out.push([s.timestampAt(i), s.valueAt(i)]);
  return out;
}

describe('Series ring buffer', () => {
  it('keeps samples in time order while growing past its initial size', () => {
    const s = new Series(['__name__', 'x'], undefined, new SeriesColumns<Series>(100));
    for (let t = 1; t <= 20; t++) expect(s.append(t * 10, t, false, 0)).toBe(AppendStatus.Ok);
    expect(s.length).toBe(20);
    expect(samples(s)[19]).toEqual([200, 20]);
    expect(s.lowerBound(55)).toBe(5);
    expect(s.upperBound(50)).toBe(5);
    expect(s.upperBound(1000)).toBe(20);
  });

  it('overwrites the oldest sample once full', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(4));
    for (let t = 1; t <= 6; t++) s.append(t, t * 10, false, 0);
    expect(samples(s)).toEqual([
      [3, 30],
      [4, 40],
      [5, 50],
      [6, 60],
    ]);
  });

  it('inserts out-of-order samples inside the window, rejects older ones, overwrites duplicates', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(16));
    s.append(10, 1, false, 5);
    s.append(20, 2, false, 5);
    expect(s.append(17, 9, false, 5)).toBe(AppendStatus.Ok);
    expect(s.append(12, 9, false, 5)).toBe(AppendStatus.OutOfOrder);
    expect(s.append(20, 3, false, 5)).toBe(AppendStatus.Duplicate);
    expect(s.append(17, 4, false, 5)).toBe(AppendStatus.Duplicate);
    expect(samples(s)).toEqual([
      [10, 1],
      [17, 4],
      [20, 3],
    ]);
  });

  it('inserts in order when full, dropping the oldest', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(3));
    s.append(10, 1, false, 100);
    s.append(20, 2, false, 100);
    s.append(30, 3, false, 100);
    s.append(25, 9, false, 100);
    expect(samples(s)).toEqual([
      [20, 2],
      [25, 9],
      [30, 3],
    ]);
  });

  it('flags staleness markers apart from NaN values', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(8));
    s.append(1, NaN, false, 0);
    s.append(2, NaN, true, 0);
    s.append(3, 5, false, 0);
    expect([s.isStaleAt(0), s.isStaleAt(1), s.isStaleAt(2)]).toEqual([false, true, false]);
    expect(Number.isNaN(s.valueAt(0))).toBe(true);
  });

  it('copies the non-stale samples of a left-open window, across the wrap of the ring', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(8));
    // 12 samples into 8 slots: the ring has wrapped and holds t = 50..120.
    for (let t = 10; t <= 120; t += 10) s.append(t, t / 10, t === 90, 0);
    const ts = new Float64Array(s.length);
    const vs = new Float64Array(s.length);
    const window = (from: number, to: number) => {
      const n = s.copyWindow(from, to, ts, vs);
      return Array.from(ts.subarray(0, n), (t, i) => [t, vs[i]]);
    };
    expect(window(60, 100)).toEqual([
      [70, 7],
      [80, 8],
      [100, 10],
    ]);
    expect(window(100, 1000)).toEqual([
      [110, 11],
      [120, 12],
    ]);
    expect(window(0, 55)).toEqual([[50, 5]]);
    expect(window(120, 130)).toEqual([]);
    expect(window(0, 40)).toEqual([]);
  });

  it('trims samples before a time', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(8));
    for (let t = 1; t <= 5; t++) s.append(t, t, false, 0);
    expect(s.trimBefore(4)).toBe(2);
    expect(samples(s)).toEqual([
      [4, 4],
      [5, 5],
    ]);
  });
});

/** The samples a series must hold, kept the simplest way: the behaviour the chunks must match. */
class Model {
  ts: number[] = [];
  vs: number[] = [];
  stale: boolean[] = [];
  constructor(private readonly max: number) {}
  append(t: number, v: number, isStale: boolean, window: number): AppendStatus {
    const n = this.ts.length;
    const newest = n === 0 ? -Infinity : this.ts[n - 1]!;
    if (t > newest) {
      if (n === this.max) this.dropFirst();
      this.ts.push(t);
      this.vs.push(v);
      this.stale.push(isStale);
      return AppendStatus.Ok;
    }
    if (newest - t > window) return AppendStatus.OutOfOrder;
    let at = this.ts.findIndex((x) => x >= t);
    if (this.ts[at] === t) {
      this.vs[at] = v;
      this.stale[at] = isStale;
      return AppendStatus.Duplicate;
    }
    if (at === 0 && n === this.max) return AppendStatus.OutOfOrder;
    if (n === this.max) {
      this.dropFirst();
      at--;
    }
    this.ts.splice(at, 0, t);
    this.vs.splice(at, 0, v);
    this.stale.splice(at, 0, isStale);
    return AppendStatus.Ok;
  }
  trimBefore(minT: number): number {
    while (this.ts.length > 0 && this.ts[0]! < minT) this.dropFirst();
    return this.ts.length;
  }
  private dropFirst(): void {
    this.ts.shift();
    this.vs.shift();
    this.stale.shift();
  }
}

describe('Series in compressed chunks', () => {
  function random(seed: number): () => number {
    let x = seed;
    return () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
  }
  const values = (r: () => number, prev: number): number => {
    const k = r();
    if (k < 0.05) return NaN;
    if (k < 0.1) return -prev * 1.5;
    if (k < 0.15) return r() * 1e300;
    if (k < 0.2) return prev;
    if (k < 0.6) return prev + Math.floor(r() * 1000);
    return prev + r();
  };

  for (const [max, seed] of [
    [1, 1],
    [3, 2],
    [50, 3],
    [130, 4],
    [720, 5],
    [Infinity, 6],
  ] as const) {
    it(`holds what a plain list holds through appends, inserts, duplicates, staleness and trims (max ${max})`, () => {
      const r = random(seed);
      const s = new Series([], undefined, new SeriesColumns<Series>(max));
      const m = new Model(max);
      let t = 1_700_000_000_000;
      let v = 100;
      const ts = new Float64Array(4000);
      const vs = new Float64Array(4000);
      for (let op = 0; op < 3000; op++) {
        const k = r();
        if (k < 0.7) {
          t += r() < 0.05 ? r() * 1e6 + 0.5 : 10_000 + Math.floor((r() - 0.5) * 40);
          v = values(r, v);
          const stale = r() < 0.03;
          expect(s.append(t, v, stale, 30_000)).toBe(m.append(t, v, stale, 30_000));
        } else if (k < 0.85) {
          const back = Math.floor(r() * 40_000);
          const at = r() < 0.3 && m.ts.length > 0 ? m.ts[Math.floor(r() * m.ts.length)]! : t - back;
          const w = values(r, v);
          const stale = r() < 0.1;
          expect(s.append(at, w, stale, 30_000)).toBe(m.append(at, w, stale, 30_000));
        } else if (k < 0.87) {
          const minT = t - Math.floor(r() * 2_000_000);
          expect(s.trimBefore(minT)).toBe(m.trimBefore(minT));
        } else {
          const to = t - Math.floor(r() * 600_000);
          const from = to - Math.floor(r() * 600_000);
          const n = s.copyWindow(from, to, ts, vs);
          const want = m.ts.map((x, i) => i).filter((i) => m.ts[i]! > from && m.ts[i]! <= to && !m.stale[i]);
          expect(Array.from(ts.subarray(0, n))).toEqual(want.map((i) => m.ts[i]));
          expect(Array.from(vs.subarray(0, n))).toEqual(want.map((i) => m.vs[i]));
          expect(s.lowerBound(from)).toBe(m.ts.filter((x) => x < from).length);
          expect(s.upperBound(to)).toBe(m.ts.filter((x) => x <= to).length);
        }
        if (op % 97 === 0 || op > 2990) {
          expect(s.length).toBe(m.ts.length);
          for (let i = 0; i < m.ts.length; i++) {
            expect(s.timestampAt(i)).toBe(m.ts[i]);
            expect(s.valueAt(i)).toBe(m.vs[i]);
            expect(s.isStaleAt(i)).toBe(m.stale[i]);
          }
        }
      }
    });
  }

  it('flags no sample stale for a marker trimmed away while the series is re-encoded', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(Infinity));
    s.append(1, NaN, true, 0);
    for (let t = 2; t <= 4; t++) s.append(t, t, t === 4, 0);
    expect(s.trimBefore(3)).toBe(2);
    expect([s.isStaleAt(0), s.isStaleAt(1)]).toEqual([false, true]);
  });

  it('reads the newest sample without decoding, and frees what it trims', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(720));
    for (let i = 0; i < 500; i++) s.append(i * 10_000, i * 3, false, 0);
    expect([s.maxTime, s.valueAt(s.length - 1)]).toEqual([4_990_000, 1497]);
    const before = s.bufferBytes;
    expect(s.trimBefore(4_000_000)).toBe(100);
    expect(s.bufferBytes).toBeLessThan(before / 2);
    expect(s.timestampAt(0)).toBe(4_000_000);
  });
});

describe('Series start times', () => {
  it('holds one start time for all samples until one differs, then runs, and says which sample has which', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(4));
    for (let t = 1; t <= 3; t++) s.appendWithStart(t * 10, t, false, 0, 5);
    expect(s.bufferBytes).toBe(64);
    expect([s.startTimeAt(0), s.startTimeAt(2)]).toEqual([5, 5]);
    s.appendWithStart(40, 0, false, 0, 35);
    s.appendWithStart(25, 9, false, 100, 0);
    const out = new Float64Array(4);
    const ts = Float64Array.from([20, 25, 30, 40]);
    expect(s.startTimesFor(ts, 4, out)).toBe(false);
    expect(Array.from(out)).toEqual([5, 0, 5, 35]);
    // The samples with other start times age out: the rest read their own again.
    for (let t = 50; t <= 80; t += 10) s.appendWithStart(t, 1, false, 0, 35);
    expect(s.startTimesFor(Float64Array.from([50, 80]), 2, out)).toBe(true);
    expect(out[0]).toBe(35);
  });
});

describe('Series chunks', () => {
  it('start a new chunk where the span from its first timestamp would not be a whole u32, and read every sample back', () => {
    const s = new Series([], undefined, new SeriesColumns<Series>(Infinity));
    const ts = [1, 2.5, 3, 4, 2 ** 33, 2 ** 33 + 10, 2 ** 33 + 20, 2 ** 34 + 0.25, 2 ** 34 + 1e9, 2 ** 34 + 2e9];
    ts.forEach((t, i) => s.append(t, i, false, 0));
    expect(samples(s)).toEqual(ts.map((t, i) => [t, i]));
    expect(s.maxTime).toBe(2 ** 34 + 2e9);
    const out = [new Float64Array(16), new Float64Array(16)] as const;
    const n = s.copyWindow(3, 2 ** 34, out[0], out[1]);
    expect(Array.from(out[0].subarray(0, n))).toEqual([4, 2 ** 33, 2 ** 33 + 10, 2 ** 33 + 20]);
  });
});

describe('Series labels', () => {
  it('reads its labels from pair numbers, those past 2^15 included, without building them for a lookup', () => {
    const cols = new SeriesColumns<Series>(10);
    // Pairs enough that the series' numbers need two units each.
    for (let i = 0; i < 40_000; i++) cols.postings.intern('filler', String(i));
    const labels = ['__name__', 'up', 'instance', 'pod-7', 'job', 'api'];
    const s = new Series(labels, undefined, cols);
    expect(cols.postings.get('job', 'api')!.id).toBeGreaterThan(0x8000);
    expect([s.labelValue('instance'), s.labelValue('job'), s.labelValue('zone'), s.metricName]).toEqual(['pod-7', 'api', '', 'up']);
    expect([
      s.hasLabels(labels),
      s.hasLabels(labels.slice(0, 4)),
      s.hasLabels([...labels, 'zone', 'a']),
      s.hasLabels(['__name__', 'up', 'instance', 'pod-8', 'job', 'api']),
    ]).toEqual([true, false, false, false]);
    expect(s.postingsOf().map((p) => p.value)).toEqual(['up', 'pod-7', 'api']);
    // Built anew on the first read after a retention pass, kept from the second until the next pass.
    const [first, second, third] = [s.labels, s.labels, s.labels];
    expect(first).toEqual(labels);
    expect([first === second, second === third]).toEqual([false, true]);
    s.compact();
    expect(s.labels).not.toBe(third);
    expect(s.labels).toEqual(labels);
    expect(s.hasLabels(labels)).toBe(true);
  });
});
