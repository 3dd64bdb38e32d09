import { gzipSync, deflateSync } from 'node:zlib';
import { externalScalerDefinition } from '../clients/keda.js';
import { randomQuery } from './promql-cases.js';
import type { Rng } from './rng.js';
import { encodeRequest } from '../clients/otlp.js';
import { validRequest, validRequestObject } from './otlp-valid.js';

export type PortName = 'otlpGrpc' | 'otlpHttp' | 'http';
export const GRPC_PORTS: readonly PortName[] = ['otlpGrpc', 'otlpHttp'];
export const ALL_PORTS: readonly PortName[] = ['otlpGrpc', 'otlpHttp', 'http'];

interface CaseBase {
  kind: string;
  port: PortName;
  /** The PromQL sent, for query cases: its errors must name position and cause. */
  query?: string;
  /** Over the server's request size limit: it may answer 413 and close before reading it all. */
  overLimit?: boolean;
}
export interface HttpCase extends CaseBase {
  via: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}
export interface GrpcCase extends CaseBase {
  via: 'grpc';
  /** Full method path, e.g. /opentelemetry.proto.collector.metrics.v1.MetricsService/Export. */
  path: string;
  body: Buffer;
}
export interface TcpCase extends CaseBase {
  via: 'tcp';
  body: Buffer;
}
export type FuzzCase = HttpCase | GrpcCase | TcpCase;

/** The server's size limits, so oversized cases are just over them. */
export interface CaseLimits {
  maxRequestBytes: number;
  maxDecompressedBytes: number;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const UNARY_PATHS = [
  '/externalscaler.ExternalScaler/IsActive',
  '/externalscaler.ExternalScaler/GetMetricSpec',
  '/externalscaler.ExternalScaler/GetMetrics',
  '/grpc.health.v1.Health/Check',
  '/externalscaler.ExternalScaler/Nope',
  '/no.Such/Service',
];
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
const WRONG_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  '',
  'application/grpc',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'image/png',
];
const WRONG_ENCODINGS = ['br', 'zstd', 'snappy', 'gzip, gzip', 'x-bogus', 'compress'];
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

const getMetricsRequest = (() => {
  const serialize = externalScalerDefinition().GetMetrics!.requestSerialize as (v: object) => Buffer;
  return (query: string) =>
    serialize({ scaledObjectRef: { name: 'fuzz', namespace: 'fuzz', scalerMetadata: { metricQuery: query, targetValue: '1' } }, metricName: '' });
})();

function truncate(rng: Rng, b: Buffer): Buffer {
  return b.subarray(0, rng.int(b.length));
}

function bitflip(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let n = 1 + rng.int(8); n > 0 && out.length > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
  return out;
}

/** Malformed OTLP/JSON: broken syntax, wrong types, unknown enum values, absurd numbers. */
function mangleJson(rng: Rng, json: string): string {
  switch (rng.int(7)) {
    case 0:
      return json.slice(0, rng.int(json.length));
    case 1: {
      const i = rng.int(json.length);
      return json.slice(0, i) + rng.pick(['{', '}', '[', ']', ',', ':', '"', 'null', 'true', '-', '1e999', '\\u00', '\u0000']) + json.slice(i);
    }
    case 2:
      return json.replace(/"asDouble":[^,}]+/, `"asDouble":${rng.pick(['"abc"', '{}', '[]', 'null', 'true', '"NaN"', '"Infinity"', '1e400'])}`);
    case 3:
      return json.replace(/"timeUnixNano":"\d+"/, `"timeUnixNano":${rng.pick(['"-1"', '"99999999999999999999999"', '1.5', '"0x10"', '[]', '"1e30"'])}`);
    case 4:
      return json.replace(/"aggregationTemporality":\d/, `"aggregationTemporality":${rng.pick(['7', '-1', '"DELTA"', '"nope"', '2.5', 'null'])}`);
    case 5:
      return json.replace(/"resourceMetrics":/, `"resourceMetrics":${rng.pick(['5', '"x"', '{}', 'null', '[1,2]', '[[]]'])},"ignored":`);
    default: {
      const i = rng.int(json.length);
      return json.slice(0, i) + String.fromCharCode(rng.int(0x3000)) + json.slice(i + 1);
    }
  }
}

/** JSON nested far deeper than anything OTLP allows, in an attribute value or in the document itself. */
function deepJson(rng: Rng): string {
  if (rng.chance(0.5)) {
    const depth = 20 + rng.int(200);
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < depth; i++)
      value = rng.chance(0.5) ? `{"arrayValue":{"values":[${value}]}}` : `{"kvlistValue":{"values":[{"key":"k","value":${value}}]}}`;
    return `{"resourceMetrics":[{"resource":{"attributes":[{"key":"deep","value":${value}}]},"scopeMetrics":[{"metrics":[{"name":"deep","gauge":{"dataPoints":[{"asDouble":1}]}}]}]}]}`;
  }
  const depth = 1000 + rng.int(200_000);
  const open = rng.chance(0.5) ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return `{"resourceMetrics":${open.repeat(depth)}1${close.repeat(depth)}}`;
}

/**
 * Builds random cases against a scaler's three ports. `bombs` are made once (compressing many
 * megabytes of zeros takes a while) and sent again and again.
 */
export class CaseFactory {
  private readonly gzipBomb: Buffer;
  private readonly deflateBomb: Buffer;

  constructor(
    private readonly rng: Rng,
    private readonly limits: CaseLimits,
  ) {
    const zeros = Buffer.alloc(limits.maxDecompressedBytes * 2 + 1024);
    this.gzipBomb = gzipSync(zeros, { level: 9 });
    this.deflateBomb = deflateSync(zeros, { level: 9 });
  }

  next(): FuzzCase {
    const rng = this.rng;
    const kind = rng.weighted<() => FuzzCase>([
      [2, () => this.otlpHttp('otlp-http-random', rng.bytes(rng.int(4096)), rng.chance(0.5) ? PROTOBUF : JSON_TYPE)],
      [3, () => this.otlpHttp('otlp-http-truncated', truncate(rng, validRequest(rng).protobuf), PROTOBUF)],
      [3, () => this.otlpHttp('otlp-http-bitflip', bitflip(rng, validRequest(rng).protobuf), PROTOBUF)],
      [
        1,
        () =>
          this.otlpHttp(
            'otlp-http-valid',
            rng.chance(0.5) ? validRequest(rng).protobuf : Buffer.from(validRequest(rng).json),
            rng.chance(0.5) ? PROTOBUF : JSON_TYPE,
          ),
      ],
      [3, () => this.otlpHttp('otlp-json-malformed', Buffer.from(mangleJson(rng, validRequest(rng).json)), JSON_TYPE)],
      [1, () => this.otlpHttp('otlp-json-deep', Buffer.from(deepJson(rng)), JSON_TYPE)],
      [0.5, () => this.bomb()],
      [0.5, () => this.oversized()],
      [1, () => this.wrongType()],
      [2, () => this.grpc('otlp-grpc-random', EXPORT_PATH, rng.bytes(rng.int(4096)))],
      [2, () => this.grpc('otlp-grpc-truncated', EXPORT_PATH, truncate(rng, validRequest(rng).protobuf))],
      [2, () => this.grpc('otlp-grpc-bitflip', EXPORT_PATH, bitflip(rng, validRequest(rng).protobuf))],
      [
        0.3,
        () =>
          this.grpc(
            'otlp-grpc-oversized',
            EXPORT_PATH,
            encodeRequest(validRequestObject(rng, { 'service.name': 'big', pad: 'x'.repeat(this.limits.maxDecompressedBytes) })),
          ),
      ],
      [1, () => this.grpc('grpc-random-method', rng.pick(UNARY_PATHS), rng.bytes(rng.int(512)))],
      [1, () => this.grpc('grpc-bitflip-getmetrics', '/externalscaler.ExternalScaler/GetMetrics', bitflip(rng, getMetricsRequest(randomQuery(rng))))],
      [6, () => this.promqlHttp()],
      [4, () => this.promqlKeda()],
      [1, () => this.apiMisc()],
      [1, () => this.rawTcp()],
    ]);
    return kind();
  }

  private otlpHttp(kind: string, body: Buffer, headers: Record<string, string>): HttpCase {
    const compress = this.rng.chance(0.2);
    const sent = compress ? gzipSync(body) : body;
    return {
      via: 'http',
      kind,
      port: 'otlpHttp',
      method: 'POST',
      path: '/v1/metrics',
      headers: compress ? { ...headers, 'content-encoding': 'gzip' } : headers,
      body: sent,
      overLimit: sent.length > this.limits.maxRequestBytes,
    };
  }

  private bomb(): HttpCase {
    const gzip = this.rng.chance(0.5);
    return {
      via: 'http',
      kind: 'otlp-decompression-bomb',
      port: 'otlpHttp',
      method: 'POST',
      path: '/v1/metrics',
      headers: { ...(this.rng.chance(0.5) ? PROTOBUF : JSON_TYPE), 'content-encoding': gzip ? 'gzip' : 'deflate' },
      body: gzip ? this.gzipBomb : this.deflateBomb,
    };
  }

  private oversized(): HttpCase {
    const size = this.limits.maxRequestBytes + 1 + this.rng.int(this.limits.maxRequestBytes / 2);
    return {
      via: 'http',
      kind: 'otlp-http-oversized',
      port: 'otlpHttp',
      method: 'POST',
      path: '/v1/metrics',
      headers: PROTOBUF,
      body: Buffer.alloc(size, this.rng.int(256)),
    };
  }

  private wrongType(): HttpCase {
    const rng = this.rng;
    const body = validRequest(rng).protobuf;
    const c = this.otlpHttp('otlp-http-wrong-type', body, PROTOBUF);
    switch (rng.int(4)) {
      case 0:
        return { ...c, headers: { 'content-type': rng.pick(WRONG_TYPES) } };
      case 1:
        return { ...c, headers: { ...PROTOBUF, 'content-encoding': rng.pick(WRONG_ENCODINGS) } };
      case 2:
        return { ...c, method: rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), body: rng.chance(0.5) ? body : undefined };
      default:
        return { ...c, path: rng.pick(['/v1/traces', '/v1/logs', '/v1/metrics/', '/v1/metrics/../x', '/', '/%00', '/v1/metrics?x=%zz']) };
    }
  }

  private grpc(kind: string, path: string, body: Buffer): GrpcCase {
    return { via: 'grpc', kind, port: this.rng.pick(GRPC_PORTS), path, body };
  }

  private promqlHttp(): HttpCase {
    const query = randomQuery(this.rng);
    const time = this.rng.chance(0.8) ? '' : `&time=${this.rng.pick(['abc', '-1e20', '1e20', 'NaN', '2024-13-45T00:00:00Z', String(Date.now() / 1000)])}`;
    const params = `query=${encodeURIComponent(query)}${time}`;
    if (this.rng.chance(0.5)) {
      return { via: 'http', kind: 'promql-http', port: 'http', method: 'GET', path: `/api/v1/query?${params}`, headers: {}, query };
    }
    return {
      via: 'http',
      kind: 'promql-http',
      port: 'http',
      method: 'POST',
      path: '/api/v1/query',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(params),
      query,
    };
  }

  private promqlKeda(): GrpcCase {
    const query = randomQuery(this.rng);
    return {
      via: 'grpc',
      kind: 'promql-keda',
      port: this.rng.pick(GRPC_PORTS),
      path: '/externalscaler.ExternalScaler/GetMetrics',
      body: getMetricsRequest(query),
      query,
    };
  }

  private apiMisc(): HttpCase {
    const rng = this.rng;
    return {
      via: 'http',
      kind: 'api-misc',
      port: rng.pick(ALL_PORTS),
      method: rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']),
      path: rng.pick([
        '/api/v1/query',
        '/api/v1/query_range',
        '/api/v1/series',
        '/api/v1/labels',
        '/readyz',
        '/metrics',
        '/x',
        '/api/v1/query?query=',
        `/${'a'.repeat(rng.int(8000))}`,
      ]),
      headers: { 'content-type': rng.pick([...WRONG_TYPES, 'application/json', 'application/x-www-form-urlencoded']) },
      body: rng.chance(0.5) ? rng.bytes(rng.int(2048)) : undefined,
    };
  }

  private rawTcp(): TcpCase {
    const rng = this.rng;
    const body = rng.weighted<() => Buffer>([
      [2, () => rng.bytes(1 + rng.int(2048))],
      [1, () => Buffer.concat([H2_PREFACE, rng.bytes(rng.int(1024))])],
      [1, () => Buffer.concat([Buffer.from('POST /v1/metrics HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999\r\n'), rng.bytes(rng.int(256))])],
      [1, () => Buffer.from(`GET /${'x'.repeat(rng.int(100_000))} HTTP/1.1\r\n\r\n`)],
    ])();
    return { via: 'tcp', kind: 'raw-tcp', port: rng.pick(ALL_PORTS), body };
  }
}
