import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERRORS, grpcErrorOf, toUserError, UserError } from '../../src/common/errors.js';

describe('the error table', () => {
  it('answers a user error with its code on every transport', () => {
    const e = new UserError('TOO_LARGE', 'request of 9 bytes is over the limit of 8 bytes');
    expect(grpcErrorOf(e)).toEqual({ code: status.RESOURCE_EXHAUSTED, details: e.message });
    expect(e.kind).toEqual({ grpc: status.RESOURCE_EXHAUSTED, http: 413, errorType: 'bad_data' });
  });

  it('answers anything else as INTERNAL with its message', () => {
    const e = toUserError(new TypeError('x is undefined'));
    expect(e.code).toBe('INTERNAL');
    expect(grpcErrorOf('thrown text')).toEqual({ code: status.INTERNAL, details: 'thrown text' });
  });

  it('keeps a status for each code that says retry only where retrying can help', () => {
    const retryable = Object.entries(ERRORS)
      .filter(([, k]) => k.http === 429 || k.http === 503)
      .map(([code]) => code);
    expect(retryable.sort()).toEqual(['NOT_READY', 'OVER_BUDGET', 'TIMEOUT']);
  });
});
