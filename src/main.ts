import { ConfigError, loadConfig } from './config.js';
import { startApp } from './server/app.js';
import { ListenError } from './server/listeners.js';
import { createLogger } from './server/logger.js';

let config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}
/** After SIGTERM, /readyz and gRPC health say unready this long while still serving, before the listeners close. */
const SHUTDOWN_DRAIN_MS = 2_000;

const log = createLogger(config);
let app;
try {
  app = await startApp(config, log);
} catch (e) {
  if (!(e instanceof ListenError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    app.close(SHUTDOWN_DRAIN_MS).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
