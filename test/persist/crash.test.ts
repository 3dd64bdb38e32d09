import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';
import { KedaClient } from '../../harness/clients/keda.js';
import { encodeV1, postRemoteWrite, snappy, V1_CONTENT_TYPE } from '../remotewrite/client.js';
import { apiGet, nanos, request, tempDirs } from './support.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));

function start(dir: string, wal: boolean, env: Record<string, string>): Promise<ServerProcess> {
  return spawnServer({
    entry: MAIN,
    execArgv: ['--import', REGISTER, '--no-warnings'],
    // Snapshots every second, so the crash comes after several: segments are cut and deleted under the load.
    env: {
      SCALER_DATA_DIR: dir,
      SCALER_WAL: String(wal),
      SCALER_SNAPSHOT_INTERVAL: '1s',
      SCALER_LOG_LEVEL: 'info',
      SCALER_MAX_SAMPLES_PER_SERIES: '1000000',
      ...env,
    },
  });
}

type Kind = 'protobuf' | 'json' | 'remote-write';
const KINDS: Kind[] = ['protobuf', 'json', 'remote-write'];

/**
 * Request k, of one of the three kinds a collector or agent sends: a gauge sample k at t in OTLP
 * protobuf, a delta of 1 over (t - 9 ms, t] in OTLP/JSON, or a gauge sample k at t in remote write 1.0.
 */
function send(ports: ServerProcess['ports'], kind: Kind, k: number, t: number): Promise<Response> {
  const otlp = `http://127.0.0.1:${ports.otlpHttp}/v1/metrics`;
  if (kind === 'protobuf') {
    const body = request([{ name: 'crash.seq', gauge: { data_points: [{ time_unix_nano: nanos(t), as_double: k }] } }], 'crash');
    return fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  }
  if (kind === 'json') {
    const point = { startTimeUnixNano: nanos(t - 9), timeUnixNano: nanos(t), asInt: '1' };
    const metric = { name: 'crash.deltas', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point] } };
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'crash' } }] };
    const body = JSON.stringify({ resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [metric] }] }] });
    return fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  }
  const body = snappy(encodeV1([{ labels: { __name__: 'crash_rw', job: 'crash' }, samples: [{ value: k, timestamp: t }] }]));
  return postRemoteWrite(`http://127.0.0.1:${ports.http}/api/v1/write`, body, V1_CONTENT_TYPE);
}

async function valuesByTime(port: number, selector: string): Promise<Map<number, number>> {
  const answer = await apiGet(port, `/api/v1/query?query=${encodeURIComponent(`${selector}[10m]`)}`);
  const values: [number, string][] = answer.data.result[0]?.values ?? [];
  return new Map(values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)]));
}

/**
 * Pushes one request after another, cycling through the kinds, until at least `count` are
 * acknowledged and a few snapshots have been written; then SIGKILLs the process (no shutdown
 * snapshot) with no request in flight but the one it may be storing.
 */
async function pushThenKill(server: ServerProcess, count: number) {
  const acknowledged: { kind: Kind; k: number; t: number }[] = [];
  let t = Date.now() - 60_000;
  const started = Date.now();
  for (let k = 1; acknowledged.length < count || Date.now() - started < 3_500; k++) {
    const kind = KINDS[k % KINDS.length]!;
    t += 10;
    const res = await send(server.ports, kind, k, t);
    await res.arrayBuffer();
    expect(res.status).toBeLessThan(300);
    acknowledged.push({ kind, k, t });
  }
  server.child.kill('SIGKILL');
  await server.exited;
  return acknowledged;
}

const dataDir = tempDirs('persist-crash');
const servers: ServerProcess[] = [];
afterAll(() => {
  for (const s of servers) if (!s.gone()) s.child.kill('SIGKILL');
});

/** Pushes into a scaler with a data dir, SIGKILLs it, and starts a new one on the same data dir. */
async function crashAndRestart(wal: boolean, env: Record<string, string> = {}, beforePush?: (server: ServerProcess) => Promise<void>) {
  const dir = dataDir();
  const first = await start(dir, wal, env);
  servers.push(first);
  await beforePush?.(first);
  const acknowledged = await pushThenKill(first, 300);
  // The crash came after snapshots: the store is rebuilt from one, and from the log written since it.
  expect(existsSync(join(dir, 'snapshot'))).toBe(true);
  const second = await start(dir, wal, env);
  servers.push(second);
  return { acknowledged, second };
}

describe('a crash of the real process (SIGKILL) with a data dir', () => {
  it('with --wal: keeps every acknowledged sample of every kind, and delta totals count each interval once', async () => {
    const { acknowledged, second } = await crashAndRestart(true);
    const replayed = second.logs.find((l) => l.msg === 'write-ahead log replayed');
    expect(replayed).toMatchObject({ damaged: 0, refused: 0 });
    expect(replayed!.records).toBeGreaterThan(0);

    const seq = await valuesByTime(second.ports.http, 'crash_seq');
    const rw = await valuesByTime(second.ports.http, 'crash_rw');
    const missing = acknowledged.filter(({ kind, k, t }) => kind !== 'json' && (kind === 'protobuf' ? seq : rw).get(t) !== k);
    expect(missing).toEqual([]);
    // The delta total is cumulative: its last value is how many intervals were counted, each once
    // although the newest snapshot and the log both hold some of them.
    const deltas = acknowledged.filter((a) => a.kind === 'json');
    const totals = await valuesByTime(second.ports.http, 'crash_deltas_total');
    expect(totals.get(deltas[deltas.length - 1]!.t)).toBe(deltas.length);
    expect(Math.max(...totals.values())).toBe(deltas.length);
  }, 60_000);

  it('with --wal in lazy mode: the log keeps the names the restored store kept, before any trigger asks again', async () => {
    const askForSeq = async (server: ServerProcess) => {
      const keda = new KedaClient(`127.0.0.1:${server.ports.otlpGrpc}`);
      // Answered UNAVAILABLE (nothing is held yet); asking is what makes lazy mode keep crash_seq.
      await keda.getMetrics({ name: 'so', namespace: 'default', scalerMetadata: { metricQuery: 'max(crash_seq)', targetValue: '1' } }).catch(() => undefined);
      keda.close();
    };
    const { acknowledged, second } = await crashAndRestart(true, { SCALER_LAZY_SERIES: 'true' }, askForSeq);
    const seq = await valuesByTime(second.ports.http, 'crash_seq');
    expect(acknowledged.filter(({ kind, k, t }) => kind === 'protobuf' && seq.get(t) !== k)).toEqual([]);
    expect((await valuesByTime(second.ports.http, 'crash_rw')).size).toBe(0);
  }, 60_000);

  it('without --wal: only what the last snapshot held (the control for the test above)', async () => {
    const { acknowledged, second } = await crashAndRestart(false);
    const seq = await valuesByTime(second.ports.http, 'crash_seq');
    const lost = acknowledged.filter(({ kind, k, t }) => kind === 'protobuf' && seq.get(t) !== k);
    expect(lost.length).toBeGreaterThan(0);
  }, 60_000);
});
