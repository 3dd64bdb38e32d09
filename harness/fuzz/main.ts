import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultConfig } from '../../src/config.js';
import { startApp } from '../../src/server/app.js';
import { parseFlags } from '../cli-args.js';
import { cardinalityBomb } from './cardinality-bomb.js';
import { formatBurstReport, inflightBurst } from './inflight-burst.js';
import { pathologicalRegexTimings } from './regex-timing.js';
import { formatFuzzReport, fuzzPassed, runFuzz } from './run.js';
import { spawnServer } from '../app/spawn.js';

/**
 * `npm run fuzz -- --cases 100000 --seconds 600`: hostile input to every port of a scaler on
 * loopback, by default the built server in its own process (so a crash is seen as an exit),
 * or in this process with --in-process. Then a cardinality bomb against a fresh server process,
 * and a burst of concurrent gzip bodies against another, with the chart's default settings.
 * Exits 1 when anything was wrong.
 */
// One event loop answers every port, so a request can wait behind every other one in flight,
// each a query running to its timeout: a hang is a reply later than all of them together.
const flags = parseFlags(process.argv.slice(2), { cases: 100_000, seconds: 600, seed: 1, concurrency: 16, timeoutMs: 20_000, inProcess: false });
const limits = { maxRequestBytes: 1024 * 1024, maxDecompressedBytes: 4 * 1024 * 1024 };
/**
 * Short, so connections left mid-handshake by raw-TCP cases are seen closed, and the costliest
 * random queries are stopped, well inside the hang timeout.
 */
const CONNECTION_IDLE_MS = 2_000;
const QUERY_TIMEOUT_MS = 1_000;
const host = '127.0.0.1';
/** The cardinality bomb: the default series limit, ten times that many new series, and the chart's default memory limit. */
const BOMB_MAX_SERIES = 100_000;
const BOMB_FACTOR = 10;
const BOMB_RSS_BOUND = 512 * 2 ** 20;
/** The burst: gzip bodies at once on each transport, each inflating just under the default 32 MiB limit. */
const BURST_CONCURRENCY = 16;
const BURST_ROUNDS = 3;
const BURST_INFLATED_BYTES = 31 * 2 ** 20;

let ports;
let serverGone: () => string | undefined = () => undefined;
let rss: () => number;
let stop: () => Promise<unknown>;
if (flags.inProcess) {
  const app = await startApp(
    defaultConfig({
      listenAddress: host,
      otlpGrpcPort: 0,
      otlpHttpPort: 0,
      httpPort: 0,
      retentionMs: 3_600_000,
      connectionIdleMs: CONNECTION_IDLE_MS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      ...limits,
    }),
    pino({ level: 'silent' }),
  );
  // The load is generated against this process from its start: its store is whole, queries need no warm-up.
  app.tsdb.coverage.addRestored({ fromMs: -Infinity, toMs: Infinity });
  ports = app.ports;
  rss = () => process.memoryUsage().rss;
  stop = () => app.close();
} else {
  const server = await spawnServer({
    entry: fileURLToPath(new URL('../../src/main.js', import.meta.url)),
    env: {
      SCALER_RETENTION: '1h',
      SCALER_MAX_REQUEST_BYTES: String(limits.maxRequestBytes),
      SCALER_MAX_DECOMPRESSED_BYTES: String(limits.maxDecompressedBytes),
      SCALER_LOG_LEVEL: 'info',
      SCALER_CONNECTION_IDLE: `${CONNECTION_IDLE_MS}ms`,
      SCALER_QUERY_TIMEOUT: `${QUERY_TIMEOUT_MS}ms`,
    },
  });
  ports = server.ports;
  serverGone = server.gone;
  rss = server.rssBytes;
  stop = async () => {
    server.child.kill('SIGTERM');
    return server.exited;
  };
}

const rssBefore = rss();
const report = await runFuzz({
  host,
  ports,
  limits,
  cases: flags.cases,
  seconds: flags.seconds,
  seed: flags.seed,
  timeoutMs: flags.timeoutMs,
  concurrency: flags.concurrency,
  serverGone,
});
const rssAfter = rss();
console.log(formatFuzzReport(report));
console.log(`  server RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after`);
const regexTimings = pathologicalRegexTimings();
for (const t of regexTimings) {
  console.log(`  regex =~"${t.pattern}" against one 1 MiB label value: ${t.ms.toFixed(1)} ms, ${t.correct ? 'right answer' : 'WRONG ANSWER'}`);
}
const exit = await stop();
if (!flags.inProcess) console.log(`  server exit code after SIGTERM: ${String(exit)}`);

// A fresh server with the default series limit, judged against the chart's default memory limit.
const bombServer = await spawnServer({
  entry: fileURLToPath(new URL('../../src/main.js', import.meta.url)),
  env: { SCALER_MAX_SERIES: String(BOMB_MAX_SERIES) },
});
const bomb = await cardinalityBomb(host, bombServer.ports, BOMB_MAX_SERIES, BOMB_FACTOR, bombServer.rssBytes);
bombServer.child.kill('SIGTERM');
await bombServer.exited;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const bombHeld =
  bomb.rssPeakBytes < BOMB_RSS_BOUND &&
  bomb.rejectedReported === bomb.bombSeries &&
  bomb.metricsRejectedAfter - bomb.metricsRejectedBefore === bomb.bombSeries &&
  bomb.earlierCounted === bomb.filled;
console.log(
  [
    `cardinality bomb: ${bomb.bombSeries} new series against a limit of ${BOMB_MAX_SERIES} (${bomb.filled} stored first) — ${bombHeld ? 'held' : 'FAILED'}`,
    `  RSS ${mib(bomb.rssFilledBytes)} when full, peak ${mib(bomb.rssPeakBytes)} during the bomb (bound ${mib(BOMB_RSS_BOUND)}, the chart's memory limit)`,
    `  rejected points: ${bomb.rejectedReported} in OTLP partial_success, ${bomb.metricsRejectedAfter - bomb.metricsRejectedBefore} more on /metrics; count of the earlier series afterwards: ${bomb.earlierCounted}`,
  ].join('\n'),
);

// A fresh server with the chart's defaults: the per-request limits let each body through, the in-flight budget the total.
const burstServer = await spawnServer({ entry: fileURLToPath(new URL('../../src/main.js', import.meta.url)) });
const burst = await inflightBurst(host, burstServer.ports, {
  concurrency: BURST_CONCURRENCY,
  rounds: BURST_ROUNDS,
  inflatedBytes: BURST_INFLATED_BYTES,
  peakRssBytes: burstServer.peakRssBytes,
});
burstServer.child.kill('SIGTERM');
await burstServer.exited;
console.log(formatBurstReport(burst, BURST_CONCURRENCY, BURST_INFLATED_BYTES, BOMB_RSS_BOUND));
const burstHeld = burst.faults.length === 0 && burst.alive.length === 0 && burst.rssPeakBytes < BOMB_RSS_BOUND;
process.exit(fuzzPassed(report) && regexTimings.every((t) => t.correct) && bombHeld && burstHeld && (flags.inProcess || exit === 0) ? 0 : 1);
