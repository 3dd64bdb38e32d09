import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { OtlpReceiver } from '../../src/otlp/receiver.js';
import { Tsdb } from '../../src/tsdb/db.js';

const request = (...names: string[]) =>
  Buffer.from(
    JSON.stringify({
      resourceMetrics: [
        { scopeMetrics: [{ metrics: names.map((name) => ({ name, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asInt: 1 }] } })) }] },
      ],
    }),
  );

function receiver(lazySeries: boolean) {
  const tsdb = new Tsdb();
  return { tsdb, receiver: new OtlpReceiver(tsdb, defaultConfig({ lazySeries }), pino({ level: 'silent' })) };
}

describe('OtlpReceiver', () => {
  it('tells ingest listeners once a request which names (and aliases) got samples', () => {
    const { tsdb, receiver: r } = receiver(false);
    const seen: string[][] = [];
    tsdb.onIngest((names) => seen.push([...names].sort()));
    expect(r.ingestNow(request('a', 'b'), 'json', 'http')).toEqual({});
    expect(seen).toEqual([['a', 'a_total', 'b', 'b_total']]);
  });

  it('keeps everything unless lazySeries is on, and then only the wanted metrics', () => {
    const eager = receiver(false);
    eager.receiver.setWantedNames(new Set(['a']));
    eager.receiver.ingestNow(request('a', 'b'), 'json', 'grpc');
    expect(eager.tsdb.labelValues('__name__')).toEqual(['a_total', 'b_total']);

    const lazy = receiver(true);
    lazy.receiver.setWantedNames(() => new Set(['a']));
    lazy.receiver.ingestNow(request('a', 'b'), 'json', 'grpc');
    expect(lazy.tsdb.labelValues('__name__')).toEqual(['a_total']);
    expect(lazy.receiver.stats).toMatchObject({ pointsReceived: 2, pointsAccepted: 1, pointsSkippedLazy: 1 });
  });
});
