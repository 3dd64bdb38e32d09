import { status } from '@grpc/grpc-js';

/** The Prometheus HTTP API's errorType values. */
export type ErrorType = 'bad_data' | 'execution' | 'timeout' | 'not_found' | 'unavailable' | 'internal';

/** How one kind of error a user sees travels on each transport. */
export interface ErrorKind {
  /** The gRPC status, also the google.rpc.Code of an OTLP/HTTP error body. */
  readonly grpc: status;
  readonly http: number;
  readonly errorType: ErrorType;
}

/** Errors that asking again soon does not cure: the request, or what it asks for, is at fault, or we are. */
const FINAL_ERRORS = {
  /** The request cannot be read or is invalid: malformed body, bad query or parameter, wrong trigger metadata. */
  BAD_DATA: { grpc: status.INVALID_ARGUMENT, http: 400, errorType: 'bad_data' },
  /** A valid query that cannot be evaluated (many-to-many matching, duplicate series). */
  EXECUTION: { grpc: status.INVALID_ARGUMENT, http: 422, errorType: 'execution' },
  /** A query would hold more samples than its limit. */
  TOO_MANY_SAMPLES: { grpc: status.RESOURCE_EXHAUSTED, http: 422, errorType: 'execution' },
  /** A query answered NaN or an infinity, which KEDA cannot scale on. */
  NOT_A_NUMBER: { grpc: status.OUT_OF_RANGE, http: 422, errorType: 'execution' },
  /** No such path or service. */
  NOT_FOUND: { grpc: status.NOT_FOUND, http: 404, errorType: 'not_found' },
  /** The path takes another HTTP method. */
  METHOD_NOT_ALLOWED: { grpc: status.UNIMPLEMENTED, http: 405, errorType: 'bad_data' },
  /** A content type or encoding not spoken. */
  UNSUPPORTED_MEDIA_TYPE: { grpc: status.UNIMPLEMENTED, http: 415, errorType: 'bad_data' },
  /** A request over a size limit. */
  TOO_LARGE: { grpc: status.RESOURCE_EXHAUSTED, http: 413, errorType: 'bad_data' },
  /** Our fault. */
  INTERNAL: { grpc: status.INTERNAL, http: 500, errorType: 'internal' },
} as const satisfies Record<string, ErrorKind>;

/**
 * Errors of the moment: the same request may succeed shortly, and the clients' own retry rules
 * (an OTLP exporter's on 429 and 503, KEDA's next poll) take it from there.
 */
const PASSING_ERRORS = {
  /** A query ran past its timeout. */
  TIMEOUT: { grpc: status.DEADLINE_EXCEEDED, http: 503, errorType: 'timeout' },
  /** The in-flight budget has no room now; retry later. */
  OVER_BUDGET: { grpc: status.RESOURCE_EXHAUSTED, http: 429, errorType: 'unavailable' },
  /** The scaler cannot be sure of the answer yet (warm-up, missing data); never a low guess. */
  NOT_READY: { grpc: status.UNAVAILABLE, http: 503, errorType: 'unavailable' },
} as const satisfies Record<string, ErrorKind>;

/**
 * Every error a user is answered with, by code: the one table each transport maps through
 * (gRPC for KEDA and OTLP, OTLP/HTTP, remote write, the Prometheus API), so one mistake gets the
 * same answer wherever it is made.
 */
export const ERRORS = { ...FINAL_ERRORS, ...PASSING_ERRORS };

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
