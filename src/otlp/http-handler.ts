import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { decodeJsonRequest } from './decode-json.js';
import { DecodeError } from './errors.js';
import type { OtlpRequest } from './model.js';
import { encodeExportResponse, encodeRpcStatus, exportResponseJson, type ExportResponse } from './proto.js';
import type { OtlpSink } from './sink.js';

export const OTLP_HTTP_PATH = '/v1/metrics';

/** google.rpc.Code values used in error bodies. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_NOT_FOUND = 5;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNIMPLEMENTED = 12;
const RPC_INTERNAL = 13;

type Encoding = 'protobuf' | 'json';
type Inflate = (buf: InputType, options: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

const CONTENT_TYPES = new Map<string, Encoding>([
  ['application/x-protobuf', 'protobuf'],
  ['application/protobuf', 'protobuf'],
  ['application/json', 'json'],
]);

/** Content-Encoding → decompressor; identity has none. */
const DECOMPRESSORS = new Map<string, Inflate | undefined>([
  ['', undefined],
  ['identity', undefined],
  ['gzip', gunzip],
  ['deflate', inflate],
]);

/**
 * OTLP/HTTP `POST /v1/metrics` as a plain node:http handler, so it can share a port with other
 * routes or with gRPC. Protobuf or JSON bodies, identity/gzip/deflate encoded; both size limits
 * are enforced while reading, so neither a large body nor a gzip bomb is held in memory.
 * Errors answer with a google.rpc.Status in the request's encoding, as the OTLP spec asks.
 */
export function handleOtlpHttp(req: IncomingMessage, res: ServerResponse, sink: OtlpSink): void {
  const path = (req.url ?? '/').split('?', 1)[0];
  const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const encoding: Encoding = CONTENT_TYPES.get(contentType) ?? 'json';
  const fail = (status: number, code: number, message: string, headers: Record<string, string> = {}) => {
    sink.stats.requestsFailed.http++;
    sink.log.debug({ status, path, contentType, message }, 'OTLP/HTTP request refused');
    reply(res, status, encoding, errorBody(encoding, code, message), headers);
    // Whatever the client is still sending is not wanted; let it drain without buffering.
    req.resume();
  };

  if (path !== OTLP_HTTP_PATH) return fail(404, RPC_NOT_FOUND, `no route ${path}: OTLP metrics go to POST ${OTLP_HTTP_PATH}`);
  if (req.method !== 'POST') {
    return fail(405, RPC_UNIMPLEMENTED, `method ${req.method} not allowed on ${OTLP_HTTP_PATH}: use POST`, { allow: 'POST' });
  }
  if (!CONTENT_TYPES.has(contentType)) {
    return fail(415, RPC_UNIMPLEMENTED, `unsupported content-type ${JSON.stringify(contentType)}: send application/x-protobuf or application/json`);
  }
  const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (!DECOMPRESSORS.has(contentEncoding)) {
    return fail(415, RPC_UNIMPLEMENTED, `unsupported content-encoding ${JSON.stringify(contentEncoding)}: send gzip, deflate or identity`);
  }
  const { maxRequestBytes, maxDecompressedBytes } = sink.limits;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxRequestBytes) {
    return fail(413, RPC_RESOURCE_EXHAUSTED, `request body of ${declared} bytes is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
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
      return fail(413, RPC_RESOURCE_EXHAUSTED, `request body is over the limit of ${maxRequestBytes} bytes`, { connection: 'close' });
    }
    chunks.push(chunk);
  });
  req.on('error', (err) => sink.log.debug({ err }, 'OTLP/HTTP request stream failed'));
  req.on('end', () => {
    if (refused) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const decompress = DECOMPRESSORS.get(contentEncoding);
    if (decompress === undefined) {
      if (body.length > maxDecompressedBytes) {
        return fail(413, RPC_RESOURCE_EXHAUSTED, `request body of ${body.length} bytes is over the limit of ${maxDecompressedBytes} bytes`);
      }
      return finish(body);
    }
    // maxOutputLength makes zlib stop as soon as the output would pass the limit.
    decompress(body, { maxOutputLength: maxDecompressedBytes }, (err, out) => {
      if (!err) return finish(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail(413, RPC_RESOURCE_EXHAUSTED, `decompressed request body is over the limit of ${maxDecompressedBytes} bytes`);
      }
      fail(400, RPC_INVALID_ARGUMENT, `invalid ${contentEncoding} body: ${err.message}`);
    });
  });

  const finish = (body: Buffer) => {
    let stored: Promise<ExportResponse>;
    if (encoding === 'protobuf') stored = sink.storeProtobuf(body, 'http');
    else {
      let request: OtlpRequest;
      try {
        request = decodeJsonRequest(body.toString('utf8'));
      } catch (e) {
        return refuse(e);
      }
      stored = sink.store(request, 'http');
    }
    stored.then(
      (response) => reply(res, 200, encoding, encoding === 'protobuf' ? encodeExportResponse(response) : exportResponseJson(response)),
      refuse,
    );
  };

  const refuse = (e: unknown) => {
    if (e instanceof DecodeError) return fail(400, RPC_INVALID_ARGUMENT, e.message);
    sink.log.error({ err: e }, 'OTLP/HTTP export failed unexpectedly');
    fail(500, RPC_INTERNAL, 'internal error while storing the request');
  };
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
