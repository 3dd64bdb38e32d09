import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { InflightBudget } from './transport/inflight.js';
import type { ExportResponse } from './transport/proto.js';
import type { OtlpStats } from './stats.js';

export type Transport = 'grpc' | 'http';
export type Encoding = 'protobuf' | 'json';

/** What both transports hand decoded requests to (the receiver), and the limits they enforce first. */
export interface OtlpSink {
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  readonly stats: OtlpStats;
  /** Bytes requests may hold at once, across both transports: reserved before buffering or inflating. */
  readonly budget: InflightBudget;
  readonly log: Logger;
  /** Decodes and stores a request body (see OtlpReceiver.ingest). */
  ingest(body: Uint8Array, encoding: Encoding, transport: Transport): Promise<ExportResponse>;
}
