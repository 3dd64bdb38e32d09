import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultConfig } from '../src/config.js';
import { startApp } from '../src/server/app.js';
import { parseFlags } from '../tools/cli-args.js';
import { pathologicalRegexTimings } from '../tools/fuzz/regex-timing.js';
import { formatFuzzReport, fuzzPassed, runFuzz } from '../tools/fuzz/run.js';
import { spawnServer } from '../tools/server-process.js';

/**
 * `npm run fuzz -- --cases 100000 --seconds 600`: hostile input to every port of a scaler on
 * loopback, by default the built server in its own process (so a crash is seen as an exit),
 * or in this process with --in-process. Exits 1 when anything was wrong.
 */
const flags = parseFlags(process.argv.slice(2), { cases: 100_000, seconds: 600, seed: 1, concurrency: 16, timeoutMs: 10_000, inProcess: false });
const limits = { maxRequestBytes: 1024 * 1024, maxDecompressedBytes: 4 * 1024 * 1024 };
/** Short, so connections left mid-handshake by raw-TCP cases are seen closed well inside the hang timeout. */
const CONNECTION_IDLE_MS = 2_000;
const host = '127.0.0.1';

let ports;
let serverGone: () => string | undefined = () => undefined;
let rss: () => number;
let stop: () => Promise<unknown>;
if (flags.inProcess) {
  const app = await startApp(
    defaultConfig({ listenAddress: host, otlpGrpcPort: 0, otlpHttpPort: 0, httpPort: 0, warmupMs: 0, retentionMs: 3_600_000, connectionIdleMs: CONNECTION_IDLE_MS, ...limits }),
    pino({ level: 'silent' }),
  );
  ports = app.ports;
  rss = () => process.memoryUsage().rss;
  stop = () => app.close();
} else {
  const server = await spawnServer({
    entry: fileURLToPath(new URL('../src/main.js', import.meta.url)),
    env: { SCALER_RETENTION: '1h', SCALER_MAX_REQUEST_BYTES: String(limits.maxRequestBytes), SCALER_MAX_DECOMPRESSED_BYTES: String(limits.maxDecompressedBytes), SCALER_LOG_LEVEL: 'info', SCALER_CONNECTION_IDLE: `${CONNECTION_IDLE_MS}ms` },
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
const report = await runFuzz({ host, ports, limits, cases: flags.cases, seconds: flags.seconds, seed: flags.seed, timeoutMs: flags.timeoutMs, concurrency: flags.concurrency, serverGone });
const rssAfter = rss();
console.log(formatFuzzReport(report));
console.log(`  server RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after`);
const regexTimings = pathologicalRegexTimings();
for (const t of regexTimings) {
  console.log(`  regex =~"${t.pattern}" against one 1 MiB label value: ${t.ms.toFixed(1)} ms, ${t.correct ? 'right answer' : 'WRONG ANSWER'}`);
}
const exit = await stop();
if (!flags.inProcess) console.log(`  server exit code after SIGTERM: ${String(exit)}`);
process.exit(fuzzPassed(report) && regexTimings.every((t) => t.correct) && (flags.inProcess || exit === 0) ? 0 : 1);
