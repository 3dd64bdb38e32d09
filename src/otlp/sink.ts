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
  /** Stores the request's samples and answers with partial_success when some were rejected. */
  export(request: OtlpRequest, transport: Transport): ExportResponse;
}
