import { PromQLError, type PromQLErrorKind } from '../promql/errors.js';

/** Prometheus API errorType values and the HTTP status each is sent with. */
export type ApiErrorType = PromQLErrorKind | 'not_found' | 'internal';

const HTTP_STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  not_found: 404,
  internal: 500,
};

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.type];
  }
}

export function badData(message: string): ApiError {
  return new ApiError('bad_data', message);
}

/** Any thrown value as an ApiError; query errors keep their Prometheus errorType. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof PromQLError) return new ApiError(e.kind, e.message);
  return new ApiError('internal', e instanceof Error ? e.message : String(e));
}
