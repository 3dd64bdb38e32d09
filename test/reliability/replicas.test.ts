import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { status } from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';
import { freePorts } from '../../harness/free-ports.js';
import { pollGetMetrics, type Answer } from '../support/keda-polling.js';
import { podMeterProvider } from '../support/otel.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

const S = 1_000;
/** Spans a second each sender accepts: two senders, 200/s in total. */
const PER_SENDER = 100;
const TRUE_RATE = 2 * PER_SENDER;
const TOLERANCE = 0.01;
const WINDOW_S = 6;
const QUERY = `sum(rate(otelcol_receiver_accepted_spans[${WINDOW_S}s]))`;
const POLL_MS = 250;
/** Small, so a peer that stops answering fills it within seconds. */
const PEER_QUEUE_BYTES = 768;

interface Ports {
  otlpGrpc: number;
  otlpHttp: number;
  http: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnReplica(ports: Ports, peers: string): Promise<ServerProcess> {
  return spawnServer({
    entry: MAIN,
    execArgv: ['--import', REGISTER, '--no-warnings'],
    env: {
      SCALER_LOG_LEVEL: 'info',
      SCALER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
      SCALER_OTLP_HTTP_PORT: String(ports.otlpHttp),
      SCALER_HTTP_PORT: String(ports.http),
      SCALER_PEERS: peers,
      SCALER_PEER_QUEUE_BYTES: String(PEER_QUEUE_BYTES),
    },
    startTimeoutMs: 60_000,
  });
}

/**
 * A collector pod: an OpenTelemetry SDK with the real OTLP/gRPC exporter pushing every second a
 * counter that grows PER_SENDER a second of wall time, read when the SDK collects, so the true
 * rate is exact whenever a push lands. Every export's duration is kept.
 */
function startSender(port: number, instance: string) {
  const t0 = Date.now();
  const pod = podMeterProvider(new OTLPMetricExporter({ url: `http://127.0.0.1:${port}` }), { 'service.name': 'gateway', 'service.instance.id': instance });
  pod.meter.createObservableCounter('otelcol_receiver_accepted_spans').addCallback((r) => r.observe((PER_SENDER * (Date.now() - t0)) / S));
  const exports: { at: number; ms: number }[] = [];
  const timer = setInterval(() => {
    const at = Date.now();
    pod.flush().then(
      () => exports.push({ at, ms: Date.now() - at }),
      () => undefined,
    );
  }, S);
  return {
    exports,
    stop: async () => {
      clearInterval(timer);
      await pod.provider.shutdown().catch(() => undefined);
    },
  };
}

/** KEDA's operator polling GetMetrics on one replica, recording every answer. */
function startPolling(port: number) {
  return pollGetMetrics(port, { rate: { metricQuery: QUERY, targetValue: '1000' } }, 'replicas', POLL_MS);
}

const relError = (v: number) => Math.abs(v - TRUE_RATE) / TRUE_RATE;
const right = (a: Answer) => a.value !== undefined && relError(a.value) <= TOLERANCE;
/** An answer KEDA can act on safely: within 1 %, or UNAVAILABLE (KEDA holds). */
const safe = (a: Answer) => right(a) || a.code === status.UNAVAILABLE;

async function dropped(ports: Ports): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('keda_otlp_scaler_replication_dropped_total') && l.includes('reason="queue_full"'))
    .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
}

describe('three replicas on loopback: every one answers right, through a SIGKILL and a frozen peer (real processes, SDK exporters, KEDA client)', () => {
  it('answers within 1 % on every replica, no warm-up after a restart, and collectors never wait on a stuck peer', async () => {
    const flat = await freePorts(9);
    const ports: Ports[] = [0, 1, 2].map((i) => ({ otlpGrpc: flat[3 * i]!, otlpHttp: flat[3 * i + 1]!, http: flat[3 * i + 2]! }));
    const peers = ports.map((p) => `127.0.0.1:${p.otlpGrpc}:${p.http}`).join(',');
    const replicas = await Promise.all(ports.map((p) => spawnReplica(p, peers)));
    const processes = [...replicas];
    const senders = [startSender(ports[0]!.otlpGrpc, 'pod-a'), startSender(ports[1]!.otlpGrpc, 'pod-b')];
    const polls = ports.map((p) => startPolling(p.otlpGrpc));
    try {
      // Every replica holds the window once it has been up for it.
      await sleep((WINDOW_S + 4) * S);
      const steadyFrom = Date.now();
      await sleep(4 * S);
      for (const [i, poll] of polls.entries()) {
        const steady = poll.answers.filter((a) => a.at >= steadyFrom);
        expect(steady.length, `replica ${i} answers`).toBeGreaterThan(8);
        expect(
          steady.filter((a) => !right(a)),
          `replica ${i}: answers not within 1 %`,
        ).toEqual([]);
      }

      // SIGKILL replica 2 and start it again on the same ports: it catches up from a peer before it
      // is ready, so its first answers are right; the other two answer throughout.
      const killedAt = Date.now();
      replicas[2]!.child.kill('SIGKILL');
      await replicas[2]!.exited;
      // KEDA's client backs off reconnecting to a refused port; a fresh one measures the server, not that backoff.
      await polls[2]!.stop();
      replicas[2] = await spawnReplica(ports[2]!, peers);
      processes.push(replicas[2]);
      const readyAt = Date.now();
      polls[2] = startPolling(ports[2]!.otlpGrpc);
      await sleep(3 * S);
      const restarted = polls[2]!.answers.filter((a) => a.at >= readyAt);
      expect(restarted.length).toBeGreaterThan(4);
      expect(
        restarted.filter((a) => !right(a)),
        'the restarted replica: answers not within 1 %',
      ).toEqual([]);
      for (const i of [0, 1]) {
        const during = polls[i]!.answers.filter((a) => a.at >= killedAt);
        expect(
          during.filter((a) => !right(a)),
          `replica ${i} while replica 2 restarted`,
        ).toEqual([]);
        const gaps = during.slice(1).map((a, k) => a.at - during[k]!.at);
        expect(Math.max(...gaps), `replica ${i} kept answering`).toBeLessThan(2 * S);
      }

      // Freeze replica 2 (SIGSTOP): its peers' forwards to it time out and their queues for it fill.
      const droppedBefore = (await dropped(ports[0]!)) + (await dropped(ports[1]!));
      const frozenAt = Date.now();
      replicas[2]!.child.kill('SIGSTOP');
      await sleep(9 * S);
      const frozenExports = senders.flatMap((s) => s.exports.filter((e) => e.at >= frozenAt));
      expect(frozenExports.length).toBeGreaterThan(10);
      expect(Math.max(...frozenExports.map((e) => e.ms)), 'a collector waited on the frozen peer').toBeLessThan(500);
      const droppedDuring = (await dropped(ports[0]!)) + (await dropped(ports[1]!)) - droppedBefore;
      expect(droppedDuring).toBeGreaterThan(0);
      for (const i of [0, 1]) {
        const during = polls[i]!.answers.filter((a) => a.at >= frozenAt);
        expect(
          during.filter((a) => !right(a)),
          `replica ${i} while replica 2 was frozen`,
        ).toEqual([]);
      }
      // Thawed, it knows it missed requests: it answers UNAVAILABLE until its window is whole again, never low.
      const thawedAt = Date.now();
      replicas[2]!.child.kill('SIGCONT');
      await sleep((WINDOW_S + 6) * S);
      const thawed = polls[2]!.answers.filter((a) => a.at >= frozenAt);
      expect(
        thawed.filter((a) => !safe(a)),
        'the thawed replica answered wrong',
      ).toEqual([]);
      expect(
        thawed.filter((a) => a.at >= thawedAt + (WINDOW_S + 3) * S && !right(a)),
        'the thawed replica answers again',
      ).toEqual([]);
      console.log(
        `replicas: restarted replica's first answer ${restarted[0]!.value} (${(relError(restarted[0]!.value!) * 100).toFixed(3)} %) ${restarted[0]!.at - readyAt} ms after ready; ` +
          `${droppedDuring} forwards dropped while frozen; slowest export then ${Math.max(...frozenExports.map((e) => e.ms))} ms; ` +
          `thawed replica: ${thawed.filter((a) => a.code === status.UNAVAILABLE).length} UNAVAILABLE, ${thawed.filter(right).length} right`,
      );
    } finally {
      for (const p of processes) {
        if (p.gone()) continue;
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
      }
      await Promise.all(polls.map((p) => p.stop()));
      await Promise.all(senders.map((s) => s.stop()));
    }
  }, 120_000);
});
