import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import type { FuzzCase, GrpcCase, HttpCase, PortName, TcpCase } from './cases.js';

/** What came back for one case; `hang` when nothing did within the per-request timeout. */
export type Reply =
  | { via: 'http'; status: number; body: string }
  | { via: 'grpc'; code: status; details: string }
  | { via: 'tcp'; closed: true; bytes: number }
  | { via: 'error'; message: string; code?: string }
  | { via: 'hang' };

const MAX_BODY_KEPT = 64 * 1024;
const OWN_CONNECTION_BYTES = 1024 * 1024;
const identity = (b: Buffer) => b;

/**
 * Sends cases to a scaler on loopback: HTTP/1.1 with keep-alive, raw gRPC unary calls (the bytes
 * are sent as they are, so malformed messages reach the server), and raw TCP.
 */
export class Sender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly grpcClients = new Map<PortName, Client>();

  constructor(
    private readonly host: string,
    private readonly ports: Record<PortName, number>,
    private readonly timeoutMs: number,
  ) {}

  send(c: FuzzCase): Promise<Reply> {
    switch (c.via) {
      case 'http':
        return this.http(c);
      case 'grpc':
        return this.grpc(c);
      case 'tcp':
        return this.tcp(c);
    }
  }

  close(): void {
    this.agent.destroy();
    for (const client of this.grpcClients.values()) client.close();
  }

  private http(c: HttpCase): Promise<Reply> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const headers: Record<string, string | number> = { ...c.headers };
      if (c.body) headers['content-length'] = c.body.length;
      const req = request({ host: this.host, port: this.ports[c.port], method: c.method, path: c.path, headers, agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_BODY_KEPT) body += chunk;
        });
        res.on('end', () => done({ via: 'http', status: res.statusCode ?? 0, body }));
        res.on('error', (err: NodeJS.ErrnoException) => done({ via: 'http', status: res.statusCode ?? 0, body: `${body}[${err.code ?? err.message}]` }));
      });
      const timer = setTimeout(() => {
        done({ via: 'hang' });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => done({ via: 'error', message: err.message, code: err.code }));
      req.end(c.body);
    });
  }

  private client(port: PortName): Client {
    let client = this.grpcClients.get(port);
    if (!client) {
      client = this.newClient(port);
      this.grpcClients.set(port, client);
    }
    return client;
  }

  private newClient(port: PortName): Client {
    return new Client(`${this.host}:${this.ports[port]}`, credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      // Separate channels even to the same address, so closing one does not close the shared one.
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  private grpc(c: GrpcCase): Promise<Reply> {
    // A connection that sent a message the server refused for its size keeps that message in
    // memory (grpc-js's HTTP/2 session holds it): such messages get a connection of their own.
    const own = c.body.length > OWN_CONNECTION_BYTES ? this.newClient(c.port) : undefined;
    return new Promise((resolve) => {
      const deadline = Date.now() + this.timeoutMs;
      (own ?? this.client(c.port)).makeUnaryRequest(c.path, identity, identity, c.body, { deadline }, (err: ServiceError | null) => {
        own?.close();
        if (!err) resolve({ via: 'grpc', code: status.OK, details: '' });
        // Our own deadline passing is a hang; the server's DEADLINE_EXCEEDED (a query past its timeout) is an answer.
        else if (err.code === status.DEADLINE_EXCEEDED && Date.now() >= deadline) resolve({ via: 'hang' });
        else resolve({ via: 'grpc', code: err.code, details: err.details });
      });
    });
  }

  /** Writes the bytes and ends the connection's sending side; the server must close it in time. */
  private tcp(c: TcpCase): Promise<Reply> {
    return new Promise((resolve) => {
      let bytes = 0;
      let settled = false;
      const socket = connect({ host: this.host, port: this.ports[c.port] });
      const done = (r: Reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done({ via: 'hang' }), this.timeoutMs);
      socket.on('data', (d: Buffer) => (bytes += d.length));
      socket.on('close', () => done({ via: 'tcp', closed: true, bytes }));
      // A reset is one way to close: the server may drop a connection that sends garbage.
      socket.on('error', () => done({ via: 'tcp', closed: true, bytes }));
      socket.end(c.body);
    });
  }
}
