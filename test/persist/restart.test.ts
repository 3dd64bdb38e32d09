import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';
import { apiGet, nanos, request, tempDir } from './support.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

function start(dir: string): Promise<ServerProcess> {
  return spawnServer({
    entry: MAIN,
    execArgv: ['--import', REGISTER, '--no-warnings'],
    // A ring large enough that no acknowledged sample is evicted, however many a fast machine pushes.
    env: { SCALER_DATA_DIR: dir, SCALER_SNAPSHOT_INTERVAL: '1h', SCALER_LOG_LEVEL: 'info', SCALER_MAX_SAMPLES_PER_SERIES: '1000000' },
  });
}

/** One sample of `restart_seq` a request, value k at its own millisecond. */
function sample(k: number, t: number): Buffer {
  return request([{ name: 'restart.seq', gauge: { data_points: [{ time_unix_nano: nanos(t), as_double: k }] } }], 'restart');
}

describe('a graceful restart of the real process with a data dir', () => {
  const dir = tempDir('persist-restart');
  const servers: ServerProcess[] = [];
  afterAll(() => {
    for (const s of servers) if (!s.gone()) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged sample, including those acknowledged after SIGTERM, and exits within 5 s', async () => {
    const first = await start(dir);
    servers.push(first);
    const url = `http://127.0.0.1:${first.ports.otlpHttp}/v1/metrics`;
    const acknowledged = new Map<number, number>();
    let k = 0;
    let t = Date.now() - 60_000;
    let stopped = false;
    // Pushes one request after another until the listener is gone.
    const pushing = (async () => {
      while (!stopped) {
        k++;
        t += 7;
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: sample(k, t) });
          if (res.status === 200) acknowledged.set(t, k);
          await res.arrayBuffer();
        } catch {
          stopped = true;
        }
      }
    })();
    await expect.poll(() => acknowledged.size, { timeout: 10_000 }).toBeGreaterThan(50);
    const beforeSignal = acknowledged.size;
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const shutdownMs = Date.now() - signalled;
    stopped = true;
    await pushing;
    expect(shutdownMs).toBeLessThan(5_000);
    // The drain kept taking samples after the signal; they count too.
    expect(acknowledged.size).toBeGreaterThan(beforeSignal);

    const second = await start(dir);
    servers.push(second);
    const restored = await apiGet(second.ports.http, `/api/v1/query?query=${encodeURIComponent('restart_seq[10m]')}`);
    const values: [number, string][] = restored.data.result[0].values;
    const byTime = new Map(values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)]));
    const missing = [...acknowledged].filter(([at, value]) => byTime.get(at) !== value);
    expect(missing).toEqual([]);
    expect(second.logs.find((l) => l.msg === 'snapshot restored')).toMatchObject({ series: 1 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
