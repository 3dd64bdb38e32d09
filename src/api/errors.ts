import { toUserError, UserError } from '../common/errors.js';

export function badData(message: string): UserError {
  return new UserError('BAD_DATA', message);
}

/** A thrown value as the Prometheus API's error answer: HTTP status and JSON body from the error table. */
export function apiErrorReply(e: unknown): { status: number; body: { status: 'error'; errorType: string; error: string } } {
  const err = toUserError(e);
  return { status: err.kind.http, body: { status: 'error', errorType: err.kind.errorType, error: err.message } };
}
