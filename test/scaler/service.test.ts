import type { ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { startTestApp } from '../support/app.js';
import { KedaClient, type ScaledObjectRef } from '../../harness/clients/keda.js';

function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

/** KEDA's StreamIsActive for `ref`, and every answer it sends, in order. */
function listen(client: KedaClient, ref: ScaledObjectRef): { stream: ClientReadableStream<{ result: boolean }>; answers: boolean[] } {
  const stream = client.streamIsActive(ref);
  const answers: boolean[] = [];
  stream.on('data', (m: { result: boolean }) => answers.push(m.result));
  stream.on('error', () => undefined);
  return { stream, answers };
}

describe('ExternalScaler streams', () => {
  let app: App;
  let client: KedaClient;

  beforeAll(async () => {
    app = await startTestApp();
    client = new KedaClient(`127.0.0.1:${app.ports.otlpHttp}`);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  function push(value: number): void {
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'traces_in_memory', tier: 'sampling' }), Date.now(), value);
    app.tsdb.flushIngest();
  }

  it('StreamIsActive answers at once, then again as soon as ingest changes the answer', async () => {
    const ref = {
      name: 'sampling',
      namespace: 'obs',
      scalerMetadata: { metricQuery: 'sum(traces_in_memory{tier="sampling"})', targetValue: '1000', activationTargetValue: '50' },
    };
    const { stream, answers } = listen(client, ref);
    await until(() => answers.length === 1, 'the first answer');
    expect(answers).toEqual([false]);
    push(10);
    push(20);
    // Still inactive: nothing new is sent for an unchanged answer.
    push(100);
    await until(() => answers.length === 2, 'the answer after crossing the activation value');
    expect(answers).toEqual([false, true]);
    push(0);
    await until(() => answers.length === 3, 'the answer after falling back');
    expect(answers).toEqual([false, true, false]);
    expect(app.scalerService.openStreams).toBe(1);
    stream.cancel();
    await until(() => app.scalerService.openStreams === 0, 'the server to forget the cancelled stream');
  });

  it('tells every stream of one trigger, evaluating the trigger once per push', async () => {
    const ref = {
      name: 'shared',
      namespace: 'obs',
      scalerMetadata: { metricQuery: 'max(traces_in_memory{tier="sampling"})', targetValue: '1000', activationTargetValue: '500' },
    };
    const listeners = Array.from({ length: 20 }, () => listen(client, ref));
    const answers = listeners.map((l) => l.answers);
    await until(() => answers.every((a) => a.length === 1), 'every first answer');
    const before = app.scaler.evaluations.count;
    push(900);
    await until(() => answers.every((a) => a.length === 2), 'every stream to hear the crossing');
    expect(answers.every((a) => a[0] === false && a[1] === true)).toBe(true);
    expect(app.scaler.evaluations.count - before).toBe(1);
    for (const { stream } of listeners) stream.cancel();
    push(0);
    await until(() => app.scalerService.openStreams === 0, 'the server to forget the cancelled streams');
  });

  it('sends a stream nothing for an empty result when the trigger asks for an error then', async () => {
    const ref = { name: 'strict', namespace: 'obs', scalerMetadata: { metricQuery: 'sum(spans_refused)', targetValue: '1', errIfNotFound: 'true' } };
    const { stream, answers } = listen(client, ref);
    await expect(client.getMetrics(ref)).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/found no series.*fallback/) });
    await new Promise((r) => setTimeout(r, 100));
    expect(answers).toEqual([]);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'spans_refused' }), Date.now(), 4);
    app.tsdb.flushIngest();
    await until(() => answers.length === 1, 'the answer once the query finds a series');
    expect(answers).toEqual([true]);
    stream.cancel();
    await until(() => app.scalerService.openStreams === 0, 'the server to forget the cancelled stream');
  });

  it('StreamMetricSpec sends the spec at once and keeps the stream open', async () => {
    const ref = { name: 'gw', namespace: 'obs', scalerMetadata: { metricQuery: 'sum(traces_in_memory)', targetValue: '7.5', metricName: 'traces' } };
    const stream = (client.raw.StreamMetricSpec as (req: unknown) => ClientReadableStream<unknown>)(ref);
    const specs: unknown[] = [];
    let ended = false;
    stream.on('data', (m) => specs.push(m));
    stream.on('end', () => (ended = true));
    stream.on('error', () => undefined);
    await until(() => specs.length === 1, 'the spec');
    expect(specs[0]).toEqual({ metricSpecs: [{ metricName: 'traces', targetSize: 8, targetSizeFloat: 7.5 }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe(false);
    stream.cancel();
    await until(() => app.scalerService.openStreams === 0, 'the server to forget the cancelled stream');
  });

  it('fails a stream with INVALID_ARGUMENT when the metadata is bad', async () => {
    const stream = (client.raw.StreamIsActive as (req: unknown) => ClientReadableStream<unknown>)({
      name: 'bad',
      namespace: 'obs',
      scalerMetadata: { metricQuery: 'sum(', targetValue: '1' },
    });
    const err = await new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(3);
    expect(err.details).toMatch(/metricQuery.*parse error/);
  });
});

describe("ExternalScaler while the store does not yet hold a query's window", () => {
  let app: App;
  let client: KedaClient;

  beforeAll(async () => {
    // A fresh process whose instant selectors read 1s back: its window is held a second after it starts receiving.
    app = await startTestApp({ lookbackDeltaMs: 1_000 }, { fresh: true });
    client = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('answers UNAVAILABLE to GetMetrics and IsActive and sends a stream nothing, then answers', async () => {
    const ref = { name: 'fresh', namespace: 'obs', scalerMetadata: { metricQuery: 'sum(queue)', targetValue: '1', activationTargetValue: '5' } };
    const { stream, answers } = listen(client, ref);
    const push = (value: number) => {
      app.tsdb.appendLabels(labelsFromRecord({ __name__: 'queue' }), Date.now(), value);
      app.tsdb.flushIngest();
    };
    push(2);
    const pushing = setInterval(() => push(2), 100);
    await expect(client.getMetrics(ref)).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/the query reads 1s back; answers in 1s/) });
    await expect(client.isActive(ref)).rejects.toMatchObject({ code: 14 });
    await new Promise((r) => setTimeout(r, 100));
    expect(answers).toEqual([]);
    await expect.poll(() => client.valueOrUndefined(ref), { interval: 50, timeout: 5_000 }).toBe(2);
    await until(() => answers.length === 1, 'the first answer');
    clearInterval(pushing);
    expect(answers).toEqual([false]);
    stream.cancel();
  });
});
