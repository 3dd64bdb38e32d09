import { UserError, type ErrorCode } from '../common/errors.js';
import type { PosRange } from './ast.js';

/**
 * Every error a query can raise, in one place. Its code (common/errors.ts) gives the Prometheus
 * HTTP API's errorType and the gRPC status the scaler answers with.
 */
export class PromQLError extends UserError {
  override name = 'PromQLError';
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * A syntax or type error. The message starts with `line:column:` of the offending position,
 * as Prometheus writes it, e.g. `1:14: parse error: unexpected "}"`.
 */
export class ParseError extends PromQLError {
  override name = 'ParseError';
  constructor(
    readonly pos: PosRange,
    readonly reason: string,
    query: string,
  ) {
    super('BAD_DATA', `${lineCol(query, pos.start)}: parse error: ${reason}`);
  }
}

/** The query ran longer than its timeout, waiting for its turn (`query queue`) or evaluating. */
export class QueryTimeoutError extends PromQLError {
  override name = 'QueryTimeoutError';
  constructor(timeoutMs: number, stage: 'query queue' | 'expression evaluation') {
    super('TIMEOUT', `query timed out in ${stage} after ${timeoutMs / 1000}s`);
  }
}

/**
 * The query would hold more samples in memory than allowed: alone (`limit`), or together with
 * the other queries of its lane in flight (`inFlight` samples held by them).
 */
export class TooManySamplesError extends PromQLError {
  override name = 'TooManySamplesError';
  constructor(limit: number, inFlight = 0) {
    const shared = inFlight > 0 ? `, shared with queries in flight holding ${inFlight}` : '';
    super('TOO_MANY_SAMPLES', `query processing would load too many samples into memory in query execution (limit ${limit}${shared})`);
  }
}

/** A runtime failure, such as many-to-many matching or a duplicate output series. */
export class EvalError extends PromQLError {
  override name = 'EvalError';
  constructor(message: string) {
    super('EXECUTION', message);
  }
}

/** 1-based `line:column` of a 0-based offset, as Prometheus prints positions. */
export function lineCol(query: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < query.length; i++) {
    if (query.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}
