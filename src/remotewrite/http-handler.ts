import type { IncomingMessage, ServerResponse } from 'node:http';
import { declaredOverLimit, readReservedBody, RETRY_AFTER_SECONDS, type InflightBudget, type Reservation } from '../otlp/transport/inflight.js';
import type { Protocol } from './decode.js';
import { ERRORS, UserError, type ErrorCode } from '../common/errors.js';
import type { StoreResult } from './store.js';

export const REMOTE_WRITE_PATH = '/api/v1/write';

const PROTOBUF = 'application/x-protobuf';
const PROTO_MESSAGES = new Map<string, Protocol>([
  ['prometheus.WriteRequest', 'v1'],
  ['io.prometheus.write.v2.Request', 'v2'],
]);

/** What the handler hands bodies to (the receiver), and the limits it enforces first. */
export interface RemoteWriteSink {
  readonly limits: { maxRequestBytes: number; maxDecompressedBytes: number };
  /** The in-flight budget shared with the OTLP receiver: every byte held is reserved from it first. */
  readonly budget: InflightBudget;
  /**
   * Decompresses, decodes and stores a body, reserving its decompressed bytes on `reservation`
   * first; rejects with UserError when it is refused whole.
   */
  store(body: Buffer, protocol: Protocol, reservation: Reservation): Promise<StoreResult>;
  /** A request refused whole (unsupported, too large, malformed, over the in-flight budget), for the counters and the log. */
  refused(status: number, message: string): void;
  unexpected(error: unknown): void;
}

/**
 * Which message a Content-Type names, as Remote-Write 2.0 says: `application/x-protobuf` alone
 * (or no header, as 1.0 senders that predate it) is 1.0; `;proto=` names the message. Undefined
 * for anything else.
 */
export function protocolOf(contentType: string | undefined): Protocol | undefined {
  if (contentType === undefined || contentType.trim() === '') return 'v1';
  const [media, ...params] = contentType.split(';');
  if (media!.trim().toLowerCase() !== PROTOBUF) return undefined;
  let protocol: Protocol = 'v1';
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'proto') continue;
    const found = PROTO_MESSAGES.get(
      param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1'),
    );
    if (found === undefined) return undefined;
    protocol = found;
  }
  return protocol;
}

/**
 * `POST /api/v1/write` as a plain node:http handler, for the API port and the OTLP/HTTP port alike.
 * Success is 204 with the `X-Prometheus-Remote-Write-*-Written` headers 2.0 asks for; refused
 * samples make it a 400 (never retried) carrying the same headers and a message with the counts.
 * The body as it arrives is reserved from the in-flight budget; when it is full the answer is 429
 * with Retry-After, as the specification allows for an overloaded receiver.
 */
export function handleRemoteWrite(req: IncomingMessage, res: ServerResponse, sink: RemoteWriteSink): void {
  const fail = (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    const status = ERRORS[code].http;
    sink.refused(status, message);
    reply(res, status, message, headers);
    // Whatever the client is still sending is not wanted; let it drain without buffering.
    req.resume();
  };
  if (req.method !== 'POST') return fail('METHOD_NOT_ALLOWED', `method ${req.method} not allowed on ${REMOTE_WRITE_PATH}: use POST`, { allow: 'POST' });
  const contentType = req.headers['content-type'];
  const protocol = protocolOf(contentType);
  if (protocol === undefined) {
    return fail(
      'UNSUPPORTED_MEDIA_TYPE',
      `unsupported content-type ${JSON.stringify(contentType)}: send ${PROTOBUF} with proto=prometheus.WriteRequest or proto=io.prometheus.write.v2.Request`,
    );
  }
  const encoding = (req.headers['content-encoding'] ?? 'snappy').trim().toLowerCase();
  if (encoding !== 'snappy')
    return fail('UNSUPPORTED_MEDIA_TYPE', `unsupported content-encoding ${JSON.stringify(encoding)}: remote write bodies are snappy-compressed`);
  const { maxRequestBytes } = sink.limits;
  const overLimit = declaredOverLimit(req, maxRequestBytes);
  if (overLimit !== undefined) return fail('TOO_LARGE', overLimit, { connection: 'close' });

  const reservation = sink.budget.reserve();
  /** Ends the request with an error; what it reserved is given back. */
  const stop = (code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    reservation.release();
    fail(code, message, code === 'OVER_BUDGET' ? { ...headers, 'retry-after': String(RETRY_AFTER_SECONDS) } : headers);
  };

  // An aborted upload ends here; readReservedBody gives back what it held when the request closes.
  req.on('error', () => undefined);
  readReservedBody(req, maxRequestBytes, reservation, (body) => {
    if (body === 'too-large') return stop('TOO_LARGE', `request body is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
    if (body === 'no-budget') return stop('OVER_BUDGET', sink.budget.fullMessage);
    sink.store(body, protocol, reservation).then(
      (result) => {
        reservation.release();
        const headers = writtenHeaders(result);
        if (result.rejected === 0) return reply(res, 204, '', headers);
        reply(res, ERRORS.BAD_DATA.http, result.errorMessage, headers);
      },
      (e: unknown) => {
        if (e instanceof UserError) return stop(e.code, e.message, writtenHeaders(undefined));
        sink.unexpected(e);
        // A retry is safe: storing a sample again at the same timestamp overwrites it.
        stop('INTERNAL', 'internal error while storing the request');
      },
    );
  });
}

function writtenHeaders(result: StoreResult | undefined): Record<string, string> {
  return {
    'x-prometheus-remote-write-samples-written': String(result?.samplesWritten ?? 0),
    'x-prometheus-remote-write-histograms-written': String(result?.histogramsWritten ?? 0),
    'x-prometheus-remote-write-exemplars-written': '0',
  };
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const body = status === 204 ? '' : `${message}\n`;
  res.writeHead(status, {
    ...(status === 204 ? {} : { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) }),
    ...headers,
  });
  res.end(body);
}
