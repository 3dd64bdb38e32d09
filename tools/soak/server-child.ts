import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { defaultConfig, type Config } from '../../src/config.js';
import { startApp } from '../../src/server/app.js';

/**
 * The scaler under soak, in a process of its own (forked with IPC), so the load generator does
 * not share its event loop. It measures its own event-loop delay and answers 'stats' requests.
 */
export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  series: number;
  /** Event-loop delay since the previous request, in ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}

const overrides = JSON.parse(process.env.SOAK_APP_CONFIG ?? '{}') as Partial<Config>;
const app = await startApp(
  defaultConfig({ listenAddress: '127.0.0.1', otlpGrpcPort: 0, otlpHttpPort: 0, httpPort: 0, ...overrides }),
  pino({ level: 'silent' }),
);
// The load is generated against this process from its start: its store is whole, queries need no warm-up.
app.tsdb.coverage.addRestored({ fromMs: -Infinity, toMs: Infinity });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    const stats: ServerStats = {
      rssBytes: process.memoryUsage().rss,
      heapUsedBytes: process.memoryUsage().heapUsed,
      series: app.tsdb.seriesCount,
      lagP99Ms: lag.percentile(99) / 1e6,
      lagMaxMs: lag.max / 1e6,
    };
    lag.reset();
    process.send!({ type: 'stats', stats });
  } else if (msg.type === 'close') {
    void app.close().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', ports: app.ports });
