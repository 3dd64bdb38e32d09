import pino from 'pino';
import { defaultConfig, type Config } from '../../src/config.js';
import { startApp, type App } from '../../src/server/app.js';

/** The real application on ephemeral loopback ports, quiet, with no warm-up unless asked. */
export function startTestApp(overrides: Partial<Config> = {}): Promise<App> {
  const config = defaultConfig({
    listenAddress: '127.0.0.1',
    otlpGrpcPort: 0,
    otlpHttpPort: 0,
    httpPort: 0,
    warmupMs: 0,
    ...overrides,
  });
  return startApp(config, pino({ level: 'silent' }));
}
