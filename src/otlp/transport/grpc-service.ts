import { type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcErrorOf, UserError } from '../../common/errors.js';
import { DecodeError } from '../errors.js';
import type { ExportResponse } from './proto.js';
import type { OtlpSink } from '../sink.js';

/**
 * The gRPC MetricsService: Export decodes the request itself (see metricsServiceDefinition), so
 * a malformed message is INVALID_ARGUMENT with the reason, one over the size limit
 * RESOURCE_EXHAUSTED, and rejected points are reported in partial_success.
 */
export function metricsServiceImplementation(sink: OtlpSink): UntypedServiceImplementation {
  return {
    Export(call: ServerUnaryCall<Buffer, ExportResponse>, callback: sendUnaryData<ExportResponse>) {
      const bytes = call.request;
      if (bytes.length > sink.limits.maxDecompressedBytes) {
        sink.stats.requestsFailed.grpc++;
        callback(grpcErrorOf(new UserError('TOO_LARGE', `request of ${bytes.length} bytes is over the limit of ${sink.limits.maxDecompressedBytes} bytes`)));
        return;
      }
      sink.ingest(bytes, 'protobuf', 'grpc').then(
        (response) => callback(null, response),
        (e: unknown) => {
          sink.stats.requestsFailed.grpc++;
          if (e instanceof DecodeError) {
            sink.log.debug({ err: e.message }, 'OTLP gRPC request refused');
            callback(grpcErrorOf(e));
          } else {
            sink.log.error({ err: e }, 'OTLP gRPC export failed unexpectedly');
            callback(grpcErrorOf(new UserError('INTERNAL', 'internal error while storing the request')));
          }
        },
      );
    },
  };
}
