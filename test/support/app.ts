import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
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

/**
 * The test app of the describe block this is called in: started before its tests (and before the
 * block's own beforeAll hooks that come after this call), closed after them. The object is filled
 * in when the app starts, so read it inside tests and hooks only.
 */
export function useTestApp(overrides: Partial<Config> = {}, options: { fresh?: boolean } = {}): App {
  const app = {} as App;
  beforeAll(async () => {
    Object.assign(app, await startTestApp(overrides, options));
  });
  afterAll(() => app.close());
  return app;
}
