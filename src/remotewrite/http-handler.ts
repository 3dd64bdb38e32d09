import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Protocol } from './decode.js';
import { RemoteWriteError } from './errors.js';
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
  /** Decompresses, decodes and stores a body; rejects with RemoteWriteError when it is refused whole. */
  store(body: Buffer, protocol: Protocol): Promise<StoreResult>;
  /** A request refused whole (unsupported, too large, malformed), for the counters and the log. */
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
    const found = PROTO_MESSAGES.get(param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    if (found === undefined) return undefined;
    protocol = found;
  }
  return protocol;
}

/**
 * `POST /api/v1/write` as a plain node:http handler, for the API port and the OTLP/HTTP port alike.
 * Success is 204 with the `X-Prometheus-Remote-Write-*-Written` headers 2.0 asks for; refused
 * samples make it a 400 (never retried) carrying the same headers and a message with the counts.
 */
export function handleRemoteWrite(req: IncomingMessage, res: ServerResponse, sink: RemoteWriteSink): void {
  const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
    sink.refused(status, message);
    reply(res, status, message, headers);
    // Whatever the client is still sending is not wanted; let it drain without buffering.
    req.resume();
  };
  if (req.method !== 'POST') return fail(405, `method ${req.method} not allowed on ${REMOTE_WRITE_PATH}: use POST`, { allow: 'POST' });
  const contentType = req.headers['content-type'];
  const protocol = protocolOf(contentType);
  if (protocol === undefined) {
    return fail(
      415,
      `unsupported content-type ${JSON.stringify(contentType)}: send ${PROTOBUF} with proto=prometheus.WriteRequest or proto=io.prometheus.write.v2.Request`,
    );
  }
  const encoding = (req.headers['content-encoding'] ?? 'snappy').trim().toLowerCase();
  if (encoding !== 'snappy') return fail(415, `unsupported content-encoding ${JSON.stringify(encoding)}: remote write bodies are snappy-compressed`);
  const { maxRequestBytes } = sink.limits;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxRequestBytes) {
    return fail(413, `request body of ${declared} bytes is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
  }

  const chunks: Buffer[] = [];
  let received = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    if (received > maxRequestBytes) {
      refused = true;
      chunks.length = 0;
      return fail(413, `request body is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
    }
    chunks.push(chunk);
  });
  req.on('error', () => {
    refused = true;
  });
  req.on('end', () => {
    if (refused) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    sink.store(body, protocol).then(
      (result) => {
        const headers = writtenHeaders(result);
        if (result.rejected === 0) return reply(res, 204, '', headers);
        reply(res, 400, result.errorMessage, headers);
      },
      (e: unknown) => {
        if (e instanceof RemoteWriteError) return fail(e.status, e.message, writtenHeaders(undefined));
        sink.unexpected(e);
        // A retry is safe: storing a sample again at the same timestamp overwrites it.
        fail(500, 'internal error while storing the request');
      },
    );
  });
}

function writtenHeaders(result: StoreResult | undefined): Record<string, string> {
  return {
    'x-prometheus-remote-write-samples-written': String(result?.samplesWritten ?? 0),
    'x-prometheus-remote-write-histograms-written': '0',
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
