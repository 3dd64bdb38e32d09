import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BoundPorts } from '../../src/server/app.js';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';
import { pollGetMetrics, type Answer as KedaAnswer } from '../support/keda-polling.js';
import { podMeterProvider } from '../support/otel.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

/** Spans a second each pod accepts: two pods, 200/s in total. */
const PER_POD = 100;
const TRUE_RATE = 2 * PER_POD;
const TOLERANCE = 0.02;
const POLL_MS = 500;
const S = 1_000;
/** How late after the restart the pods' exporters may resume (gRPC reconnect backoff grows while the port is closed). */
const RECONNECT_ALLOWANCE_MS = 12 * S;

const TRIGGERS = {
  plain: { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans[1m]))', targetValue: '1000' },
  // Kedify's form: becomes sum(rate(otelcol_receiver_accepted_spans{job="gateway"}[2m])).
  kedify: { metricQuery: 'sum(otelcol_receiver_accepted_spans{job=gateway})', operationOverTime: 'rate', targetValue: '1000' },
  // For the crash: a window the first process covers in seconds, so the run stays short.
  short: { metricQuery: 'sum(rate(otelcol_receiver_accepted_spans[20s]))', targetValue: '1000' },
} as const;
type TriggerName = keyof typeof TRIGGERS;
const WINDOW_MS: Record<TriggerName, number> = { plain: 60 * S, kedify: 120 * S, short: 20 * S };

type Answer = KedaAnswer<TriggerName>;

/**
 * Two collector pods, each an OpenTelemetry SDK with the real OTLP/gRPC exporter pushing every
 * second a counter that grows PER_POD a second of wall time, read when the SDK collects: the true
 * rate is exact whenever and however often a push lands.
 */
function startPods(port: number) {
  const t0 = Date.now();
  const pods = ['pod-a', 'pod-b'].map((instance) => {
    const pod = podMeterProvider(new OTLPMetricExporter({ url: `http://127.0.0.1:${port}` }), { 'service.name': 'gateway', 'service.instance.id': instance });
    pod.meter.createObservableCounter('otelcol_receiver_accepted_spans').addCallback((r) => r.observe((PER_POD * (Date.now() - t0)) / S));
    return pod;
  });
  const timer = setInterval(() => {
    for (const pod of pods) pod.flush().catch(() => undefined);
  }, S);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pods.map((p) => p.provider.shutdown().catch(() => undefined)));
    },
  };
}

interface Persistence {
  dataDir: string | undefined;
  wal?: boolean;
}

function spawnScaler(ports: BoundPorts | undefined, { dataDir, wal }: Persistence): Promise<ServerProcess> {
  const env: Record<string, string> = { SCALER_LOG_LEVEL: 'info' };
  if (ports) {
    env.SCALER_OTLP_GRPC_PORT = String(ports.otlpGrpc);
    env.SCALER_OTLP_HTTP_PORT = String(ports.otlpHttp);
    env.SCALER_HTTP_PORT = String(ports.http);
  }
  if (dataDir) env.SCALER_DATA_DIR = dataDir;
  if (wal) env.SCALER_WAL = 'true';
  return spawnServer({ entry: MAIN, execArgv: ['--import', REGISTER, '--no-warnings'], env, startTimeoutMs: 60_000 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  /** When the restarted process was listening. */
  restartedAt: number;
  /** Every answer from the SIGTERM on. */
  after: Answer[];
}

/**
 * Pushes and polls against a scaler for `beforeMs`, signals it (SIGTERM, or SIGKILL for a crash),
 * starts a new process on the same ports at once (after SIGTERM it waits for them while the old
 * one drains), and goes on for `afterMs`.
 */
async function restartMidStream(
  beforeMs: number,
  afterMs: number,
  persistence: Persistence,
  triggers: readonly TriggerName[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<Run> {
  const processes: ServerProcess[] = [];
  const first = await spawnScaler(undefined, persistence);
  processes.push(first);
  const pods = startPods(first.ports.otlpGrpc);
  const chosen: Partial<Record<TriggerName, Record<string, string>>> = {};
  for (const t of triggers) chosen[t] = TRIGGERS[t];
  const keda = pollGetMetrics(first.ports.otlpHttp, chosen as Record<TriggerName, Record<string, string>>, 'restart', POLL_MS);
  try {
    await sleep(beforeMs);
    const signalled = Date.now();
    first.child.kill(signal);
    const second = await spawnScaler(first.ports, persistence);
    processes.push(second);
    expect(await first.exited).toBe(signal === 'SIGTERM' ? 0 : signal);
    const restartedAt = Date.now();
    await sleep(afterMs);
    return { restartedAt, after: keda.answers.filter((a) => a.at >= signalled) };
  } finally {
    await keda.stop();
    await pods.stop();
    for (const p of processes) if (!p.gone()) p.child.kill('SIGKILL');
  }
}

/** Relative error of a value against the true rate. */
const relError = (v: number) => (v - TRUE_RATE) / TRUE_RATE;

function summary(run: Run, trigger: TriggerName) {
  const mine = run.after.filter((a) => a.trigger === trigger);
  const values = mine.filter((a) => a.value !== undefined);
  const firstValue = values.find((a) => a.at >= run.restartedAt);
  return {
    answers: mine,
    wrong: mine.filter((a) => (a.value !== undefined ? Math.abs(relError(a.value)) > TOLERANCE : a.code !== status.UNAVAILABLE)),
    worstError: Math.max(0, ...values.map((a) => Math.abs(relError(a.value!)))),
    unavailableForMs: firstValue === undefined ? undefined : firstValue.at - run.restartedAt,
  };
}

describe('a restart mid-stream: every answer is right or UNAVAILABLE, never low (real processes, SDK exporters, KEDA client)', () => {
  let dataDir: string | undefined;
  afterEach(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('without a data dir: UNAVAILABLE until each window is covered again, then right', async () => {
    const run = await restartMidStream(5 * S, 75 * S, { dataDir: undefined }, ['plain', 'kedify']);
    const plain = summary(run, 'plain');
    const kedify = summary(run, 'kedify');
    console.log(
      `restart without data dir: plain unavailable for ${plain.unavailableForMs} ms after the restart, worst error ${(plain.worstError * 100).toFixed(3)} %; kedify ${kedify.answers.length} answers, all UNAVAILABLE: ${kedify.answers.every((a) => a.code === status.UNAVAILABLE)}`,
    );
    expect(plain.wrong).toEqual([]);
    expect(kedify.wrong).toEqual([]);
    // The plain trigger answers once its minute is covered (from when the pods' exporters have
    // reconnected, which their gRPC backoff may delay by some seconds), and from then on every time.
    expect(plain.unavailableForMs).toBeGreaterThanOrEqual(WINDOW_MS.plain - 2 * S);
    expect(plain.unavailableForMs).toBeLessThanOrEqual(WINDOW_MS.plain + RECONNECT_ALLOWANCE_MS);
    expect(plain.answers.filter((a) => a.at > run.restartedAt + plain.unavailableForMs! && a.value === undefined)).toEqual([]);
    // The Kedify window (2m) is not covered within the run: the restarted process says when it will be.
    const promises = kedify.answers.filter((a) => a.at > run.restartedAt && /answers in \d+s/.test(a.details ?? ''));
    expect(promises.length).toBeGreaterThan(100);
    for (const a of promises) {
      const left = Number(/answers in (\d+)s/.exec(a.details!)![1]) * S;
      expect(left).toBeGreaterThanOrEqual(WINDOW_MS.kedify - (a.at - run.restartedAt) - 2 * S);
    }
  }, 240_000);

  it('with a data dir: no warm-up where the restored window covers the query, right answers throughout', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'scaler-restart-'));
    const run = await restartMidStream(65 * S, 65 * S, { dataDir }, ['plain', 'kedify']);
    const plain = summary(run, 'plain');
    const kedify = summary(run, 'kedify');
    console.log(
      `restart with data dir: plain unavailable for ${plain.unavailableForMs} ms, worst error ${(plain.worstError * 100).toFixed(3)} %; kedify unavailable for ${kedify.unavailableForMs} ms, worst error ${(kedify.worstError * 100).toFixed(3)} %`,
    );
    expect(plain.wrong).toEqual([]);
    expect(kedify.wrong).toEqual([]);
    // The first process held the plain trigger's minute, so the restarted one answers as soon as
    // the pods' exporters have reconnected, not a minute later.
    expect(plain.unavailableForMs).toBeLessThanOrEqual(RECONNECT_ALLOWANCE_MS);
    // A minute on, the window's start crosses the time the pods could not push (the restart's
    // gap): it waits again while it does, about as long as the gap, rather than answer low.
    const later = plain.answers.filter((a) => a.at > run.restartedAt + plain.unavailableForMs! && a.value === undefined);
    if (later.length > 0) expect(later[later.length - 1]!.at - later[0]!.at).toBeLessThanOrEqual(RECONNECT_ALLOWANCE_MS + 15 * S);
    // The Kedify trigger's 2m window is covered 2m after the first process started: within the run.
    expect(kedify.unavailableForMs).toBeDefined();
    expect(kedify.answers.filter((a) => a.at > run.restartedAt + kedify.unavailableForMs! && a.value === undefined)).toEqual([]);
  }, 300_000);

  it('a crash (SIGKILL) with a data dir and --wal: right answers as soon as the pods reconnect, as after a graceful restart', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'scaler-crash-'));
    const run = await restartMidStream(WINDOW_MS.short + 5 * S, 20 * S, { dataDir, wal: true }, ['short'], 'SIGKILL');
    const short = summary(run, 'short');
    console.log(`crash with data dir and wal: unavailable for ${short.unavailableForMs} ms, worst error ${(short.worstError * 100).toFixed(3)} %`);
    expect(short.wrong).toEqual([]);
    expect(short.unavailableForMs).toBeLessThanOrEqual(RECONNECT_ALLOWANCE_MS);
  }, 180_000);
});
