import { status } from '@grpc/grpc-js';

/** The Prometheus HTTP API's errorType values. */
export type ErrorType = 'bad_data' | 'execution' | 'timeout' | 'not_found' | 'unavailable' | 'internal';

/** How one kind of error a user sees travels on each transport. */
export interface ErrorKind {
  /** When a user gets it. */
  readonly means: string;
  /** The gRPC status, also the google.rpc.Code of an OTLP/HTTP error body. */
  readonly grpc: status;
  readonly http: number;
  readonly errorType: ErrorType;
}

/**
 * Every error a user is answered with, by code: the one table each transport maps through
 * (gRPC for KEDA and OTLP, OTLP/HTTP, remote write, the Prometheus API), so one mistake gets the
 * same answer wherever it is made.
 */
export const ERRORS = {
  BAD_DATA: {
    means: 'the request cannot be read or is invalid: malformed body, bad query or parameter, wrong trigger metadata',
    grpc: status.INVALID_ARGUMENT,
    http: 400,
    errorType: 'bad_data',
  },
  EXECUTION: {
    means: 'a valid query that cannot be evaluated (many-to-many matching, duplicate series)',
    grpc: status.INVALID_ARGUMENT,
    http: 422,
    errorType: 'execution',
  },
  TOO_MANY_SAMPLES: { means: 'a query would hold more samples than its limit', grpc: status.RESOURCE_EXHAUSTED, http: 422, errorType: 'execution' },
  NOT_A_NUMBER: { means: 'a query answered NaN or an infinity, which KEDA cannot scale on', grpc: status.OUT_OF_RANGE, http: 422, errorType: 'execution' },
  TIMEOUT: { means: 'a query ran past its timeout', grpc: status.DEADLINE_EXCEEDED, http: 503, errorType: 'timeout' },
  NOT_FOUND: { means: 'no such path or service', grpc: status.NOT_FOUND, http: 404, errorType: 'not_found' },
  METHOD_NOT_ALLOWED: { means: 'the path takes another HTTP method', grpc: status.UNIMPLEMENTED, http: 405, errorType: 'bad_data' },
  UNSUPPORTED_MEDIA_TYPE: { means: 'a content type or encoding not spoken', grpc: status.UNIMPLEMENTED, http: 415, errorType: 'bad_data' },
  TOO_LARGE: { means: 'a request over a size limit', grpc: status.RESOURCE_EXHAUSTED, http: 413, errorType: 'bad_data' },
  OVER_BUDGET: { means: 'the in-flight budget has no room now; retry later', grpc: status.RESOURCE_EXHAUSTED, http: 429, errorType: 'unavailable' },
  NOT_READY: {
    means: 'the scaler cannot be sure of the answer yet (warm-up, missing data); never a low guess',
    grpc: status.UNAVAILABLE,
    http: 503,
    errorType: 'unavailable',
  },
  INTERNAL: { means: 'our fault', grpc: status.INTERNAL, http: 500, errorType: 'internal' },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

/** An error meant for the user: its code says how each transport answers it. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get kind(): ErrorKind {
    return ERRORS[this.code];
  }
}

/** Any thrown value as a UserError: ours keep their code, anything else is INTERNAL with its message. */
export function toUserError(e: unknown): UserError {
  if (e instanceof UserError) return e;
  return new UserError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/** A thrown value as grpc-js's callback error: status from the table, the message as details. */
export function grpcErrorOf(e: unknown): { code: status; details: string } {
  const err = toUserError(e);
  return { code: err.kind.grpc, details: err.message };
}
