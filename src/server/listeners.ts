import { createServer as createHttpServer, maxHeaderSize, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { constants as http2Constants, createServer as createHttp2Server, type Http2Server, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { Admission } from './admission.js';
import { routeByFirstRequest } from './first-request.js';
import { replaying, sniffProtocol } from './sniff.js';
import type { TlsFiles } from './tls.js';

const FORCE_CLOSE_AFTER_MS = 5_000;
/**
 * A restarting process may find a port still held by the one it replaces, which drains for a few
 * seconds before it lets go: binding is retried this long, at most BIND_RETRY_MAX_DELAY_MS apart.
 */
const BIND_RETRY_MS = 10_000;
const BIND_RETRY_FIRST_DELAY_MS = 50;
const BIND_RETRY_MAX_DELAY_MS = 250;
/** Past this many open connections a listener closes new ones at once, before the process runs out of file descriptors. */
export const MAX_CONNECTIONS_PER_LISTENER = 8_192;
/** Longer than the 60 s idle timeout of common load balancers, so they, not we, close idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/**
 * Streams one h2c connection of OTLP/HTTP may have open at once. Each may hold a request body up
 * to the size limit, so one such connection holds no more bodies than 16 HTTP/1.1 connections.
 */
const MAX_HTTP2_STREAMS = 16;
/** How long a refused request's connection keeps being read (and discarded) so the refusal arrives before the close. */
const REFUSAL_LINGER_MS = 2_000;

/** A port that cannot be listened on; the message says which and why, for one line on stderr. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What grpc-js's `Server.createConnectionInjector` gives: a way to hand it a connection. */
export interface GrpcInjector {
  injectConnection(connection: Duplex): void;
}

export interface ListenerRoutes {
  /** Where HTTP/2 connections go (those whose first request is gRPC, where `http` is served too). */
  grpc?: GrpcInjector;
  /** Where HTTP/1.1 requests go, and HTTP/2 requests that are not gRPC. */
  http?: HttpHandler;
  /** The body of an answer to a request refused before it reached `http` (headers too large, too slow), in the port's error format. */
  refusalBody?: (message: string) => string;
}

export interface ListenerLimits {
  /** Open connections on this listener at once. */
  maxConnections: number;
  /** Open connections one peer address may hold on this listener. */
  maxConnectionsPerAddress: number;
  /** A new connection must finish its TLS handshake, its HTTP/2 preface and first request's headers, or its HTTP/1.1 request headers, within this. */
  headerTimeoutMs: number;
  /** A request (headers and body) must have arrived whole within this. */
  requestTimeoutMs: number;
  /** An HTTP/2 connection serving plain HTTP with no stream open this long is closed with GOAWAY. */
  idleTimeoutMs: number;
}

export interface ListenerOptions {
  limits: ListenerLimits;
  tls?: TlsFiles;
}

/**
 * A port whose connections are sorted by protocol: each connection's first bytes say whether it
 * is HTTP/2 or HTTP/1.1, and an HTTP/2 connection's first request says whether it is gRPC, and it
 * is handed to the server for that. So one port can serve OTLP/HTTP (over HTTP/1.1 or h2c) and
 * KEDA's gRPC client at once, as 4318 does, and every port shares one way of listening, closing,
 * bounding connections and terminating TLS (with ALPN offering the protocols the port serves).
 */
export class Listener {
  private readonly net: NetServer;
  private readonly http: HttpServer | undefined;
  private readonly http2: Http2Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly http2Sessions = new Set<Http2Session>();
  private readonly unsubscribeTls: (() => void) | undefined;
  private shuttingDown = false;

  constructor(
    readonly name: string,
    routes: ListenerRoutes,
    private readonly log: Logger,
    { limits, tls }: ListenerOptions,
  ) {
    const handler = routes.http;
    const refusal = (message: string) =>
      routes.refusalBody ? { type: 'application/json', text: routes.refusalBody(message) } : { type: 'text/plain; charset=utf-8', text: `${message}\n` };
    if (handler) {
      // Node's HTTP server checks its header and request deadlines on this interval; it is the bounds' slack.
      const checkEvery = Math.max(100, Math.min(1_000, Math.floor(limits.headerTimeoutMs / 4)));
      this.http = createHttpServer(
        {
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
          headersTimeout: Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs),
          requestTimeout: limits.requestTimeoutMs,
          connectionsCheckingInterval: checkEvery,
        },
        (req, res) => {
          // Clients told to close after this response open a new connection for the next one, instead of losing it to the close.
          if (this.shuttingDown) res.setHeader('connection', 'close');
          handler(req, res);
        },
      );
      this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => refuseRequest(err, socket, refusal));
      // node:http tracks its connections (to close idle ones, and to enforce its header and request
      // timeouts against slow clients) only from its 'listening' event; it never listens itself here.
      this.http.emit('listening');
    }
    if (handler && routes.grpc) {
      this.http2 = createHttp2Server({ settings: { maxConcurrentStreams: MAX_HTTP2_STREAMS } }, (req, res) => {
        const deadline = setTimeout(() => {
          if (req.complete) return;
          if (res.headersSent) req.stream.close(http2Constants.NGHTTP2_CANCEL);
          else {
            const { type, text } = refusal(`request not received whole within ${limits.requestTimeoutMs} ms`);
            res.writeHead(408, { 'content-type': type }).end(text);
          }
        }, limits.requestTimeoutMs);
        req.stream.once('close', () => clearTimeout(deadline));
        // GOAWAY after this request: the client finishes it and takes its next one elsewhere.
        if (this.shuttingDown) req.stream.session?.close();
        // Node's HTTP/2 compatibility API mirrors what handlers use of IncomingMessage and ServerResponse.
        handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      });
      this.http2.on('session', (session: Http2Session) => {
        this.http2Sessions.add(session);
        session.once('close', () => this.http2Sessions.delete(session));
        session.setTimeout(limits.idleTimeoutMs, () => session.close());
      });
      this.http2.on('sessionError', (err) => log.debug({ err, listener: name }, 'HTTP/2 session error'));
    }

    const admission = new Admission({ maxConnections: limits.maxConnections, maxPerAddress: limits.maxConnectionsPerAddress });
    const admit = (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      if (!admission.admit(address)) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        admission.release(address);
      });
    };
    const onConnection = (socket: Socket) => {
      if (socket.destroyed) return;
      socket.on('error', (err) => log.debug({ err, listener: name }, 'connection error'));
      // Without it, Nagle's algorithm holds HTTP/2's small frames (WINDOW_UPDATE, SETTINGS ACK)
      // for the peer's delayed ACK: a 3 MB gRPC message through a sniffed connection took 3 s, not 90 ms.
      socket.setNoDelay(true);
      const negotiated = (socket as TLSSocket).alpnProtocol;
      if (routes.grpc && !this.http) {
        // Nothing to tell apart: the connection goes to gRPC untouched, on node's fast native path.
        routes.grpc.injectConnection(socket);
        return;
      }
      if (this.http && negotiated === 'http/1.1') {
        this.http.emit('connection', socket);
        return;
      }
      sniffProtocol(socket, limits.headerTimeoutMs, (protocol, head) => {
        if (protocol === 'h2' && routes.grpc && this.http2) {
          routeByFirstRequest(socket, head, limits.headerTimeoutMs, (route, connection) => {
            if (route === 'grpc') routes.grpc!.injectConnection(connection);
            else this.http2!.emit('connection', connection);
          });
        } else if (protocol === 'h2' && routes.grpc) routes.grpc.injectConnection(replaying(socket, head));
        else if (protocol === 'http1' && this.http) {
          socket.unshift(head);
          this.http.emit('connection', socket);
          socket.resume();
        } else if (protocol === 'http1') refuseHttp1(socket, name);
        else socket.destroy();
      });
    };
    if (tls) {
      const server = createTlsServer(
        {
          ...tls.options,
          ALPNProtocols: alpnProtocols(routes),
          requestCert: tls.requireClientCert,
          rejectUnauthorized: tls.requireClientCert,
          handshakeTimeout: limits.headerTimeoutMs,
        },
        onConnection,
      );
      server.on('tlsClientError', (err) => log.debug({ err: err.message, listener: name }, 'TLS handshake refused'));
      this.unsubscribeTls = tls.subscribe((options) => server.setSecureContext(options));
      this.net = server;
    } else {
      this.net = createNetServer(onConnection);
    }
    // Before the TLS server's own listener, so a refused peer costs no handshake.
    this.net.prependListener('connection', admit);
  }

  /** From now on HTTP/1.1 responses close their connection and plain-HTTP HTTP/2 sessions get GOAWAY: clients move off before the listener closes. */
  beginShutdown(): void {
    this.shuttingDown = true;
    for (const session of this.http2Sessions) session.close();
  }

  /** Binds, retrying for a while a port another process still holds; ListenError when it cannot. */
  async listen(host: string, port: number): Promise<number> {
    const deadline = Date.now() + BIND_RETRY_MS;
    for (let delay = BIND_RETRY_FIRST_DELAY_MS; ; delay = Math.min(delay * 2, BIND_RETRY_MAX_DELAY_MS)) {
      try {
        const bound = await this.bind(host, port);
        this.net.on('error', (err) => this.log.error({ err, listener: this.name }, 'listener error'));
        this.log.debug({ listener: this.name, port: bound }, 'listening');
        return bound;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const address = `${host}:${port}`;
        if (err.code !== 'EADDRINUSE') throw new ListenError(`cannot listen on ${address} (${this.name}): ${err.message}`);
        if (Date.now() + delay > deadline) {
          throw new ListenError(
            `cannot listen on ${address} (${this.name}): the address is still in use after ${BIND_RETRY_MS / 1000}s of retries; another process holds it`,
          );
        }
        if (delay === BIND_RETRY_FIRST_DELAY_MS)
          this.log.info({ listener: this.name, address }, 'address in use, retrying (a previous process may still be draining)');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private bind(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(port, host, () => {
        this.net.off('error', reject);
        resolve((this.net.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; idle HTTP/1.1 connections close now, the rest when done or after `graceMs`. */
  close(graceMs = FORCE_CLOSE_AFTER_MS): Promise<void> {
    this.unsubscribeTls?.();
    return new Promise((resolve) => {
      this.beginShutdown();
      this.net.close(() => resolve());
      this.http?.close();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, graceMs).unref();
    });
  }
}

/**
 * The protocols offered in ALPN, most preferred first: the server's order decides (OpenSSL takes
 * the first one the client also offers). HTTP/1.1 leads wherever it is served, because gRPC clients
 * offer only h2, while browsers and Go's net/http (Grafana, the collector's otlphttp exporter)
 * offer both and, handed h2, would be sent to the gRPC server, which cannot answer them.
 */
function alpnProtocols(routes: ListenerRoutes): string[] {
  return [...(routes.http ? ['http/1.1'] : []), ...(routes.grpc ? ['h2'] : [])];
}

const refused = new WeakSet<Duplex>();

/**
 * Answers a request node's HTTP parser refused (headers over its size limit, malformed, or not
 * received in time) in the port's error format, instead of node's bare status line. The
 * connection is then read and discarded for a moment: closing it with the client's bytes unread
 * would reset it, and the client would see ECONNRESET instead of the answer.
 */
function refuseRequest(err: NodeJS.ErrnoException, socket: Duplex, refusal: (message: string) => { type: string; text: string }): void {
  // The parser stays on the socket and reports its error again for every later chunk.
  if (refused.has(socket)) return;
  refused.add(socket);
  if (!socket.writable || socket.writableEnded) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `request line and headers are over the limit of ${maxHeaderSize} bytes`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request not received whole in time']
        : [400, 'Bad Request', `malformed HTTP request: ${err.message}`];
  const { type, text } = refusal(message);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  socket.on('data', () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}

function refuseHttp1(socket: Socket, name: string): void {
  const body = `the ${name} port speaks gRPC (HTTP/2) only\n`;
  socket.end(
    `HTTP/1.1 426 Upgrade Required\r\nupgrade: h2c\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
