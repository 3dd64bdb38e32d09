import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { App } from '../../src/server/app.js';
import { startTestApp } from '../support/app.js';
import { podMeterProvider } from '../support/otel.js';
import { KedaClient, type ScaledObjectRef } from '../../harness/clients/keda.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The app with a collector pod pushing one gauge, `queue_depth`, through the real OTLP/HTTP
 * exporter: `push(v)` exports v and resolves once the scaler has stored it.
 */
function setUp(overrides: Partial<Config>, options: { fresh?: boolean } = {}) {
  const ctx = {} as {
    app: App;
    keda: KedaClient;
    push: (v: number) => Promise<void>;
    /** A counter of /metrics, read over HTTP. */
    counter: (name: string) => Promise<number>;
    /** The value of an instant query now, from the HTTP API. */
    query: (q: string) => Promise<number>;
  };
  let shutdown: () => Promise<void>;
  beforeAll(async () => {
    const app = await startTestApp(overrides, options);
    const pod = podMeterProvider(new ProtoExporter({ url: `http://127.0.0.1:${app.ports.otlpHttp}/v1/metrics` }), {
      'service.name': 'gateway',
      'service.instance.id': 'pod-1',
    });
    let current = 0;
    pod.meter.createObservableGauge('queue_depth').addCallback((r) => r.observe(current));
    const api = `http://127.0.0.1:${app.ports.http}`;
    Object.assign(ctx, {
      app,
      keda: new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`),
      push: (v: number) => {
        current = v;
        return pod.flush();
      },
      counter: async (name: string) => {
        const text = await (await fetch(`${api}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`keda_otlp_scaler_${name} `));
        if (line === undefined) throw new Error(`/metrics has no ${name}`);
        return Number(line.split(' ')[1]);
      },
      query: async (q: string) => {
        const body = (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } };
        return Number(body.data.result[0]!.value[1]);
      },
    });
    shutdown = async () => {
      ctx.keda.close();
      await pod.provider.shutdown();
      await app.close();
    };
  });
  afterAll(() => shutdown?.());
  return ctx;
}

const ref = (name: string): ScaledObjectRef => ({
  name,
  namespace: 'obs',
  scalerMetadata: { metricQuery: 'max(queue_depth)', targetValue: '10', activationTargetValue: '1' },
});

describe('KEDA answered from the latest evaluation', () => {
  const t = setUp({ answerMaxAgeMs: 60_000 });

  it('answers GetMetrics and IsActive from a fresh evaluation without evaluating again', async () => {
    await t.push(5);
    const r = ref('reuse');
    expect((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat).toBe(5);
    const evaluated = await t.counter('scaler_evaluations_total');
    const reused = await t.counter('scaler_answers_reused_total');
    for (let i = 0; i < 3; i++) {
      expect((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat).toBe(5);
      expect((await t.keda.isActive(r)).result).toBe(true);
    }
    expect(await t.counter('scaler_evaluations_total')).toBe(evaluated);
    expect(await t.counter('scaler_answers_reused_total')).toBe(reused + 6);
  });
});

describe('answers once samples stop', () => {
  const t = setUp({ answerMaxAgeMs: 2_000 });

  it('are exact: the samples KEDA was answered without make the scaler evaluate again, and answers come from that evaluation', async () => {
    const r = ref('exact');
    await t.push(1);
    expect(await t.keda.value('max(queue_depth)')).toBe(1);
    expect((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat).toBe(1);
    await t.push(2);
    const evaluated = await t.counter('scaler_evaluations_total');
    // Answered from the evaluation made before the push (younger than the bound), or from a new one: never anything else.
    expect([1, 2]).toContain((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat);
    // Half the bound after the latest evaluation, the push is evaluated without KEDA waiting for it.
    await expect.poll(() => t.counter('scaler_evaluations_total'), { interval: 50, timeout: 5_000 }).toBeGreaterThan(evaluated);
    const reused = await t.counter('scaler_answers_reused_total');
    expect((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat).toBe(await t.query('max(queue_depth)'));
    expect(await t.counter('scaler_answers_reused_total')).toBe(reused + 1);
  });
});

describe('answers while samples arrive and after they stop', () => {
  const maxAgeMs = 1_000;
  const t = setUp({ answerMaxAgeMs: maxAgeMs });

  it('come from an evaluation made less than the bound before the call', async () => {
    // time() tells when the evaluation answered from was made.
    const r: ScaledObjectRef = { name: 'bound', namespace: 'obs', scalerMetadata: { metricQuery: 'time() + 0 * max(queue_depth)', targetValue: '1' } };
    await t.push(0);
    const evaluated = await t.counter('scaler_evaluations_total');
    const reused = await t.counter('scaler_answers_reused_total');
    const pushesEnd = Date.now() + 1_000;
    const pushes = (async () => {
      for (let k = 1; Date.now() < pushesEnd; k++) {
        await t.push(k);
        await sleep(20);
      }
    })();
    const ages: number[] = [];
    const end = pushesEnd + 2_000;
    while (Date.now() < end) {
      const sentAt = Date.now();
      const madeAt = Math.round((await t.keda.getMetrics(r)).metricValues[0]!.metricValueFloat * 1000);
      expect(madeAt).toBeLessThanOrEqual(Date.now());
      ages.push(sentAt - madeAt);
      await sleep(5);
    }
    await pushes;
    expect(Math.max(...ages)).toBeLessThan(maxAgeMs);
    // Most answers came from an earlier evaluation: the scaler evaluated less often than KEDA called.
    expect(await t.counter('scaler_answers_reused_total')).toBeGreaterThan(reused + ages.length / 2);
    expect((await t.counter('scaler_evaluations_total')) - evaluated).toBeLessThan(ages.length / 2);
  });
});

describe("answers while the store does not hold the query's window", () => {
  // A fresh process whose instant selectors read 1 s back: its window is held a second after it starts receiving.
  const t = setUp({ answerMaxAgeMs: 60_000, lookbackDeltaMs: 1_000 }, { fresh: true });

  it('are UNAVAILABLE during warm-up and after a stall, however fresh the latest evaluation, and evaluated anew after', async () => {
    const r = ref('warm-up');
    let pushing = true;
    const pushes = (async () => {
      while (pushing) {
        await t.push(3);
        await sleep(100);
      }
    })();
    try {
      await expect(t.keda.getMetrics(r)).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/the query reads 1s back; answers in 1s/) });
      await expect(t.keda.isActive(r)).rejects.toMatchObject({ code: 14 });
      // The bound (a minute) does not hold the answer back once the window is held.
      await expect.poll(() => t.keda.valueOrUndefined(r), { interval: 50, timeout: 5_000 }).toBe(3);

      // The replica stalls: it may have missed samples after its last vouch, so nothing evaluated before answers.
      t.app.tsdb.coverage.vouchLive(Date.now() - 1);
      await expect(t.keda.getMetrics(r)).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/stalled/) });
      // It resumes: a new live span, whose window is held a second later.
      t.app.tsdb.coverage.startLive(Date.now());
      t.app.tsdb.coverage.vouchLive(Infinity);
      await expect(t.keda.getMetrics(r)).rejects.toMatchObject({ code: 14, details: expect.stringMatching(/answers in 1s/) });
      const evaluated = await t.counter('scaler_evaluations_total');
      await expect.poll(() => t.keda.valueOrUndefined(r), { interval: 50, timeout: 5_000 }).toBe(3);
      expect(await t.counter('scaler_evaluations_total')).toBeGreaterThan(evaluated);
    } finally {
      pushing = false;
      await pushes;
    }
  });
});
