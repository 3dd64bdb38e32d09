import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config.js';
import { decodeJsonBody } from '../../../src/otlp/decode/json.js';
import { DecodePool } from '../../../src/otlp/decode/pool.js';
import { decodeWireRequest } from '../../../src/otlp/decode/wire.js';
import { DecodeError } from '../../../src/otlp/errors.js';
import { OtlpReceiver } from '../../../src/otlp/receiver.js';
import { Tsdb } from '../../../src/tsdb/db.js';
import { Matcher } from '../../../src/tsdb/matcher.js';
import { encodeRequest } from '../../../harness/clients/otlp.js';
import { plainRequest } from './plain.js';

const T = '1700000000123456789';
const attrs = (v: string) => [{ key: 'k', value: { string_value: v } }];
const PROTOBUF = encodeRequest({
  resource_metrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
      scope_metrics: [
        {
          scope: { name: 'lib', version: '1' },
          metrics: [
            {
              name: 'g',
              gauge: {
                data_points: [
                  { time_unix_nano: T, as_double: 1.5, attributes: attrs('a') },
                  { time_unix_nano: T, as_int: 3 },
                ],
              },
            },
            {
              name: 's',
              sum: { aggregation_temporality: 1, is_monotonic: true, data_points: [{ start_time_unix_nano: T, time_unix_nano: T, as_double: 2, flags: 1 }] },
            },
            {
              name: 'h',
              histogram: { aggregation_temporality: 2, data_points: [{ time_unix_nano: T, count: 3, sum: 4, bucket_counts: [1, 2], explicit_bounds: [1] }] },
            },
          ],
        },
      ],
    },
    { scope_metrics: [{ metrics: [{ name: 'g2', gauge: { data_points: [{ time_unix_nano: T, as_double: -1, attributes: attrs('b') }] } }] }] },
  ],
});
const JSON_BODY = Buffer.from(
  JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [
          { metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 1, attributes: [{ key: 'k', value: { stringValue: '\ud800' } }] }] } }] },
        ],
      },
    ],
  }),
);

const CRASHING = new URL('./crashing-worker.ts', import.meta.url);
const quiet = pino({ level: 'silent' });
const pools: DecodePool[] = [];
function pool(size: number, url?: URL): DecodePool {
  const p = new DecodePool(size, quiet, url);
  pools.push(p);
  return p;
}
const receivers: OtlpReceiver[] = [];
afterEach(async () => {
  await Promise.all([...pools.splice(0).map((p) => p.close()), ...receivers.splice(0).map((r) => r.close())]);
});

describe('DecodePool', () => {
  it('gives the request the main thread would decode, protobuf and JSON', async () => {
    const p = pool(1);
    expect(plainRequest((await p.decode(PROTOBUF, 'protobuf'))!)).toEqual(plainRequest(decodeWireRequest(PROTOBUF)));
    expect(plainRequest((await p.decode(JSON_BODY, 'json'))!)).toEqual(plainRequest(decodeJsonBody(JSON_BODY)));
    expect(p.stats.decoded).toBe(2);
  });

  it('keeps the caller’s body: the worker decodes a copy', async () => {
    const body = Buffer.from(PROTOBUF);
    await pool(1).decode(body, 'protobuf');
    expect(body.equals(PROTOBUF)).toBe(true);
  });

  it('rejects a malformed body with the DecodeError the main thread would give', async () => {
    const bad = PROTOBUF.subarray(0, PROTOBUF.length - 3);
    const expected = (() => {
      try {
        decodeWireRequest(bad);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('decoded');
    })();
    await expect(pool(1).decode(bad, 'protobuf')).rejects.toThrow(new DecodeError(expected));
  });

  it('answers the body of a worker that died with an error, starts another and decodes on', async () => {
    const p = pool(1, CRASHING);
    await expect(p.decode(Buffer.from('CRASH'), 'json')).rejects.toThrow(/exited \(code 7\)/);
    expect(p.stats.replaced).toBe(1);
    expect(plainRequest((await p.decode(PROTOBUF, 'protobuf'))!)).toEqual(plainRequest(decodeWireRequest(PROTOBUF)));
  });

  it('holds at most its queue limit of bodies waiting, and sends the caller back past it', async () => {
    const p = pool(1);
    // One body goes to the worker at once; the next queueLimit wait.
    const accepted = Array.from({ length: 1 + p.queueLimit }, () => p.decode(PROTOBUF, 'protobuf'));
    expect(accepted.every((d) => d !== undefined)).toBe(true);
    expect(p.decode(PROTOBUF, 'protobuf')).toBeUndefined();
    expect(p.stats.queueFull).toBe(1);
    await Promise.all(accepted.map((d) => d!));
    expect(p.stats.decoded).toBe(1 + p.queueLimit);
  });
});

describe('OtlpReceiver with ingest threads', () => {
  const gauge = (value: number) =>
    encodeRequest({ resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 'm', gauge: { data_points: [{ time_unix_nano: T, as_double: value }] } }] }] }] });

  it('stores bodies in arrival order, those decoded on its own thread past the full queue among them', async () => {
    const tsdb = new Tsdb();
    const r = new OtlpReceiver(tsdb, defaultConfig({ ingestThreads: 1 }), quiet);
    receivers.push(r);
    // The same time in every body: the one stored last is the one whose value is kept.
    const n = 3 * r.pool!.queueLimit;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => r.ingest(gauge(i), 'protobuf', 'grpc')));
    expect(answers.every((a) => a.partialSuccess === undefined)).toBe(true);
    expect(r.pool!.stats.queueFull).toBeGreaterThan(0);
    const [series] = tsdb.select([new Matcher('=', '__name__', 'm')]);
    expect(series!.valueAt(series!.length - 1)).toBe(n - 1);
    expect(r.stats.requests.grpc).toBe(n);
  });

  it('gives its copy in the budget back once each body is stored', async () => {
    const r = new OtlpReceiver(new Tsdb(), defaultConfig({ ingestThreads: 1 }), quiet);
    receivers.push(r);
    await Promise.all([r.ingest(gauge(1), 'protobuf', 'grpc'), r.ingest(PROTOBUF.subarray(0, 9), 'protobuf', 'grpc').catch(() => undefined)]);
    expect(r.budget.peak).toBeGreaterThan(0);
    expect(r.budget.inUse).toBe(0);
  });
});
