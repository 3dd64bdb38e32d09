import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { ERRORS, type ErrorCode } from '../../common/errors.js';
import { DecodeError } from '../errors.js';
import { declaredOverLimit, joinReserved, readReservedBody, RETRY_AFTER_SECONDS, type Reservation } from './inflight.js';
import { encodeExportResponse, encodeRpcStatus, exportResponseJson } from './proto.js';
import type { Encoding, OtlpSink } from '../sink.js';

export const OTLP_HTTP_PATH = '/v1/metrics';

const CONTENT_TYPES = new Map<string, Encoding>([
  ['application/x-protobuf', 'protobuf'],
  ['application/protobuf', 'protobuf'],
  ['application/json', 'json'],
]);

/** Content-Encoding → decompressor; identity has none. */
const DECOMPRESSORS = new Map<string, (() => Gunzip | Inflate) | undefined>([
  ['', undefined],
  ['identity', undefined],
  ['gzip', createGunzip],
  ['deflate', createInflate],
]);

/**
 * OTLP/HTTP `POST /v1/metrics` as a plain node:http handler, so it can share a port with other
 * routes or with gRPC. Protobuf or JSON bodies, identity/gzip/deflate encoded; both size limits
 * are enforced while reading and inflating, so neither a large body nor a gzip bomb is held in
 * memory, and every byte held is first reserved from the receiver's in-flight budget (429 with
 * Retry-After when it is full). Errors answer with a google.rpc.Status in the request's encoding,
 * as the OTLP spec asks.
 */
export function handleOtlpHttp(req: IncomingMessage, res: ServerResponse, sink: OtlpSink): void {
  const path = (req.url ?? '/').split('?', 1)[0];
  const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const encoding: Encoding = CONTENT_TYPES.get(contentType) ?? 'json';
  const fail = (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    const { http: status, grpc } = ERRORS[code];
    sink.stats.requestsFailed.http++;
    sink.log.debug({ status, path, contentType, message }, 'OTLP/HTTP request refused');
    reply(res, status, encoding, errorBody(encoding, grpc, message), headers);
    // Whatever the client is still sending is not wanted; let it drain without buffering.
    req.resume();
  };

  if (path !== OTLP_HTTP_PATH) return fail('NOT_FOUND', `no route ${path}: OTLP metrics go to POST ${OTLP_HTTP_PATH}`);
  if (req.method !== 'POST') {
    return fail('METHOD_NOT_ALLOWED', `method ${req.method} not allowed on ${OTLP_HTTP_PATH}: use POST`, { allow: 'POST' });
  }
  if (!CONTENT_TYPES.has(contentType)) {
    return fail('UNSUPPORTED_MEDIA_TYPE', `unsupported content-type ${JSON.stringify(contentType)}: send application/x-protobuf or application/json`);
  }
  const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (!DECOMPRESSORS.has(contentEncoding)) {
    return fail('UNSUPPORTED_MEDIA_TYPE', `unsupported content-encoding ${JSON.stringify(contentEncoding)}: send gzip, deflate or identity`);
  }
  const { maxRequestBytes, maxDecompressedBytes } = sink.limits;
  const overLimit = declaredOverLimit(req, maxRequestBytes);
  if (overLimit !== undefined) return fail('TOO_LARGE', overLimit, { connection: 'close' });

  const reservation = sink.budget.reserve();
  /** Ends the request with an error; what it reserved is given back. */
  const stop = (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    reservation.release();
    fail(code, message, headers);
  };
  const throttle = () => stop('OVER_BUDGET', sink.budget.fullMessage, { 'retry-after': String(RETRY_AFTER_SECONDS) });

  req.on('error', (err) => sink.log.debug({ err }, 'OTLP/HTTP request stream failed'));
  readReservedBody(req, maxRequestBytes, reservation, (body) => {
    if (body === 'too-large') {
      return stop('TOO_LARGE', `request body is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
    }
    if (body === 'no-budget') return throttle();
    const decompress = DECOMPRESSORS.get(contentEncoding);
    if (decompress === undefined) {
      if (body.length > maxDecompressedBytes) {
        return stop('TOO_LARGE', `request body of ${body.length} bytes is over the limit of ${maxDecompressedBytes} bytes`);
      }
      return finish(body);
    }
    inflateBounded(decompress(), body, maxDecompressedBytes, reservation, (outcome) => {
      if (outcome === 'too-large') return stop('TOO_LARGE', `decompressed request body is over the limit of ${maxDecompressedBytes} bytes`);
      if (outcome === 'no-budget') return throttle();
      if (outcome instanceof Error) return stop('BAD_DATA', `invalid ${contentEncoding} body: ${outcome.message}`);
      finish(outcome);
    });
  });

  const finish = (body: Buffer) => {
    sink.ingest(body, encoding, 'http').then(
      (response) => {
        reservation.release();
        reply(res, 200, encoding, encoding === 'protobuf' ? encodeExportResponse(response) : exportResponseJson(response));
      },
      (e: unknown) => {
        if (e instanceof DecodeError) return stop('BAD_DATA', e.message);
        sink.log.error({ err: e }, 'OTLP/HTTP export failed unexpectedly');
        stop('INTERNAL', 'internal error while storing the request');
      },
    );
  };
}

type InflateOutcome = Buffer | 'too-large' | 'no-budget' | Error;

/**
 * Inflates `body` as a stream, counting the output as it comes: past `limit` bytes, or when the
 * budget has no room for the next piece, the stream is destroyed there, so a bomb is never
 * inflated further than the limit. The compressed body is given back once the output is whole.
 */
function inflateBounded(zlib: Gunzip | Inflate, body: Buffer, limit: number, reservation: Reservation, done: (outcome: InflateOutcome) => void): void {
  const parts: Buffer[] = [];
  let total = 0;
  let over: InflateOutcome | undefined;
  zlib.on('data', (chunk: Buffer) => {
    if (over !== undefined) return;
    total += chunk.length;
    if (total > limit) over = 'too-large';
    else if (!reservation.grow(chunk.length)) over = 'no-budget';
    else return void parts.push(chunk);
    parts.length = 0;
    zlib.destroy();
    done(over);
  });
  zlib.on('error', (err) => {
    if (over !== undefined) return;
    over = err;
    parts.length = 0;
    done(err);
  });
  zlib.on('end', () => {
    if (over !== undefined) return;
    const out = joinReserved(parts, total, reservation);
    parts.length = 0;
    if (out === undefined) return done('no-budget');
    reservation.shrinkTo(total);
    done(out);
  });
  zlib.end(body);
}

function errorBody(encoding: Encoding, code: number, message: string): Uint8Array | string {
  return encoding === 'protobuf' ? encodeRpcStatus(code, message) : JSON.stringify({ code, message });
}

function reply(res: ServerResponse, status: number, encoding: Encoding, body: Uint8Array | string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    ...headers,
  });
  res.end(body);
}
