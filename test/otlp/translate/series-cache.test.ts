import { describe, expect, it } from 'vitest';
import { hashBytes, type EncodedKey } from '../../../src/otlp/decode/encoded-key.js';
import type { MetricNames } from '../../../src/otlp/translate/names.js';
import { SeriesCache } from '../../../src/otlp/translate/series-cache.js';
import type { ResourceLabels } from '../../../src/otlp/translate/series-labels.js';
import { Tsdb } from '../../../src/tsdb/db.js';

function key(text: string, hash?: number): EncodedKey {
  const buf = Buffer.from(text, 'utf8');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { hash: hash ?? hashBytes(buf, 0, buf.length), keyBytes: { buf, view }, keyStart: 0, keyEnd: buf.length };
}

const resource = (): ResourceLabels => ({ promoted: [], identity: [], merged: [] });
const names = (base: string) => ({ base }) as MetricNames;

describe('SeriesCache', () => {
  it('finds each series by its scope and attribute bytes while the table grows, colliding hashes included', () => {
    const tsdb = new Tsdb();
    const cache = new SeriesCache(Infinity);
    const r1 = resource();
    const r2 = resource();
    const a = cache.pointSeries(r1, names('a'));
    const b = cache.pointSeries(r2, names('a'));
    expect(cache.pointSeries(r1, names('b'))).not.toBe(a);
    expect(b).not.toBe(a);
    const series = (i: number, scope: number) => tsdb.getOrCreate(['__name__', `m${scope}`, 'pod', String(i)])!;
    for (let i = 0; i < 5000; i++) {
      // Every fifth key shares one hash, so the table must tell them apart by their bytes.
      const hash = i % 5 === 0 ? 7 : undefined;
      cache.remember(a, key(`pod-${i}`, hash), series(i, a));
      cache.remember(b, key(`pod-${i}`, hash), series(i, b));
    }
    for (let i = 0; i < 5000; i++) {
      const hash = i % 5 === 0 ? 7 : undefined;
      expect(cache.get(a, key(`pod-${i}`, hash))).toBe(series(i, a));
      expect(cache.get(b, key(`pod-${i}`, hash))).toBe(series(i, b));
    }
    expect(cache.get(a, key('pod-5000'))).toBeUndefined();
    const replaced = tsdb.getOrCreate(['__name__', 'other'])!;
    cache.remember(a, key('pod-3'), replaced);
    expect(cache.get(a, key('pod-3'))).toBe(replaced);
  });

  it('forgets everything once it holds its bound, and works on', () => {
    const tsdb = new Tsdb();
    const cache = new SeriesCache(50_000);
    const scope = cache.pointSeries(resource(), names('a'));
    for (let i = 0; i < 100_000; i++) cache.remember(scope, key(`k${i}`), tsdb.getOrCreate(['__name__', 'x', 'i', String(i % 10)])!);
    expect(cache.get(scope, key('k0'))).toBeDefined();
    const s = tsdb.getOrCreate(['__name__', 'y'])!;
    cache.remember(scope, key('last'), s);
    expect(cache.get(scope, key('k0'))).toBeUndefined();
    const again = cache.pointSeries(resource(), names('a'));
    cache.remember(again, key('k1'), s);
    expect(cache.get(again, key('k1'))).toBe(s);
  });
});
