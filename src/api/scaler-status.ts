import type { FastifyInstance } from 'fastify';
import type { Scaler } from '../scaler/scaler.js';
import type { Tsdb } from '../tsdb/db.js';
import { labelsGet, METRIC_NAME } from '../tsdb/labels.js';
import { formatValue } from './query-json.js';

/**
 * Our own endpoints behind the web page: what KEDA has asked about, and what is stored.
 * Absent values are `null`, so every row has every field; values are strings as in query results.
 */
export function scalerStatusRoutes(app: FastifyInstance, tsdb: Tsdb, scaler: Scaler | undefined): void {
  app.get('/api/v1/scaler/status', async () => ({
    status: 'success',
    data: {
      retentionSeconds: Number.isFinite(tsdb.options.retentionMs) ? tsdb.options.retentionMs / 1000 : null,
      triggers: (scaler?.status.list() ?? []).map((t) => ({
        namespace: t.namespace,
        name: t.name,
        metricName: t.metricName,
        query: t.query,
        targetValue: t.targetValue,
        activationTargetValue: t.activationTargetValue,
        lastValue: t.lastValue === undefined ? null : formatValue(t.lastValue),
        // What the HPA asks for on an AverageValue target, before its min and max replicas.
        desiredReplicas: t.lastValue === undefined ? null : Math.ceil(t.lastValue / t.targetValue),
        active: t.active ?? null,
        lastError: t.lastError ?? null,
        lastCall: t.lastCall > 0 ? t.lastCall / 1000 : null,
      })),
    },
  }));

  app.get('/api/v1/scaler/metrics', async () => {
    // Counted from the labels, not by selecting each name: a selection also finds alias names.
    const counts = new Map<string, number>();
    for (const s of tsdb.allSeries()) {
      const name = labelsGet(s.labels, METRIC_NAME);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const data = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, series]) => ({ name, series }));
    return { status: 'success', data };
  });
}
