import { rawUnary } from '../clients/grpc-raw.js';
import { status } from '@grpc/grpc-js';
import { externalScalerDefinition } from '../clients/keda.js';
import { httpCall } from './http-call.js';
import { WINDOW_NOT_HELD } from './judge.js';
import { encodeRequest } from '../clients/otlp.js';

/** Series pushed before the fuzzing and read back after it: the fuzzing must not have changed them. */
const CANARY_QUERY = 'last_over_time(fuzz_canary{job="fuzz-canary"}[1h])';
const CANARY_SUM = `sum(${CANARY_QUERY})`;
const CANARY_VALUES = [42, 7.5, -3];

const NOT_HELD = 'unavailable: window not held yet';

export interface CanaryReading {
  /** `labels => value` of every canary series, sorted. */
  series: string[];
  /** What KEDA's GetMetrics answers for their sum; a process started fresh holds no hour-long window yet, and says so. */
  kedaValue: number | typeof NOT_HELD;
}

function canaryRequest(instance: string, value: number): Buffer {
  return encodeRequest({
    resource_metrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { string_value: 'fuzz-canary' } },
            { key: 'service.instance.id', value: { string_value: instance } },
          ],
        },
        scope_metrics: [{ metrics: [{ name: 'fuzz.canary', gauge: { data_points: [{ as_double: value, time_unix_nano: `${Date.now()}000000` }] } }] }],
      },
    ],
  });
}

export interface Ports {
  otlpGrpc: number;
  otlpHttp: number;
  http: number;
}

/** Pushes the canary series: one over OTLP/HTTP, the others over OTLP/gRPC on both gRPC ports. */
export async function pushCanary(host: string, ports: Ports): Promise<void> {
  const [a, b, c] = CANARY_VALUES as [number, number, number];
  const res = await httpCall(host, ports.otlpHttp, 'POST', '/v1/metrics', { 'content-type': 'application/x-protobuf' }, canaryRequest('c-http', a));
  if (res.status !== 200) throw new Error(`canary push over OTLP/HTTP answered ${res.status}: ${res.body}`);
  for (const [port, instance, value] of [
    [ports.otlpGrpc, 'c-grpc', b],
    [ports.otlpHttp, 'c-grpc-4318', c],
  ] as const) {
    const r = await rawUnary(`${host}:${port}`, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', canaryRequest(instance, value), 10_000);
    if (r.code !== status.OK) throw new Error(`canary push over OTLP/gRPC answered ${status[r.code]}: ${r.details}`);
  }
}

export async function readCanary(host: string, ports: Ports): Promise<CanaryReading> {
  const res = await httpCall(host, ports.http, 'GET', `/api/v1/query?query=${encodeURIComponent(CANARY_QUERY)}`, {});
  if (res.status !== 200) throw new Error(`canary query answered ${res.status}: ${res.body}`);
  const data = JSON.parse(res.body.toString()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  const series = data.data.result.map((s) => `${JSON.stringify(s.metric)} => ${s.value[1]}`).sort();
  const serialize = externalScalerDefinition().GetMetrics!.requestSerialize as (v: object) => Buffer;
  const deserialize = externalScalerDefinition().GetMetrics!.responseDeserialize as (b: Buffer) => { metricValues: { metricValueFloat: number }[] };
  const req = serialize({
    scaledObjectRef: { name: 'canary', namespace: 'fuzz', scalerMetadata: { metricQuery: CANARY_SUM, targetValue: '1' } },
    metricName: '',
  });
  const r = await rawUnary(`${host}:${ports.otlpGrpc}`, '/externalscaler.ExternalScaler/GetMetrics', req, 10_000);
  if (r.code === status.UNAVAILABLE && WINDOW_NOT_HELD.test(r.details)) return { series, kedaValue: NOT_HELD };
  if (r.code !== status.OK) throw new Error(`canary GetMetrics answered ${status[r.code]}: ${r.details}`);
  return { series, kedaValue: deserialize(r.response!).metricValues[0]!.metricValueFloat };
}

/** Whether KEDA's first reading is as pushed, or honestly unavailable. */
export function expectedKedaValue(value: CanaryReading['kedaValue']): boolean {
  return value === NOT_HELD || value === CANARY_VALUES.reduce((a, b) => a + b, 0);
}

/** Whether every port still answers: /healthz and /readyz, gRPC health on both gRPC ports, an OTLP push. */
export async function checkAlive(host: string, ports: Ports): Promise<string[]> {
  const problems: string[] = [];
  for (const path of ['/healthz', '/readyz']) {
    const r = await httpCall(host, ports.http, 'GET', path, {}).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
    if (r.status !== 200) problems.push(`${path} answered ${r.status} ${r.body}`);
  }
  for (const port of [ports.otlpGrpc, ports.otlpHttp]) {
    const r = await rawUnary(`${host}:${port}`, '/grpc.health.v1.Health/Check', Buffer.alloc(0), 10_000);
    // HealthCheckResponse{status: SERVING} is field 1 = 1.
    if (r.code !== status.OK || !r.response?.equals(Buffer.from([0x08, 0x01]))) problems.push(`gRPC health on port ${port}: ${status[r.code]} ${r.details}`);
  }
  const push = await httpCall(host, ports.otlpHttp, 'POST', '/v1/metrics', { 'content-type': 'application/json' }, Buffer.from('{"resourceMetrics":[]}')).catch(
    (e: Error) => ({ status: 0, body: Buffer.from(e.message) }),
  );
  if (push.status !== 200) problems.push(`OTLP/HTTP push answered ${push.status} ${push.body}`);
  return problems;
}
