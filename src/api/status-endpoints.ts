import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../common/project-root.js';
import { formatDuration } from '../promql/parser/printer.js';
import type { Tsdb } from '../tsdb/db.js';

const VERSION: string = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * `/api/v1/status/buildinfo` and `/runtimeinfo` with Prometheus's field names. Build info has
 * no `features` field: Grafana takes a server without one for Prometheus, not Mimir, and does
 * not look for a ruler API.
 */
export function statusRoutes(app: FastifyInstance, tsdb: Tsdb): void {
  const startTime = new Date().toISOString();
  app.get('/api/v1/status/buildinfo', async () => ({
    status: 'success',
    data: {
      version: VERSION,
      revision: '',
      branch: '',
      buildUser: 'keda-otlp-scaler',
      buildDate: '',
      goVersion: `node${process.versions.node}`,
    },
  }));
  app.get('/api/v1/status/runtimeinfo', async () => ({
    status: 'success',
    data: {
      startTime,
      CWD: process.cwd(),
      hostname: hostname(),
      serverTime: new Date().toISOString(),
      reloadConfigSuccess: true,
      lastConfigTime: startTime,
      corruptionCount: 0,
      goroutineCount: 0,
      GOMAXPROCS: availableParallelism(),
      GOMEMLIMIT: 0,
      GOGC: '',
      GODEBUG: '',
      storageRetention: Number.isFinite(tsdb.options.retentionMs) ? formatDuration(tsdb.options.retentionMs) : '',
    },
  }));
  app.get('/api/v1/status/flags', async () => ({ status: 'success', data: {} }));
}
