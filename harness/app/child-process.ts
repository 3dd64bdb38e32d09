import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { defaultConfig, type Config } from '../../src/config.js';
import { startApp } from '../../src/server/app.js';

/**
 * The scaler under load (bench, soak) in a process of its own, as in production: the load
 * generator and the KEDA client then do not share its event loop. Started by AppChild (child.ts)
 * with its settings in HARNESS_APP_CONFIG; it reports its ports over IPC and answers 'stats'
 * requests (after a forced GC when asked).
 */
export interface ServerStats extends NodeJS.MemoryUsage {
  series: number;
  /** Event-loop delay since the previous request, in ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}

const overrides = JSON.parse(process.env.HARNESS_APP_CONFIG ?? '{}') as Partial<Config>;
const config = defaultConfig({ listenAddress: '127.0.0.1', otlpGrpcPort: 0, otlpHttpPort: 0, httpPort: 0, logLevel: 'silent', ...overrides });
const app = await startApp(config, pino({ level: 'silent' }));
// The load is generated against this process from its start: its store is whole, queries need no warm-up.
app.tsdb.coverage.addRestored({ fromMs: -Infinity, toMs: Infinity });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

process.on('message', (msg: { type: string; gc?: boolean }) => {
  if (msg.type === 'stats') {
    if (msg.gc && globalThis.gc) {
      globalThis.gc();
      globalThis.gc();
    }
    const stats: ServerStats = { ...process.memoryUsage(), series: app.tsdb.seriesCount, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 };
    lag.reset();
    process.send!({ type: 'stats', stats });
  } else if (msg.type === 'close') {
    void app.close().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', ports: app.ports });
