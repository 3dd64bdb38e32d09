import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, type SnapshotTarget } from '../../src/persist/snapshot-format.js';
import { Snapshots } from '../../src/persist/snapshots.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { FloatHistogram } from '../../src/tsdb/float-histogram.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { capturedLog, tempDirs } from './support.js';

const SETTINGS = { nameTranslation: 'UnderscoreEscapingWithSuffixes', promoteResourceAttributes: '*' };
const NOW = 1_800_000_000_000;
const RETENTION_MS = 600_000;

const dataDir = tempDirs('persist-snapshots');

function setup(dir: string, opts: { settings?: Record<string, string>; now?: () => number } = {}) {
  const now = opts.now ?? (() => NOW);
  const tsdb = new Tsdb({ retentionMs: RETENTION_MS, now });
  const { log, lines } = capturedLog();
  const target: SnapshotTarget = { tsdb, settings: opts.settings ?? SETTINGS };
  const snapshots = new Snapshots(target, { dir, intervalMs: 3_600_000, retentionMs: RETENTION_MS, now }, log);
  return { tsdb, snapshots, lines };
}

/** A store of `series` gauges with `samples` samples each, one every 10 s up to NOW. */
function fill(tsdb: Tsdb, series: number, samples: number): void {
  for (let s = 0; s < series; s++) {
    const labels = labelsFromRecord({ __name__: 'queue_size', pod: `pod-${s}`, padding: 'x'.repeat(40) });
    for (let i = samples - 1; i >= 0; i--) tsdb.appendLabels(labels, NOW - i * 10_000, s * 1000 + i);
  }
}

function dump(tsdb: Tsdb): string[] {
  const out: string[] = [];
  for (const s of tsdb.allSeries()) {
    const samples: string[] = [];
    for (let i = 0; i < s.length; i++) samples.push(`${s.timestampAt(i)}=${s.valueAt(i)}${s.isStaleAt(i) ? 'S' : ''}`);
    out.push(`${s.labels.join(',')} ${samples.join(' ')}`);
  }
  return out.sort();
}

/** What a fresh store holds after loading the snapshot in `dir`. */
async function loadedDump(dir: string): Promise<string[]> {
  const { tsdb, snapshots } = setup(dir);
  await snapshots.load();
  return dump(tsdb);
}

async function writtenDir(series = 5, samples = 6): Promise<{ dir: string; expected: string[] }> {
  const dir = dataDir();
  const { tsdb, snapshots } = setup(dir);
  fill(tsdb, series, samples);
  await snapshots.write();
  expect(snapshots.stats.writes).toBe(1);
  return { dir, expected: dump(tsdb) };
}

/** Loads the data dir into a fresh store and checks it was refused for `reason`, moved aside, and the store left empty. */
async function expectRefused(dir: string, reason: string, settings?: Record<string, string>): Promise<void> {
  const { tsdb, snapshots, lines } = setup(dir, { settings });
  await snapshots.load();
  expect(tsdb.seriesCount).toBe(0);
  expect(tsdb.metadata().size).toBe(0);
  expect(tsdb.coverage.restored).toEqual([]);
  const errors = lines.filter((l) => l.level >= 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.reason).toBe(reason);
  expect(errors[0]!.msg).toMatch(new RegExp(`snapshot not restored \\(${reason}: .+\\); starting empty`));
  expect(existsSync(join(dir, 'snapshot'))).toBe(false);
  expect(errors[0]!.movedTo).toMatch(/snapshot\.bad-\d{4}-\d\d-\d\dT/);
  expect(existsSync(errors[0]!.movedTo!)).toBe(true);
}

/** Rewrites the header's checksum after the body was edited, so only the edit is wrong. */
function resealed(file: Buffer): Buffer {
  file.writeUInt32LE(crc32(file.subarray(HEADER_BYTES)), 12);
  return file;
}

describe('snapshot files', () => {
  it('restores what was written', async () => {
    const { dir, expected } = await writtenDir();
    const { tsdb, snapshots, lines } = setup(dir);
    await snapshots.load();
    expect(dump(tsdb)).toEqual(expected);
    expect(lines.find((l) => l.msg === 'snapshot restored')).toMatchObject({ series: 5, samples: 30 });
  });

  it('starts empty without complaint when there is no snapshot yet', async () => {
    const { tsdb, snapshots, lines } = setup(dataDir());
    await snapshots.load();
    expect(tsdb.seriesCount).toBe(0);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('drops samples older than retention on load', async () => {
    const { dir } = await writtenDir(2, 6);
    const later = NOW + RETENTION_MS - 25_000;
    const { tsdb, snapshots } = setup(dir, { now: () => later });
    await snapshots.load();
    // Samples at NOW - 50 s .. NOW; the cut-off is NOW - 25 s: three of six remain per series.
    expect([...tsdb.allSeries()].map((s) => s.length)).toEqual([3, 3]);
  });

  it('refuses a truncated file', async () => {
    const { dir } = await writtenDir();
    const path = join(dir, 'snapshot');
    truncateSync(path, readFileSync(path).length - 7);
    await expectRefused(dir, 'truncated');
  });

  it('refuses a file cut inside its header', async () => {
    const { dir } = await writtenDir();
    truncateSync(join(dir, 'snapshot'), 10);
    await expectRefused(dir, 'truncated');
  });

  it('refuses a file whose body does not match its checksum', async () => {
    const { dir } = await writtenDir();
    const path = join(dir, 'snapshot');
    const file = readFileSync(path);
    file[file.length - 20]! ^= 0x01;
    writeFileSync(path, file);
    await expectRefused(dir, 'corrupt');
  });

  it('refuses a file from an unknown format version', async () => {
    const { dir } = await writtenDir();
    const path = join(dir, 'snapshot');
    const file = readFileSync(path);
    file.writeUInt32LE(99, 8);
    writeFileSync(path, file);
    await expectRefused(dir, 'version');
  });

  it('reads a version 1 file, written by a build that stored no native histograms', async () => {
    const { dir, expected } = await writtenDir();
    const path = join(dir, 'snapshot');
    const file = readFileSync(path);
    file.writeUInt32LE(1, 8);
    writeFileSync(path, file);
    expect(await loadedDump(dir)).toEqual(expected);
  });

  it('takes a file that names no --exponential-histograms as written under classic, the one conversion before the setting', async () => {
    const { dir, expected } = await writtenDir();
    const { tsdb, snapshots } = setup(dir, { settings: { ...SETTINGS, exponentialHistograms: 'classic' } });
    await snapshots.load();
    expect(dump(tsdb)).toEqual(expected);
    await expectRefused(dir, 'settings', { ...SETTINGS, exponentialHistograms: 'native' });
  });

  it('restores native histogram samples, a series of them alone and one mixed with floats, in their order', async () => {
    const dir = dataDir();
    const { tsdb, snapshots } = setup(dir);
    const h = (k: number) =>
      new FloatHistogram({
        schema: 3,
        zeroThreshold: 1e-128,
        zeroCount: k,
        count: 10 * k + 1,
        sum: 2.5 * k,
        positiveSpans: [
          { offset: -2, length: 2 },
          { offset: 3, length: 1 },
        ],
        positiveBuckets: [k, 2 * k, 3 * k],
        negativeSpans: [{ offset: 1, length: 1 }],
        negativeBuckets: [1],
      });
    const only = labelsFromRecord({ __name__: 'latency' });
    const mixed = labelsFromRecord({ __name__: 'latency', pod: 'b' });
    for (let k = 0; k < 5; k++) {
      tsdb.appendHistogramLabels(only, NOW - 40_000 + k * 10_000, h(k));
      tsdb.appendHistogramLabels(mixed, NOW - 45_000 + k * 10_000, h(k));
    }
    // The mixed series ends with a staleness marker after its histograms.
    tsdb.appendLabels(mixed, NOW, NaN, true);
    const lanes = (db: Tsdb) =>
      [...db.allSeries()].map((s) => ({ labels: s.labels, floats: s.length, ts: s.histograms?.ts, hs: s.histograms?.hs.map((x) => ({ ...x })) }));
    const before = lanes(tsdb);
    await snapshots.write();

    const restored = setup(dir);
    await restored.snapshots.load();
    expect(lanes(restored.tsdb)).toEqual(before);
    expect(restored.tsdb.get(mixed)!.isStaleAt(0)).toBe(true);
    expect(restored.lines.find((l) => l.msg === 'snapshot restored')).toMatchObject({ series: 2, samples: 11 });

    // Samples older than the cut-off (25 s before NOW) are not restored.
    const later = setup(dir, { now: () => NOW + RETENTION_MS - 25_000 });
    await later.snapshots.load();
    expect([...later.tsdb.allSeries()].map((s) => s.histograms?.ts.map((t) => NOW - t))).toEqual([
      [20_000, 10_000, 0],
      [25_000, 15_000, 5_000],
    ]);
  });

  it('refuses a directory in place of the file', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'snapshot'));
    await expectRefused(dir, 'unreadable');
  });

  it.skipIf(process.getuid?.() === 0)('refuses a file it may not read', async () => {
    const { dir } = await writtenDir();
    execFileSync('chmod', ['000', join(dir, 'snapshot')]);
    await expectRefused(dir, 'unreadable');
  });

  it('refuses a snapshot written under other naming settings', async () => {
    const { dir } = await writtenDir();
    await expectRefused(dir, 'settings', { ...SETTINGS, nameTranslation: 'NoTranslation' });
  });

  it('refuses a well-sealed body with a bad record, after the good ones were read, leaving the store empty', async () => {
    const { dir } = await writtenDir();
    const path = join(dir, 'snapshot');
    const file = readFileSync(path);
    // The last byte is the end record; an unknown tag there comes after every series.
    file[file.length - 1] = 0x77;
    writeFileSync(path, resealed(file));
    await expectRefused(dir, 'malformed');
  });

  it('writes over the previous snapshot and leaves no temporary file', async () => {
    const dir = dataDir();
    const { tsdb, snapshots } = setup(dir);
    fill(tsdb, 2, 3);
    await snapshots.write();
    fill(tsdb, 4, 3);
    await snapshots.write();
    expect(readdirSync(dir)).toEqual(['snapshot']);
    expect(await loadedDump(dir)).toEqual(dump(tsdb));
  });

  it('is consistent per series when samples arrive while a write pauses between slices', async () => {
    const dir = dataDir();
    const { tsdb, snapshots } = setup(dir);
    fill(tsdb, 300, 3);
    let turns = 0;
    let writing = true;
    const appendMeanwhile = () => {
      if (!writing) return;
      turns++;
      for (const s of tsdb.allSeries()) tsdb.append(s, s.maxTime + 1, -turns);
      setImmediate(appendMeanwhile);
    };
    setImmediate(appendMeanwhile);
    await snapshots.write(0);
    writing = false;
    expect(turns).toBeGreaterThan(1);
    const { tsdb: loaded, snapshots: again } = setup(dir);
    await again.load();
    expect(loaded.seriesCount).toBe(300);
    // Every series is its original three samples plus a whole prefix of what came later.
    const live = new Map([...tsdb.allSeries()].map((s) => [s.labels.join(','), s]));
    for (const s of loaded.allSeries()) {
      const original = live.get(s.labels.join(','))!;
      expect(s.length).toBeGreaterThanOrEqual(3);
      const prefix = (from: typeof s) => Array.from({ length: s.length }, (_, i) => `${from.timestampAt(i)}=${from.valueAt(i)}`);
      expect(prefix(s)).toEqual(prefix(original));
    }
  });
});

/** A 64 KiB tmpfs: a disk that fills up. Mounting needs privileges the sandbox may not give. */
function tmpfs(): string | undefined {
  const dir = dataDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (e) {
    console.warn(`full-disk snapshot test skipped: cannot mount a tmpfs (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const small = tmpfs();
describe.skipIf(small === undefined)('a full disk', () => {
  afterAll(() => {
    if (small !== undefined) execFileSync('umount', [small]);
  });

  it('fails the write, counts it, and keeps the previous snapshot whole', async () => {
    const dir = small!;
    const { tsdb, snapshots, lines } = setup(dir);
    fill(tsdb, 20, 5);
    await snapshots.write();
    expect(snapshots.stats).toMatchObject({ writes: 1, failures: 0 });
    const expected = dump(tsdb);
    const before = readFileSync(join(dir, 'snapshot'));

    fill(tsdb, 3000, 5);
    await snapshots.write();
    expect(snapshots.stats).toMatchObject({ writes: 1, failures: 1 });
    expect(lines.some((l) => l.level >= 50 && /snapshot write failed/.test(l.msg) && JSON.stringify(l).includes('ENOSPC'))).toBe(true);
    expect(readFileSync(join(dir, 'snapshot')).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['snapshot']);

    expect(await loadedDump(dir)).toEqual(expected);
  });
});

describe('snapshot timing', () => {
  it('writes every interval once started', async () => {
    const dir = dataDir();
    const tsdb = new Tsdb({ now: () => NOW });
    tsdb.appendLabels(['__name__', 'up'], NOW, 1);
    const snapshots = new Snapshots(
      { tsdb, settings: SETTINGS },
      { dir, intervalMs: 20, retentionMs: RETENTION_MS, now: () => NOW },
      pino({ level: 'silent' }),
    );
    snapshots.start();
    await expect.poll(() => snapshots.stats.writes, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    await snapshots.close();
    const after = snapshots.stats.writes;
    await new Promise((r) => setTimeout(r, 100));
    expect(snapshots.stats.writes).toBe(after);
  });

  it('at close, abandons a periodic write in progress and writes what the store holds now', async () => {
    const dir = dataDir();
    const { tsdb, snapshots, lines } = setup(dir);
    fill(tsdb, 3000, 3);
    const periodic = snapshots.write(0);
    await new Promise((r) => setImmediate(r));
    tsdb.appendLabels(labelsFromRecord({ __name__: 'late' }), NOW, 7);
    await snapshots.close();
    await periodic;
    expect(snapshots.stats).toMatchObject({ writes: 1, failures: 0 });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(readdirSync(dir)).toEqual(['snapshot']);
    expect(await loadedDump(dir)).toEqual(dump(tsdb));
  });

  it('starts empty, logging it, when the data dir cannot be created', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'file'), '');
    const { tsdb, snapshots, lines } = setup(join(dir, 'file', 'data'));
    await snapshots.load();
    expect(tsdb.seriesCount).toBe(0);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(['the data dir cannot be created; starting empty']);
    await snapshots.write();
    expect(snapshots.stats.failures).toBe(1);
  });
});
