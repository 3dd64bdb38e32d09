import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OtlpRequest } from './model.js';
import type { ExportResponse } from './proto.js';
import type { OtlpStats } from './stats.js';

export type Transport = 'grpc' | 'http';

/** What both transports hand decoded requests to (the receiver), and the limits they enforce first. */
export interface OtlpSink {
  readonly limits: Pick<Config, 'maxRequestBytes' | 'maxDecompressedBytes'>;
  readonly stats: OtlpStats;
  readonly log: Logger;
  /**
   * Decodes a protobuf ExportMetricsServiceRequest and stores its samples; answers with
   * partial_success when some were rejected, rejects with DecodeError when it is malformed.
   */
  storeProtobuf(bytes: Uint8Array, transport: Transport): Promise<ExportResponse>;
  /** Stores an already decoded request (OTLP/JSON), as storeProtobuf does. */
  store(request: OtlpRequest, transport: Transport): Promise<ExportResponse>;
}
