import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import http from 'node:http';
import { ExportMetricsServiceRequest, metricsServiceDefinition } from '../../src/otlp/transport/proto.js';

/** Protobuf bytes of an ExportMetricsServiceRequest written as an object with the .proto's field names. */
export function encodeRequest(request: object): Buffer {
  return Buffer.from(ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(request)).finish());
}

/** The same request in OTLP/JSON: lowerCamelCase names, int64 as strings, bytes in base64. */
export function jsonRequest(request: object): string {
  const message = ExportMetricsServiceRequest.fromObject(request);
  const doc = ExportMetricsServiceRequest.toObject(message, { longs: String, enums: Number, bytes: String });
  // Keys are written snake_case as in the .proto; a JSON value never precedes a colon, so only keys match.
  return JSON.stringify(doc).replace(
    /"([a-z0-9]+(?:_[a-z0-9]+)+)":/g,
    (_m, name: string) => `"${name.replace(/_([a-z0-9])/g, (_x, c: string) => c.toUpperCase())}":`,
  );
}

/** One gauge of `count` series (`user="u<from>"`…) from one resource, each with `value` now: what a cardinality bomb sends. */
export function manySeriesRequest(name: string, from: number, count: number, value = 1): Buffer {
  const now = `${Date.now()}000000`;
  const points = Array.from({ length: count }, (_, i) => ({
    as_double: value,
    time_unix_nano: now,
    attributes: [{ key: 'user', value: { string_value: `u${from + i}` } }],
  }));
  return encodeRequest({
    resource_metrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'bomber' } }] },
        scope_metrics: [{ metrics: [{ name, gauge: { data_points: points } }] }],
      },
    ],
  });
}

/** Sends one pre-encoded ExportMetricsServiceRequest; rejects on a transport error or a refused request. */
export type Send = (body: Buffer) => Promise<void>;

export interface OtlpClient {
  send: Send;
  close(): void;
}

type Unary = (req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void) => void;

export function grpcClient(port: number): OtlpClient {
  const Ctor = makeGenericClientConstructor(metricsServiceDefinition(), 'MetricsService');
  const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  }) as unknown as Client & { Export: Unary };
  return {
    send: (body) =>
      new Promise((resolve, reject) => {
        client.Export(body, (err, res) => {
          if (err) reject(err);
          // A non-empty response carries partial_success: some points were refused.
          else if (res.length > 0) reject(new Error(`partial success over gRPC (${res.length} bytes)`));
          else resolve();
        });
      }),
    close: () => client.close(),
  };
}

export function httpClient(port: number, maxSockets: number): OtlpClient {
  return postingClient(port, maxSockets, '/v1/metrics', { 'content-type': 'application/x-protobuf' }, (status, reply) => {
    if (status !== 200) return `OTLP/HTTP ${status}: ${reply.toString('latin1').slice(0, 200)}`;
    return reply.length > 0 ? `partial success over HTTP (${reply.length} bytes)` : undefined;
  });
}

/**
 * POSTs pre-encoded bodies to one path over keep-alive connections; `refusal` says what is wrong
 * with an answer (status and body), or undefined when the body was taken whole.
 */
export function postingClient(
  port: number,
  maxSockets: number,
  path: string,
  headers: Record<string, string>,
  refusal: (status: number | undefined, reply: Buffer) => string | undefined,
): OtlpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    send: (body) =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const why = refusal(res.statusCode, Buffer.concat(chunks));
            if (why === undefined) resolve();
            else reject(new Error(why));
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/** Sends every request of a step with `concurrency` in flight, steps one after another (so each series gets its samples in order). */
export async function sendSteps(steps: readonly (readonly Buffer[])[], concurrency: number, send: Send): Promise<void> {
  for (const requests of steps) {
    let next = 0;
    const worker = async () => {
      while (next < requests.length) await send(requests[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  }
}
