import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../harness/clients/otlp.js';
import { exportClient, oneResource, startHarness, value, type Harness, INGEST_THREADS } from '../harness.js';

const gauge = (name: string, v: number) => ({
  name,
  gauge: { data_points: [{ as_double: v, time_unix_nano: String(BigInt(Date.now()) * 1_000_000n) }] },
});

describe.each(INGEST_THREADS)('gRPC MetricsService/Export, %i ingest threads', (ingestThreads) => {
  let h: Harness;
  let client: ReturnType<typeof exportClient>;
  beforeAll(async () => {
    h = await startHarness({ maxDecompressedBytes: 64 * 1024, ingestThreads }, { maxSeries: 3 });
    client = exportClient(h);
  });
  afterAll(async () => {
    client.close();
    await h.close();
  });

  it('answers a malformed message with INVALID_ARGUMENT naming the fault, and keeps serving', async () => {
    const bad = await client.send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect('error' in bad && bad.error.code).toBe(status.INVALID_ARGUMENT);
    expect('error' in bad && bad.error.details).toMatch(/invalid protobuf ExportMetricsServiceRequest/);
    const good = await client.send(encodeRequest(oneResource({ 'service.name': 'svc' }, [gauge('after_bad', 4)])));
    expect(good).toEqual({ response: {} });
    expect(value(h.tsdb, 'after_bad', { job: 'svc' })).toBe(4);
    expect(h.receiver.stats.requestsFailed.grpc).toBe(1);
  });

  it('answers a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    const big = encodeRequest(oneResource({ pad: 'x'.repeat(70 * 1024) }, [gauge('too_big', 1)]));
    const res = await client.send(big);
    expect('error' in res && res.error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('keeps the good points and reports the rejected ones in partial_success', async () => {
    const res = await client.send(encodeRequest(oneResource({}, [gauge('g1', 1), gauge('g2', 2), gauge('g3', 3), gauge('g4', 4)])));
    expect('response' in res && res.response.partial_success?.rejected_data_points).toBe(2);
    expect('response' in res && res.response.partial_success?.error_message).toMatch(/over the series limit/);
    expect(value(h.tsdb, 'g1')).toBe(1);
    expect(value(h.tsdb, 'g2')).toBe(2);
  });

  it('stores a summary sent as protobuf', async () => {
    const t = String(BigInt(Date.now()) * 1_000_000n);
    const summary = {
      name: 'rpc.duration',
      unit: 's',
      summary: { data_points: [{ time_unix_nano: t, count: 4, sum: 2.5, quantile_values: [{ quantile: 0.9, value: 1.25 }] }] },
    };
    const fresh = await startHarness();
    const c = exportClient(fresh);
    expect(await c.send(encodeRequest(oneResource({ 'service.name': 'rpc' }, [summary])))).toEqual({ response: {} });
    expect(value(fresh.tsdb, 'rpc_duration_seconds', { quantile: '0.9' })).toBe(1.25);
    expect(value(fresh.tsdb, 'rpc_duration_seconds_count')).toBe(4);
    expect(value(fresh.tsdb, 'rpc_duration_seconds_sum')).toBe(2.5);
    c.close();
    await fresh.close();
  });
});
