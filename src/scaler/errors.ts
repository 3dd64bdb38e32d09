import { status } from '@grpc/grpc-js';

/** An answer to KEDA that is an error: the gRPC status code says what KEDA should make of it. */
export class ScalerError extends Error {
  override name = 'ScalerError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** A trigger metadata value that is missing or wrong; the message names the key. */
export function badMetadata(key: string, why: string): ScalerError {
  return new ScalerError(status.INVALID_ARGUMENT, `trigger metadata "${key}": ${why}`);
}
