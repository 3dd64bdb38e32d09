import { status, type ServiceError } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/app.js';
import { labelsFromRecord } from '../../src/tsdb/labels.js';
import { startTestApp } from '../support/app.js';
import { KedaClient } from '../../harness/clients/keda.js';

function ref(metricQuery: string) {
  return { name: 'bounded', namespace: 'obs', scalerMetadata: { metricQuery, targetValue: '1' } };
}

async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('trigger queries are bounded like API queries', () => {
  let app: App;
  let client: KedaClient;

  beforeAll(async () => {
    app = await startTestApp({ queryTimeoutMs: 2_000, queryMaxSamples: 1_000_000 });
    client = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
    app.tsdb.appendLabels(labelsFromRecord({ __name__: 'queue_depth', pod: 'a' }), Date.now(), 5);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it.each([
    'max_over_time(vector(1)[1d:1ms])',
    'count_over_time(vector(1)[1y:1ms])',
    'sum(max_over_time(vector(1)[1d:1ms]))',
    'max_over_time((queue_depth * 2)[1y:1ms])',
  ])("GetMetrics answers RESOURCE_EXHAUSTED for %s, in Prometheus's words", async (q) => {
    const err = await failure(client.getMetrics(ref(q)));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/query processing would load too many samples into memory in query execution/);
  });

  it('GetMetrics answers DEADLINE_EXCEEDED when nested subqueries run past the timeout, and other triggers are answered meanwhile', async () => {
    let settled = false;
    const long = failure(client.getMetrics(ref('max_over_time(max_over_time(vector(1)[1d:1s])[1d:1s])'))).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    expect(await client.value('sum(queue_depth)')).toBe(5);
    const ready = await fetch(`http://127.0.0.1:${app.ports.http}/readyz`);
    expect(ready.status).toBe(200);
    // Answered while the long evaluation still runs; generous for a loaded machine.
    expect(settled).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
    const err = await long;
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(err.details).toMatch(/query timed out in expression evaluation/);
  });
});
