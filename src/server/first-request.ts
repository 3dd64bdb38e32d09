import { constants as http2Constants, createServer as createHttp2Server, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { H2_PREFACE, replaying } from './sniff.js';

/** The frame types this file reads (RFC 9113 §6); node:http2 names the flags but not these. */
const FRAME = { HEADERS: 0x1, SETTINGS: 0x4, GOAWAY: 0x7, CONTINUATION: 0x9 } as const;
const { NGHTTP2_FLAG_ACK: FLAG_ACK, NGHTTP2_FLAG_END_HEADERS: FLAG_END_HEADERS } = http2Constants;
const FRAME_HEADER_BYTES = 9;
/** An empty SETTINGS frame: a server's connection preface (RFC 9113 §3.4), carrying no changes. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, FRAME.SETTINGS, 0, 0, 0, 0, 0]);
/** Bytes a client may send before its first request's headers are complete; the default frame size is 16 KiB. */
const MAX_BYTES_BEFORE_FIRST_REQUEST = 64 * 1024;

export type Http2Route = 'grpc' | 'http';

/**
 * Walks a client's HTTP/2 frames (after the preface) as they arrive, without buffering them:
 * notes when the first request's header block is complete, and removes the client's first
 * SETTINGS acknowledgement, which answers our EMPTY_SETTINGS and must not reach the server that
 * takes the connection over: it would take it for the ACK of its own SETTINGS, and the real one
 * that follows for a protocol error.
 */
export class FrameWalker {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private payloadLeft = 0;
  private dropping = false;
  private endsBlock = false;
  private ackDropped = false;
  firstHeadersDone = false;

  /** Appends to `out` what the next server should read of `chunk`. */
  feed(chunk: Buffer, out: Buffer[]): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.payloadLeft === 0 && this.headerFill === 0 && this.ackDropped && this.firstHeadersDone) {
        out.push(i === 0 ? chunk : chunk.subarray(i));
        return;
      }
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - i);
        if (!this.dropping) out.push(chunk.subarray(i, i + n));
        i += n;
        this.payloadLeft -= n;
        if (this.payloadLeft === 0) this.endFrame();
        continue;
      }
      const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + n);
      this.headerFill += n;
      i += n;
      if (this.headerFill < FRAME_HEADER_BYTES) return;
      this.headerFill = 0;
      const length = this.header.readUIntBE(0, 3);
      const type = this.header[3]!;
      const flags = this.header[4]!;
      this.dropping = !this.ackDropped && type === FRAME.SETTINGS && (flags & FLAG_ACK) !== 0;
      if (this.dropping) this.ackDropped = true;
      else out.push(Buffer.from(this.header));
      this.endsBlock = !this.firstHeadersDone && (type === FRAME.HEADERS || type === FRAME.CONTINUATION) && (flags & FLAG_END_HEADERS) !== 0;
      this.payloadLeft = length;
      if (length === 0) this.endFrame();
    }
  }

  private endFrame(): void {
    if (this.endsBlock) this.firstHeadersDone = true;
    this.endsBlock = false;
    this.dropping = false;
  }
}

/**
 * Reads the header block of a connection's first request with node's own HTTP/2 (HPACK) decoder:
 * a throwaway server session is fed the client's bytes and its replies are discarded.
 */
function firstRequestHeaders(bytes: Buffer[], timeoutMs: number): Promise<IncomingHttpHeaders | undefined> {
  return new Promise((resolve) => {
    const decoder = createHttp2Server();
    const feed = new Duplex({
      read() {},
      write: (chunk: Buffer, _encoding, callback) => {
        // A block it cannot decode makes the session send GOAWAY, with no event of its own.
        if (sendsGoaway(chunk)) finish(undefined);
        callback();
      },
    });
    // Should a block turn into neither a stream nor a refusal, the decision still ends.
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (headers: IncomingHttpHeaders | undefined) => {
      clearTimeout(timer);
      feed.destroy();
      resolve(headers);
    };
    decoder.once('stream', (_stream, headers) => finish(headers));
    decoder.on('sessionError', () => finish(undefined));
    feed.on('close', () => finish(undefined));
    feed.on('error', () => undefined);
    decoder.emit('connection', feed);
    for (const b of bytes) feed.push(b);
  });
}

/** Whether frames a session wrote (each write starts at a frame) include a GOAWAY. */
function sendsGoaway(chunk: Buffer): boolean {
  for (let at = 0; at + FRAME_HEADER_BYTES <= chunk.length; at += FRAME_HEADER_BYTES + chunk.readUIntBE(at, 3)) {
    if (chunk[at + 3] === FRAME.GOAWAY) return true;
  }
  return false;
}

/**
 * Decides where a cleartext HTTP/2 connection goes on a port that serves both gRPC and plain HTTP
 * (OTLP/HTTP over h2c): by the content-type of its first request, application/grpc or not. A
 * client may wait for the server's preface before sending any request (grpc-go does), so an empty
 * SETTINGS frame is sent first. A client that sends no request within `timeoutMs` goes to gRPC:
 * it is most likely a gRPC channel connecting ahead of its first call, and the gRPC server's idle
 * bound then applies to it.
 *
 * `head` holds the bytes read so far, starting with the preface. `done` gets the chosen route and
 * the connection as a stream that replays what was read; with no route, the socket was destroyed.
 */
export function routeByFirstRequest(socket: Socket, head: Buffer, timeoutMs: number, done: (route: Http2Route | undefined, connection: Duplex) => void): void {
  const walker = new FrameWalker();
  const read: Buffer[] = [H2_PREFACE];
  let readBytes = 0;
  let decided = false;
  const decide = (route: Http2Route | undefined) => {
    if (decided) return;
    decided = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    if (route === undefined) {
      socket.destroy();
      return;
    }
    done(
      route,
      replaying(socket, Buffer.concat(read), (chunk, out) => walker.feed(chunk, out)),
    );
  };
  const onData = (chunk: Buffer) => {
    const before = read.length;
    walker.feed(chunk, read);
    for (let i = before; i < read.length; i++) readBytes += read[i]!.length;
    if (walker.firstHeadersDone) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      firstRequestHeaders(read, timeoutMs).then(
        (headers) => {
          if (headers === undefined) decide(undefined);
          else decide(String(headers['content-type'] ?? '').startsWith('application/grpc') ? 'grpc' : 'http');
        },
        () => decide(undefined),
      );
    } else if (readBytes > MAX_BYTES_BEFORE_FIRST_REQUEST) decide(undefined);
  };
  const onClose = () => decide(undefined);
  const timer = setTimeout(() => decide('grpc'), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.write(EMPTY_SETTINGS);
  if (head.length > H2_PREFACE.length) onData(head.subarray(H2_PREFACE.length));
  socket.resume();
}
