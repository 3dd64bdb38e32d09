import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBurstReport, inflightBurst, type BurstReport } from '../../harness/fuzz/inflight-burst.js';
import { spawnServer, type ServerProcess } from '../../harness/app/spawn.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-register.mjs', import.meta.url));
/** The chart's memory limit (helm/keda-otlp-scaler values.yaml, resources.limits.memory). */
const CHART_MEMORY_LIMIT = 512 * 2 ** 20;
/**
 * Run from source here, the process carries the TypeScript compiler (~150 MiB the image has not):
 * its growth under the burst is judged against what the limit leaves beside the built server idle
 * (~90 MiB, 128 allowed). `npm run fuzz` judges the built server's absolute peak.
 */
const GROWTH_BOUND = CHART_MEMORY_LIMIT - 128 * 2 ** 20;
const CONCURRENCY = 16;
/** Under the default 32 MiB decompressed limit, so every body alone is accepted. */
const INFLATED = 31 * 2 ** 20;

describe('memory in flight, in the real process with the default settings', () => {
  let server: ServerProcess;
  let report: BurstReport;
  let idle: number;
  beforeAll(async () => {
    server = await spawnServer({ entry: MAIN, execArgv: ['--import', REGISTER, '--no-warnings'] });
    idle = server.peakRssBytes();
    report = await inflightBurst('127.0.0.1', server.ports, {
      concurrency: CONCURRENCY,
      rounds: 1,
      inflatedBytes: INFLATED,
      peakRssBytes: server.peakRssBytes,
    });
  }, 120_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it(`grows by less than the chart's memory limit leaves beside the idle server with ${CONCURRENCY} gzip bodies at once on each transport, each inflating to 31 MiB`, () => {
    const growth = report.rssPeakBytes - idle;
    expect(
      growth,
      `${(growth / 2 ** 20).toFixed(0)} MiB over ${(idle / 2 ** 20).toFixed(0)} MiB idle; ${formatBurstReport(report, CONCURRENCY, INFLATED, CHART_MEMORY_LIMIT)}`,
    ).toBeLessThan(GROWTH_BOUND);
  });

  it('stores some and refuses the rest retryably (429 with Retry-After, RESOURCE_EXHAUSTED with RetryInfo), and stays up', () => {
    expect(report.faults).toEqual([]);
    expect(report.alive).toEqual([]);
    expect(report.http['200']).toBeGreaterThan(0);
    expect(report.http['429']).toBeGreaterThan(0);
    expect(report.grpc['RESOURCE_EXHAUSTED']).toBeGreaterThan(0);
  });
});
