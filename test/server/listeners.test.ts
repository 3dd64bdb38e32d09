import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../../tools/server-process.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

/** A port held by this process, as a predecessor still draining would hold it. */
function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

const RETRYING = 'address in use, retrying (a previous process may still be draining)';

function start(grpcPort: number, onLog?: (entry: Record<string, unknown>) => void): Promise<ServerProcess> {
  return spawnServer({ entry: MAIN, execArgv: ['--import', REGISTER, '--no-warnings'], env: { SCALER_OTLP_GRPC_PORT: String(grpcPort), SCALER_LOG_LEVEL: 'info' }, onLog });
}

describe('binding a port another process still holds (the real process)', () => {
  let held: Server | undefined;
  let scaler: ServerProcess | undefined;
  afterEach(() => {
    held?.close();
    if (scaler && !scaler.gone()) scaler.child.kill('SIGKILL');
  });

  it('retries until the port is free, then listens on it', async () => {
    const h = await holdPort();
    held = h.server;
    // Let go of the port once the scaler has found it in use, as a draining predecessor would.
    scaler = await start(h.port, (entry) => {
      if (entry.msg === RETRYING) setTimeout(() => held!.close(), 500);
    });
    expect(scaler.ports.otlpGrpc).toBe(h.port);
    expect(scaler.logs.map((l) => l.msg)).toContain(RETRYING);
  }, 40_000);

  it('gives up after 10 s with one clear line on stderr and a non-zero exit code', async () => {
    const h = await holdPort();
    held = h.server;
    const started = Date.now();
    const failure = await start(h.port).then(
      () => new Error('the scaler started on a held port'),
      (e: Error) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_500);
    // spawnServer quotes the exit code and stderr: exactly one line, no stack trace.
    expect(failure.message).toBe(
      `the scaler exited with 1: cannot listen on 127.0.0.1:${h.port} (otlp-grpc): the address is still in use after 10s of retries; another process holds it\n before listening`,
    );
  }, 40_000);
});
