import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../src/otlp/slices.js';
import { decodeWriteRequest } from '../../src/remotewrite/decode.js';
import { RemoteWriteStats } from '../../src/remotewrite/stats.js';
import { RemoteWriteStore } from '../../src/remotewrite/store.js';
import { Tsdb } from '../../src/tsdb/db.js';
import { encodeV1 } from './client.js';

describe('remote-write store', () => {
  it('finds a 1.0 series again by its label bytes, and makes it anew once retention freed it', () => {
    let now = 1_000_000;
    const tsdb = new Tsdb({ retentionMs: 60_000, now: () => now });
    const store = new RemoteWriteStore(tsdb, new RemoteWriteStats());
    const write = (value: number) =>
      runToEnd(
        store.storeSlices(
          decodeWriteRequest(Buffer.from(encodeV1([{ labels: { __name__: 'cached', pod: 'a' }, samples: [{ value, timestamp: now }] }])), 'v1'),
        ),
      );
    expect(write(1).samplesWritten).toBe(1);
    now += 1000;
    expect(write(2).samplesWritten).toBe(1);
    const first = tsdb.select([])[0]!;
    expect([tsdb.seriesCount, first.length]).toEqual([1, 2]);
    now += 120_000;
    expect(tsdb.gc()).toBe(1);
    expect(write(3).samplesWritten).toBe(1);
    const again = tsdb.select([])[0]!;
    expect(again).not.toBe(first);
    expect([again.live, again.length, again.labels]).toEqual([true, 1, ['__name__', 'cached', 'pod', 'a']]);
  });

  it('keeps only wanted metrics in lazy mode, cached series included, and counts the rest as skipped, not refused', () => {
    const tsdb = new Tsdb();
    const stats = new RemoteWriteStats();
    const store = new RemoteWriteStore(tsdb, stats);
    let wanted = new Set(['wanted_total', 'dropped_later']);
    store.setWantedNames(() => wanted);
    const t = Date.now();
    const write = (time: number) =>
      runToEnd(
        store.storeSlices(
          decodeWriteRequest(
            Buffer.from(
              encodeV1([
                { labels: { __name__: 'wanted_total' }, samples: [{ value: 1, timestamp: time }] },
                { labels: { __name__: 'dropped_later' }, samples: [{ value: 1, timestamp: time }] },
                { labels: { __name__: 'unwanted' }, samples: [{ value: 1, timestamp: time }], histograms: 1 },
              ]),
            ),
            'v1',
          ),
        ),
      );
    // The sender reads skipped samples, native histograms too, as written.
    expect(write(t)).toEqual({ samplesWritten: 3, histogramsWritten: 1, rejected: 0, errorMessage: '' });
    expect(tsdb.labelValues('__name__')).toEqual(['dropped_later', 'wanted_total']);
    wanted = new Set(['wanted_total']);
    write(t + 1000);
    expect(tsdb.select([]).map((s) => [s.metricName, s.length])).toEqual([
      ['wanted_total', 2],
      ['dropped_later', 1],
    ]);
    expect([stats.samplesWritten, stats.samplesSkippedLazy, stats.histogramsWritten, stats.histogramsSkippedLazy]).toEqual([3, 3, 0, 2]);
  });
});
