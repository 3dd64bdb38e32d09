import pino from 'pino';
import { defaultConfig } from '../src/config.js';
import { startApp } from '../src/server/app.js';

/**
 * The scaler under test in a process of its own, as in production: the load generator and the
 * KEDA client in the bench process then do not share its event loop. It reports its ports over
 * IPC and answers memory requests (after a forced GC when asked).
 */
const overrides = JSON.parse(process.env.BENCH_APP_CONFIG ?? '{}') as Record<string, unknown>;
const config = defaultConfig({ listenAddress: '127.0.0.1', otlpGrpcPort: 0, otlpHttpPort: 0, httpPort: 0, logLevel: 'silent', ...overrides });
const app = await startApp(config, pino({ level: 'silent' }));
// The load is generated against this process from its start: its store is whole, queries need no warm-up.
app.tsdb.coverage.addRestored({ fromMs: -Infinity, toMs: Infinity });

process.on('message', (msg: { type: string; gc?: boolean }) => {
  if (msg.type === 'memory') {
    if (msg.gc && globalThis.gc) {
      globalThis.gc();
      globalThis.gc();
    }
    const m = process.memoryUsage();
    process.send!({ type: 'memory', memory: { ...m, series: app.tsdb.seriesCount } });
  } else if (msg.type === 'close') {
    void app.close().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', ports: app.ports });
