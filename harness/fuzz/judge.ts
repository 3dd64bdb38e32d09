import { status } from '@grpc/grpc-js';
import type { FuzzCase } from './cases.js';
import { POSITIONED_PARSE_ERROR } from './promql-cases.js';
import type { Reply } from './send.js';

export interface Verdict {
  /** A short name of what came back, for the counts: "http 400", "grpc INVALID_ARGUMENT", "hang". */
  outcome: string;
  /** Why the reply is wrong, when it is. */
  fault?: string;
  /** The reply refused the query text with a positioned parse error. */
  parseError?: boolean;
}

/** Codes that say "your request was wrong / too big / not served here" or answer it. */
const GRPC_ACCEPTABLE = new Set<status>([status.OK, status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]);

/** Kinds whose body the server may stop reading and drop the connection over. */
const MAY_RESET = new Set(['otlp-http-oversized', 'otlp-decompression-bomb']);

/**
 * node:http's limit on a request's head. Past it the server answers 431 and closes at once; a
 * client still sending the head then sees the close as a reset before it reads the 431.
 */
const MAX_HEADER_BYTES = 16 * 1024;
/** fastify's default body limit, which the API keeps: past it, 413 and the connection closed. */
const API_BODY_LIMIT = 1024 * 1024;

function mayReset(c: FuzzCase): boolean {
  if (MAY_RESET.has(c.kind) || c.overLimit === true) return true;
  return c.via === 'http' && (c.path.length > MAX_HEADER_BYTES || (c.port === 'http' && (c.body?.length ?? 0) > API_BODY_LIMIT));
}

/** The scaler's answer while its store does not yet hold a query's whole window (a fresh process, a fixed `@` before its data). */
export const WINDOW_NOT_HELD = /; the query reads .*; (answers in \d+s|that time will not be covered)/;

function grpcAcceptable(c: FuzzCase, code: status, details: string): boolean {
  if (GRPC_ACCEPTABLE.has(code)) return true;
  // A path no service has, or a health check for a service name that random bytes made up.
  if (code === status.UNIMPLEMENTED && c.kind === 'grpc-random-method') return true;
  if (code === status.NOT_FOUND && c.kind === 'grpc-random-method') return true;
  // A well-formed query whose answer KEDA cannot use (NaN, ±Inf): an answer, not a failure.
  if (code === status.OUT_OF_RANGE && (c.kind === 'promql-keda' || c.kind === 'grpc-bitflip-getmetrics')) return true;
  if (code === status.UNAVAILABLE && (c.kind === 'promql-keda' || c.kind === 'grpc-bitflip-getmetrics') && WINDOW_NOT_HELD.test(details)) return true;
  // A query stopped by its timeout, as the scaler tells KEDA.
  if (code === status.DEADLINE_EXCEEDED && (c.kind === 'promql-keda' || c.kind === 'grpc-bitflip-getmetrics')) return true;
  return false;
}

/** A refused query's verdict: faulty unless a parse error names its position and cause. */
function queryError(outcome: string, query: string, message: string): Verdict {
  const fault = queryErrorFault(query, message);
  if (fault) return { outcome, fault };
  return /parse error/.test(message) ? { outcome, parseError: true } : { outcome };
}

function queryErrorFault(query: string, message: string): string | undefined {
  if (!/parse error/.test(message)) return undefined;
  const at = message.search(/\d+:\d+: parse error/);
  if (at === -1 || !POSITIONED_PARSE_ERROR.test(message.slice(at)))
    return `parse error without position and cause for ${JSON.stringify(query.slice(0, 200))}: ${message.slice(0, 300)}`;
  return undefined;
}

/** Whether a reply is one the service may give to this case. */
export function judge(c: FuzzCase, r: Reply): Verdict {
  switch (r.via) {
    case 'hang':
      return {
        outcome: 'hang',
        fault: `no reply within the timeout (${c.kind} to ${c.port}${c.query === undefined ? '' : `: ${c.query.length} characters, ${JSON.stringify(c.query.slice(0, 80))}`})`,
      };
    case 'error':
      if (mayReset(c) && (r.code === 'ECONNRESET' || r.code === 'EPIPE')) return { outcome: 'reset' };
      // The gRPC-only port answers HTTP/1.1 in HTTP/2 (SETTINGS, GOAWAY): a refusal an HTTP/1.1 client cannot parse.
      if (c.port === 'otlpGrpc' && c.via === 'http' && r.code?.startsWith('HPE_')) return { outcome: 'refused as HTTP/2' };
      return { outcome: `error ${r.code ?? r.message}`, fault: `${c.kind} to ${c.port}: ${r.message}` };
    case 'tcp':
      return { outcome: 'tcp closed' };
    case 'grpc': {
      const outcome = `grpc ${status[r.code]}`;
      if (!grpcAcceptable(c, r.code, r.details))
        return { outcome, fault: `${c.kind} to ${c.port} ${c.via === 'grpc' ? c.path : ''}: ${status[r.code]} ${r.details}` };
      if (c.query !== undefined && r.code === status.INVALID_ARGUMENT) return queryError(outcome, c.query, r.details);
      return { outcome };
    }
    case 'http': {
      const outcome = `http ${r.status}`;
      // A query stopped by its timeout is 503 with errorType "timeout", as Prometheus answers it.
      if (c.query !== undefined && r.status === 503 && /"errorType":"timeout"/.test(r.body)) return { outcome };
      if (r.status >= 500 || r.status < 200)
        return {
          outcome,
          fault: `${c.kind} to ${c.port} ${c.via === 'http' ? `${c.method} ${c.path.slice(0, 100)}` : ''}: ${r.status} ${r.body.slice(0, 300)}`,
        };
      // 400 and 422 are the API's own query errors; others (413, 431: request too large) come from the HTTP layer.
      if (c.query !== undefined && (r.status === 400 || r.status === 422)) {
        let error: string;
        try {
          const message = (JSON.parse(r.body) as { error?: unknown }).error;
          error = typeof message === 'string' ? message : '';
        } catch {
          return { outcome, fault: `query error body is not JSON: ${r.body.slice(0, 200)}` };
        }
        if (error === '') return { outcome, fault: `query error without a message for ${JSON.stringify(c.query.slice(0, 200))}` };
        // Prometheus names the parameter first: `invalid parameter "query": 1:5: parse error: …`.
        if (c.query.trim() === '' || (/invalid parameter/.test(error) && !/parse error/.test(error))) return { outcome };
        // Every refusal of the query text itself is a positioned syntax or type error.
        if (r.status === 400 && !/parse error/.test(error)) return { outcome, fault: `query refused without position: ${error.slice(0, 300)}` };
        return queryError(outcome, c.query, error);
      }
      return { outcome };
    }
  }
}
