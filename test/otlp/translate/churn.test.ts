import { describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../../../src/otlp/decode/json.js';
import { OtlpStats } from '../../../src/otlp/stats.js';
import { Translator } from '../../../src/otlp/translate/translator.js';
import { Tsdb } from '../../../src/tsdb/db.js';

describe('pod churn', () => {
  it('keeps the series count flat when a new service.instance.id appears every minute', () => {
    let clock = 1_700_000_000_000;
    const tsdb = new Tsdb({ retentionMs: 120_000, now: () => clock });
    const translator = new Translator(tsdb, { nameTranslation: 'UnderscoreEscapingWithSuffixes', promoteResourceAttributes: '*' }, new OtlpStats());
    const push = (pod: number) => {
      const attrs = [
        { key: 'service.name', value: { stringValue: 'collector' } },
        { key: 'service.instance.id', value: { stringValue: `pod-${pod}` } },
      ];
      const t = `${clock}000000`;
      const metrics = [
        {
          name: 'spans',
          sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ startTimeUnixNano: `${clock - 15_000}000000`, timeUnixNano: t, asInt: 5 }] },
        },
        {
          name: 'lat',
          unit: 's',
          histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: t, count: 2, sum: 1, bucketCounts: [1, 1, 0], explicitBounds: [0.1, 1] }] },
        },
      ];
      translator.translate(decodeJsonRequest(JSON.stringify({ resourceMetrics: [{ resource: { attributes: attrs }, scopeMetrics: [{ metrics }] }] })), clock);
    };
    const perPod = 1 + 3 + 2; // spans_total; lat_seconds_bucket x3; _count; _sum
    const counts: number[] = [];
    for (let minute = 0; minute < 60; minute++) {
      for (let tick = 0; tick < 4; tick++) {
        push(minute);
        clock += 15_000;
      }
      tsdb.gc(clock);
      counts.push(tsdb.seriesCount);
    }
    // Retention of two minutes keeps at most the pods of the last three minutes.
    expect(Math.max(...counts.slice(5))).toBeLessThanOrEqual(3 * perPod);
    expect(counts.at(-1)).toBe(counts[10]);
  });
});
