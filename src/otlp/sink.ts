import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { InflightBudget } from './inflight.js';
import type { OtlpRequest } from './model.js';
import type { ExportResponse } from './proto.js';
import type { OtlpStats } from './stats.js';

export type Transport = 'grpc' | 'http';

/** What both transports hand decoded requests to (the receiver), and the limits they enforce first. */
export interface OtlpSink {
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  readonly stats: OtlpStats;
  /** Bytes requests may hold at once, across both transports: reserved before buffering or inflating. */
  readonly budget: InflightBudget;
  readonly log: Logger;
  /**
   * Decodes a protobuf ExportMetricsServiceRequest and stores its samples; answers with
   * partial_success when some were rejected, rejects with DecodeError when it is malformed.
   */
  storeProtobuf(bytes: Uint8Array, transport: Transport): Promise<ExportResponse>;
  /** Decodes an OTLP/JSON body and stores it, as storeProtobuf does. */
  storeJson(bytes: Uint8Array, transport: Transport): Promise<ExportResponse>;
  /** Stores an already decoded request, as storeProtobuf does. */
  store(request: OtlpRequest, transport: Transport): Promise<ExportResponse>;
}
