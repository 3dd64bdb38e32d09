import { parseFlags } from '../cli-args.js';
import { AppChild, type ServerStats } from '../app/child.js';
import { OtlpPusher, Pod, Tally } from './load.js';
import { KedaClient } from '../clients/keda.js';

/**
 * `npm run soak -- --minutes 10`: steady OTLP ingest from many pods that are replaced every
 * minute, while ScaledObjects call GetMetrics every second and hold StreamIsActive open.
 * Prints the server's RSS and event-loop lag over time and every failed call.
 */
const flags = parseFlags(process.argv.slice(2), {
  minutes: 10,
  pods: 100,
  scaledObjects: 50,
  pushIntervalMs: 5_000,
  churnMs: 60_000,
  reportEverySeconds: 15,
  retentionMinutes: 2,
});

const app = await AppChild.start({ retentionMs: flags.retentionMinutes * 60_000 });
const ports = app.ports;
let crashed = '';
/** Set once the run is over, when streams ending and the scaler exiting are expected. */
let stopping = false;
app.onCrash((why) => (crashed = why));
const stats = () => app.stats();

const ingest = new Tally();
const getMetrics = new Tally();
const streams = new Tally();
let streamMessages = 0;
const pusher = new OtlpPusher(ports);
const pods = Array.from({ length: flags.pods }, (_, i) => new Pod(i, flags.churnMs));
const timers: NodeJS.Timeout[] = [];

// Each pod pushes on its own schedule, spread over the interval.
pods.forEach((pod, i) => {
  const start = setTimeout(
    () => {
      const push = () => void pusher.push(i % 2 === 1, pod.body(Date.now()), ingest);
      push();
      timers.push(setInterval(push, flags.pushIntervalMs));
    },
    (i * flags.pushIntervalMs) / flags.pods,
  );
  timers.push(start);
});

const QUERIES = [
  (i: number) => `sum(rate(http_server_requests_total{job="svc-${i % 10}"}[1m]))`,
  (i: number) => `max(queue_depth{job="svc-${i % 10}"})`,
  (i: number) => `histogram_quantile(0.9, sum by (le) (rate(http_server_duration_seconds_bucket{job="svc-${i % 10}"}[2m])))`,
  (i: number) => `sum(rate(http_server_requests_total{http_route="${['/', '/checkout'][i % 2]}"}[1m])) or vector(0)`,
  (i: number) => `count(count by (instance) (queue_depth{job="svc-${i % 10}"})) or vector(0)`,
];
// KEDA's operator talks to the scaler over one connection per address: half the ScaledObjects on each gRPC port.
const keda = [new KedaClient(`127.0.0.1:${ports.otlpGrpc}`), new KedaClient(`127.0.0.1:${ports.otlpHttp}`)];
const calls: { emit: unknown; cancel(): void }[] = [];
for (let i = 0; i < flags.scaledObjects; i++) {
  const client = keda[i % 2]!;
  const ref = {
    name: `so-${i}`,
    namespace: 'soak',
    scalerMetadata: { metricQuery: QUERIES[i % QUERIES.length]!(i), targetValue: '5', activationTargetValue: '1' },
  };
  const stream = client.raw.StreamIsActive!(ref) as unknown as NodeJS.EventEmitter & { cancel(): void; emit: unknown };
  stream.on('data', () => streamMessages++);
  stream.on('error', (err: Error) => {
    if (!stopping) streams.fail(`StreamIsActive so-${i}: ${err.message}`);
  });
  stream.on('end', () => {
    if (!stopping) streams.fail(`StreamIsActive so-${i} ended`);
  });
  calls.push(stream);
  streams.ok++;
  const poll = setInterval(() => {
    client.getMetrics(ref).then(
      () => getMetrics.ok++,
      (err: Error) => getMetrics.fail(`GetMetrics so-${i}: ${err.message}`),
    );
  }, 1_000);
  timers.push(poll);
}

/** What a soak must hold to: RSS growth after warm-up, and the event loop's p99 lag. */
const MAX_RSS_GROWTH = 0.1;
const MAX_LAG_P99_MS = 50;

const started = Date.now();
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const rows: { t: number; s: ServerStats }[] = [];
console.log(
  `soak: ${flags.minutes} min, ${flags.pods} pods pushing every ${flags.pushIntervalMs / 1000}s (replaced every ${flags.churnMs / 1000}s), ${flags.scaledObjects} ScaledObjects polling GetMetrics every 1s with StreamIsActive open; retention ${flags.retentionMinutes}m`,
);
console.log('   t(s)   RSS MiB  heap MiB   series  lag p99 ms  lag max ms  ingest ok/err  GetMetrics ok/err  stream msgs');
while (Date.now() - started < flags.minutes * 60_000 && !crashed) {
  await new Promise((r) => setTimeout(r, flags.reportEverySeconds * 1000));
  const s = await stats();
  const t = (Date.now() - started) / 1000;
  rows.push({ t, s });
  console.log(
    `${t.toFixed(0).padStart(7)} ${mib(s.rss).padStart(9)} ${mib(s.heapUsed).padStart(9)} ${String(s.series).padStart(8)} ${s.lagP99Ms.toFixed(1).padStart(11)} ${s.lagMaxMs.toFixed(1).padStart(11)}  ${`${ingest.ok}/${ingest.failed}`.padStart(13)}  ${`${getMetrics.ok}/${getMetrics.failed}`.padStart(17)}  ${String(streamMessages).padStart(11)}`,
  );
}

stopping = true;
for (const t of timers) clearInterval(t);
for (const c of calls) c.cancel();
// Warm-up: the first third of the run, at least one retention period, when series counts settle.
const warm = rows.filter((r) => r.t >= Math.min(flags.retentionMinutes * 60 + flags.churnMs / 1000, (flags.minutes * 60) / 3));
const base = warm[0]?.s.rss ?? rows[0]?.s.rss ?? 0;
const last = rows.at(-1)?.s.rss ?? 0;
const peak = Math.max(...warm.map((r) => r.s.rss), 0);
const lagP99 = Math.max(...rows.map((r) => r.s.lagP99Ms), 0);
const growth = (peak - base) / base;
const failedCalls = ingest.failed + getMetrics.failed + streams.failed;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
console.log(
  [
    `summary: ${crashed || 'scaler alive'}; RSS after warm-up ${mib(base)} MiB, at end ${mib(last)} MiB, peak ${mib(peak)} MiB (${(growth * 100).toFixed(1)}% over warm-up; ≤ ${MAX_RSS_GROWTH * 100}%: ${verdict(growth <= MAX_RSS_GROWTH)})`,
    `  event-loop lag p99: worst ${lagP99.toFixed(1)} ms over ${flags.reportEverySeconds}s windows (< ${MAX_LAG_P99_MS} ms: ${verdict(lagP99 < MAX_LAG_P99_MS)})`,
    `  failed calls: ingest ${ingest.failed}/${ingest.ok + ingest.failed}, GetMetrics ${getMetrics.failed}/${getMetrics.ok + getMetrics.failed}, streams ${streams.failed}/${streams.ok}`,
    ...[ingest, getMetrics, streams].filter((t) => t.failed > 0).map((t) => `  last error: ${t.lastError}`),
  ].join('\n'),
);
pusher.close();
for (const k of keda) k.close();
await app.stop();
process.exit(crashed || failedCalls > 0 || growth > MAX_RSS_GROWTH || lagP99 >= MAX_LAG_P99_MS ? 1 : 0);
