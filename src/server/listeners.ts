import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { replaying, sniffProtocol } from './sniff.js';
import type { TlsFiles } from './tls.js';

const SNIFF_TIMEOUT_MS = 10_000;
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
  /** Where HTTP/2 connections go. */
  grpc?: GrpcInjector;
  /** Where HTTP/1.1 connections go. */
  http?: HttpHandler;
}

/**
 * A port whose connections are sorted by protocol: each connection's first bytes say whether it
 * is HTTP/2 (gRPC) or HTTP/1.1, and it is handed to the server for that protocol. So one port can
 * serve OTLP/HTTP and KEDA's gRPC client at once, as 4318 does, and every port shares one way
 * of listening, closing and terminating TLS (with ALPN offering the protocols the port serves).
 */
export class Listener {
  private readonly net: NetServer;
  private readonly http: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly unsubscribeTls: (() => void) | undefined;

  constructor(
    readonly name: string,
    routes: ListenerRoutes,
    private readonly log: Logger,
    tls?: TlsFiles,
    maxConnections = MAX_CONNECTIONS_PER_LISTENER,
  ) {
    this.http = routes.http ? createHttpServer({ keepAliveTimeout: 65_000 }, routes.http) : undefined;
    // node:http tracks its connections (to close idle ones, and to enforce its header and request
    // timeouts against slow clients) only from its 'listening' event; it never listens itself here.
    this.http?.emit('listening');
    const onConnection = (socket: Socket) => {
      // Without it, Nagle's algorithm holds HTTP/2's small frames (WINDOW_UPDATE, SETTINGS ACK)
      // for the peer's delayed ACK: a 3 MB gRPC message through a sniffed connection took 3 s, not 90 ms.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', (err) => log.debug({ err, listener: name }, 'connection error'));
      const negotiated = (socket as TLSSocket).alpnProtocol;
      if (routes.grpc && (!this.http || negotiated === 'h2')) {
        // Nothing to tell apart: the connection goes to gRPC untouched, on node's fast native path.
        routes.grpc.injectConnection(socket);
        return;
      }
      if (this.http && negotiated === 'http/1.1') {
        this.http.emit('connection', socket);
        return;
      }
      sniffProtocol(socket, SNIFF_TIMEOUT_MS, (protocol, head) => {
        if (protocol === 'h2' && routes.grpc) routes.grpc.injectConnection(replaying(socket, head));
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
        { ...tls.options, ALPNProtocols: alpnProtocols(routes), requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert },
        onConnection,
      );
      server.on('tlsClientError', (err) => log.debug({ err: err.message, listener: name }, 'TLS handshake refused'));
      this.unsubscribeTls = tls.subscribe((options) => server.setSecureContext(options));
      this.net = server;
    } else {
      this.net = createNetServer(onConnection);
    }
    this.net.maxConnections = maxConnections;
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
          throw new ListenError(`cannot listen on ${address} (${this.name}): the address is still in use after ${BIND_RETRY_MS / 1000}s of retries; another process holds it`);
        }
        if (delay === BIND_RETRY_FIRST_DELAY_MS) this.log.info({ listener: this.name, address }, 'address in use, retrying (a previous process may still be draining)');
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

function refuseHttp1(socket: Socket, name: string): void {
  const body = `the ${name} port speaks gRPC (HTTP/2) only\n`;
  socket.end(`HTTP/1.1 426 Upgrade Required\r\nupgrade: h2c\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
