import pino from 'pino';
import { defaultConfig, type Config } from '../../src/config.js';
import { startApp, type App } from '../../src/server/app.js';
import type { Tsdb } from '../../src/tsdb/db.js';

/**
 * Declares that the store holds every sample of all time, as if restored: queries are answered at
 * once, however far back they read, for tests whose data is complete by construction.
 */
export function holdEverything(tsdb: Tsdb): void {
  tsdb.coverage.addRestored({ fromMs: -Infinity, toMs: Infinity });
}

/**
 * The real application on ephemeral loopback ports, quiet. Its store holds everything unless
 * `fresh`, which leaves it as a process just started: queries wait until their window is covered.
 */
export async function startTestApp(overrides: Partial<Config> = {}, { fresh = false } = {}): Promise<App> {
  const config = defaultConfig({
    listenAddress: '127.0.0.1',
    otlpGrpcPort: 0,
    otlpHttpPort: 0,
    httpPort: 0,
    ...overrides,
  });
  const app = await startApp(config, pino({ level: 'silent' }));
  if (!fresh) holdEverything(app.tsdb);
  return app;
}
