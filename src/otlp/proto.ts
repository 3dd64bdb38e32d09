import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { loadProto } from '../protobuf.js';

/** Service name for grpc.health.v1 and the gRPC path. */
export const OTLP_METRICS_SERVICE = 'opentelemetry.proto.collector.metrics.v1.MetricsService';

const root = loadProto('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');

export const ExportMetricsServiceRequest: protobuf.Type = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
);
export const MetricMessage: protobuf.Type = root.lookupType('opentelemetry.proto.metrics.v1.Metric');
export const ExportMetricsServiceResponse: protobuf.Type = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
);

/** What the Export call answers; `partialSuccess` only when some data points were rejected. */
export interface ExportResponse {
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
}

/** The response as protobuf bytes (an empty message when everything was accepted). */
export function encodeExportResponse(response: ExportResponse): Uint8Array {
  const p = response.partialSuccess;
  const message = p
    ? { partial_success: { rejected_data_points: p.rejectedDataPoints, error_message: p.errorMessage } }
    : {};
  return ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.fromObject(message)).finish();
}

/** The response in OTLP/JSON: lowerCamelCase names, int64 as a decimal string. */
export function exportResponseJson(response: ExportResponse): string {
  const p = response.partialSuccess;
  if (!p) return '{}';
  return JSON.stringify({
    partialSuccess: { rejectedDataPoints: String(p.rejectedDataPoints), errorMessage: p.errorMessage },
  });
}

/**
 * google.rpc.Status, the body of an OTLP/HTTP error response. Built here rather than from a
 * .proto file because only these two fields are ever written (details stays empty).
 */
const RpcStatus = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(RpcStatus);

export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish();
}

/**
 * The grpc-js definition of MetricsService. The request arrives undecoded: decoding inside the
 * handler lets a malformed body be answered with INVALID_ARGUMENT naming the fault, where a
 * throwing deserializer would make grpc-js answer INTERNAL.
 */
export function metricsServiceDefinition(): ServiceDefinition {
  return {
    Export: {
      path: `/${OTLP_METRICS_SERVICE}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (value: ExportResponse) => Buffer.from(encodeExportResponse(value)),
      responseDeserialize: (bytes: Buffer) => bytes,
      originalName: 'Export',
    },
  } as ServiceDefinition;
}
