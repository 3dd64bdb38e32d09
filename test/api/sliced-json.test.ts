import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { queryDataJson } from '../../src/api/query-json.js';
import { jsonArray, sendSlicedJson } from '../../src/api/sliced-json.js';
import type { QueryValue } from '../../src/promql/value.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';

describe('answers written in pieces', () => {
  it('lets other callbacks run while a large answer is written, and writes the same JSON', async () => {
    const app = Fastify();
    const items = Array.from({ length: 200_000 }, (_, i) => ({ i, name: `series-${i}` }));
    let piecesWritten = 0;
    const turnsSeen = new Set<number>();
    let turns = 0;
    app.get('/big', (_req, reply) =>
      sendSlicedJson(
        reply,
        jsonArray(items, (item) => {
          piecesWritten++;
          turnsSeen.add(turns);
          return JSON.stringify(item);
        }),
      ),
    );
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const res = await app.inject({ method: 'GET', url: '/big' });
    counting = false;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toBe(JSON.stringify(items));
    expect(piecesWritten).toBe(items.length);
    // The pieces were written across many turns of the event loop, not in one.
    expect(turnsSeen.size).toBeGreaterThan(5);
    await app.close();
  });

  it("writes every result type as Prometheus's JSON", () => {
    const labels = labelsFromRecord({ __name__: 'm', job: 'a"b' });
    const cases: [QueryValue, unknown][] = [
      [
        { type: 'scalar', t: 1500, v: Infinity },
        { resultType: 'scalar', result: [1.5, '+Inf'] },
      ],
      [
        { type: 'string', t: 2000, v: 'x"y' },
        { resultType: 'string', result: [2, 'x"y'] },
      ],
      [
        { type: 'vector', samples: [] },
        { resultType: 'vector', result: [] },
      ],
      [
        {
          type: 'vector',
          samples: [
            { labels, t: 1001, v: NaN },
            { labels: [], t: 1001, v: -0 },
          ],
        },
        {
          resultType: 'vector',
          result: [
            { metric: { __name__: 'm', job: 'a"b' }, value: [1.001, 'NaN'] },
            { metric: {}, value: [1.001, '-0'] },
          ],
        },
      ],
      [
        {
          type: 'matrix',
          series: [
            { labels, timestamps: [1000, 2000], values: [1e-7, 2.5] },
            { labels: [], timestamps: [], values: [] },
          ],
        },
        {
          resultType: 'matrix',
          result: [
            {
              metric: { __name__: 'm', job: 'a"b' },
              values: [
                [1, '1e-07'],
                [2, '2.5'],
              ],
            },
            { metric: {}, values: [] },
          ],
        },
      ],
    ];
    for (const [value, expected] of cases) {
      const text = [...queryDataJson(value)].join('');
      expect(JSON.parse(text)).toEqual(expected);
    }
  });
});
