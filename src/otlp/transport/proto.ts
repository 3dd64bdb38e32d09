import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { loadProto } from '../../protobuf.js';

/** Service name for grpc.health.v1 and the gRPC path. */
export const OTLP_METRICS_SERVICE = 'opentelemetry.proto.collector.metrics.v1.MetricsService';

const root = loadProto('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');

export const ExportMetricsServiceRequest: protobuf.Type = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse: protobuf.Type = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');

/** What the Export call answers; `partialSuccess` only when some data points were rejected. */
export interface ExportResponse {
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
}

/** The response as protobuf bytes (an empty message when everything was accepted). */
export function encodeExportResponse(response: ExportResponse): Uint8Array {
  const p = response.partialSuccess;
  const message = p ? { partial_success: { rejected_data_points: p.rejectedDataPoints, error_message: p.errorMessage } } : {};
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
 * google.rpc.Status, the body of an OTLP/HTTP error response and of gRPC's
 * grpc-status-details-bin, with google.protobuf.Any details and google.rpc.RetryInfo. Built here
 * rather than from .proto files because only these few fields are ever written.
 */
const RpcAny = new protobuf.Type('Any').add(new protobuf.Field('type_url', 1, 'string')).add(new protobuf.Field('value', 2, 'bytes'));
export const RpcStatus: protobuf.Type = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'))
  .add(new protobuf.Field('details', 3, 'Any', 'repeated'));
const Duration = new protobuf.Type('Duration').add(new protobuf.Field('seconds', 1, 'int64')).add(new protobuf.Field('nanos', 2, 'int32'));
export const RetryInfo: protobuf.Type = new protobuf.Type('RetryInfo').add(new protobuf.Field('retry_delay', 1, 'Duration'));
new protobuf.Root().define('google.rpc').add(RpcStatus).add(RpcAny).add(Duration).add(RetryInfo);
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish();
}

/**
 * A google.rpc.Status carrying RetryInfo: what an OTLP/gRPC server sends with RESOURCE_EXHAUSTED
 * when the sender should retry after `retrySeconds` (without it the spec has clients give up).
 */
export function encodeRetryStatus(code: number, message: string, retrySeconds: number): Buffer {
  const retry = RetryInfo.encode(RetryInfo.fromObject({ retry_delay: { seconds: retrySeconds } })).finish();
  const status = RpcStatus.fromObject({ code, message, details: [{ type_url: RETRY_INFO_TYPE_URL, value: retry }] });
  return Buffer.from(RpcStatus.encode(status).finish());
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
