import { existsSync, readdirSync, symlinkSync, truncateSync, unlinkSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snapshots } from '../../src/persist/snapshots.js';
import { WAL_DIR, WriteAheadLog, type WalRecord } from '../../src/persist/wal.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { capturedLog, tempDirs } from './support.js';

const dataDir = tempDirs('persist-wal');

function walIn(dir: string) {
  const { log, lines } = capturedLog();
  return { wal: new WriteAheadLog(dir, log), lines };
}

async function replayAll(dir: string, store: (r: WalRecord) => Promise<boolean> = async () => true) {
  const records: { kind: string; receivedMs: number; body: string }[] = [];
  const { wal, lines } = walIn(dir);
  const result = await wal.replay(async (r) => {
    records.push({ kind: r.kind, receivedMs: r.receivedMs, body: r.body.toString() });
    return store(r);
  });
  return { result, records, lines };
}

/** A log in a new data dir holding these OTLP/JSON bodies (body → time, in order), in a segment begun at `startMs`. */
function logWith(startMs: number, bodies: Record<string, number>) {
  const dir = dataDir();
  const { wal, lines } = walIn(dir);
  wal.open(startMs);
  for (const [body, at] of Object.entries(bodies)) wal.append('otlp-json', Buffer.from(body), at);
  return { dir, wal, lines };
}

const segments = (dir: string) => readdirSync(join(dir, WAL_DIR)).sort();

describe('the write-ahead log', () => {
  it('gives back every body in order, with its kind and time, and the span they cover', async () => {
    const dir = dataDir();
    const { wal } = walIn(dir);
    wal.open(1_000);
    wal.append('otlp-protobuf', Buffer.from('first'), 1_010);
    wal.append('otlp-json', Buffer.from('{"second":2}'), 1_020);
    wal.append('remote-write-v1', Buffer.alloc(0), 1_030);
    wal.close();
    expect(wal.stats).toMatchObject({ records: 3, failures: 0 });
    const { result, records } = await replayAll(dir);
    expect(records).toEqual([
      { kind: 'otlp-protobuf', receivedMs: 1_010, body: 'first' },
      { kind: 'otlp-json', receivedMs: 1_020, body: '{"second":2}' },
      { kind: 'remote-write-v1', receivedMs: 1_030, body: '' },
    ]);
    expect(result).toMatchObject({ segments: 1, records: 3, refused: 0, damaged: 0, spans: [{ fromMs: 1_000, toMs: 1_030 }] });
  });

  it('continues one span across the segments a snapshot cut, and deletes those before a cut on request', async () => {
    const { dir, wal } = logWith(1_000, { a: 1_100 });
    const second = wal.cut(2_000)!;
    wal.append('otlp-json', Buffer.from('b'), 2_100);
    const third = wal.cut(3_000)!;
    expect(segments(dir)).toEqual(['00000001', '00000002', '00000003']);
    await wal.dropBefore(second);
    expect(segments(dir)).toEqual(['00000002', '00000003']);
    wal.close();
    const { result, records } = await replayAll(dir);
    expect(records.map((r) => r.body)).toEqual(['b']);
    // The last segment is empty: the process was receiving when it was cut, so the span reaches it.
    expect(result.spans).toEqual([{ fromMs: 2_000, toMs: 3_000 }]);
    expect(third).toBe(3);
  });

  it('keeps the runs of two processes apart: the time between them is not covered', async () => {
    const dir = dataDir();
    const first = walIn(dir).wal;
    first.open(1_000);
    first.append('otlp-json', Buffer.from('a'), 1_500);
    first.close();
    const second = walIn(dir).wal;
    second.open(9_000);
    second.append('otlp-json', Buffer.from('b'), 9_500);
    second.close();
    expect(segments(dir)).toEqual(['00000001', '00000002']);
    const { result } = await replayAll(dir);
    expect(result.spans).toEqual([
      { fromMs: 1_000, toMs: 1_500 },
      { fromMs: 9_000, toMs: 9_500 },
    ]);
  });

  it('stores a segment cut short up to its last whole record, moves it aside, and ends the span there', async () => {
    const { dir, wal } = logWith(1_000, { whole: 1_100, 'cut short by the crash': 1_200 });
    wal.cut(1_300);
    wal.append('otlp-json', Buffer.from('after'), 1_400);
    wal.close();
    const first = join(dir, WAL_DIR, '00000001');
    truncateSync(first, statSync(first).size - 3);
    const { result, records, lines } = await replayAll(dir);
    expect(records.map((r) => r.body)).toEqual(['whole', 'after']);
    expect(result).toMatchObject({
      damaged: 1,
      spans: [
        { fromMs: 1_000, toMs: 1_100 },
        { fromMs: 1_300, toMs: 1_400 },
      ],
    });
    expect(existsSync(first)).toBe(false);
    expect(segments(dir).some((name) => name.startsWith('00000001.bad-'))).toBe(true);
    expect(lines.find((l) => l.msg.includes('cannot be read'))).toMatchObject({ why: 'a record cut short' });
  });

  it('stops at a record whose checksum does not match, storing nothing of it or after it in that segment', async () => {
    const { dir, wal } = logWith(1_000, { one: 1_100, two: 1_200, three: 1_300 });
    wal.close();
    const path = join(dir, WAL_DIR, '00000001');
    const file = readFileSync(path);
    const at = file.indexOf('two');
    file[at] = 'T'.charCodeAt(0);
    writeFileSync(path, file);
    const { result, records, lines } = await replayAll(dir);
    expect(records.map((r) => r.body)).toEqual(['one']);
    expect(result).toMatchObject({ damaged: 1, spans: [{ fromMs: 1_000, toMs: 1_100 }] });
    expect(lines.find((l) => l.msg.includes('cannot be read'))).toMatchObject({ why: 'a record whose checksum does not match' });
  });

  it('moves aside a file that is not a segment, and counts bodies the store refused', async () => {
    const { dir, wal } = logWith(1_000, { refused: 1_100, throws: 1_200, kept: 1_300 });
    wal.close();
    writeFileSync(join(dir, WAL_DIR, '00000002'), 'not a segment at all');
    const { result } = await replayAll(dir, async (r) => {
      if (r.body.toString() === 'throws') throw new Error('malformed');
      return r.body.toString() !== 'refused';
    });
    expect(result).toMatchObject({ segments: 2, records: 3, refused: 2, damaged: 1, spans: [{ fromMs: 1_000, toMs: 1_300 }] });
  });

  it('counts the bodies it cannot log, and resumes in a segment that does not continue the span', async () => {
    const { dir, wal, lines } = logWith(1_000, { before: 1_100 });
    // The next segments' files are a device that takes no bytes (ENOSPC), as a full disk: the cut
    // cannot start one, nor can the append after it.
    for (const n of ['00000002', '00000003']) symlinkSync('/dev/full', join(dir, WAL_DIR, n));
    wal.cut(2_000);
    wal.append('otlp-json', Buffer.from('lost'), 2_100);
    for (const n of ['00000002', '00000003']) unlinkSync(join(dir, WAL_DIR, n));
    wal.append('otlp-json', Buffer.from('after'), 3_100);
    wal.close();
    expect(wal.stats).toMatchObject({ records: 2, failures: 1 });
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
    expect(lines.find((l) => l.msg === 'the write-ahead log is written again')).toBeDefined();
    const { result, records } = await replayAll(dir);
    expect(records.map((r) => r.body)).toEqual(['before', 'after']);
    expect(result.spans).toEqual([
      { fromMs: 1_000, toMs: 1_100 },
      { fromMs: 3_100, toMs: 3_100 },
    ]);
  });

  it('asks for a snapshot at once when it has grown by its limit since the last cut; the snapshot deletes what it holds', async () => {
    const dir = dataDir();
    const { log } = capturedLog();
    const wal = new WriteAheadLog(dir, log, 200);
    const settings = { nameTranslation: 'UnderscoreEscapingWithSuffixes', promoteResourceAttributes: '*' };
    const snapshots = new Snapshots({ tsdb: new Tsdb({}), settings }, { dir, intervalMs: 3_600_000, retentionMs: 600_000, wal }, log);
    wal.open(1_000);
    wal.append('otlp-json', Buffer.alloc(150), 1_100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(snapshots.stats.writes).toBe(0);
    wal.append('otlp-json', Buffer.alloc(150), 1_200);
    await expect.poll(() => snapshots.stats.writes).toBe(1);
    expect(segments(dir)).toEqual(['00000002']);
    await snapshots.close();
    wal.close();
  });
});
