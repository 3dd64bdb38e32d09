import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Peer } from './peers.js';

export interface PeerResponse {
  status: number;
  body: Buffer;
}

export class ResponseTooLarge extends Error {
  override name = 'ResponseTooLarge';
}

/**
 * One request to a peer's API port, over HTTPS when this replica serves TLS (its certificate is
 * checked against the name the peer was found under; under mTLS this replica's own certificate
 * is presented). The whole answer is read, up to `maxBytes`, within `timeoutMs`.
 */
export function peerRequest(
  peer: Peer,
  method: 'GET' | 'POST',
  path: string,
  tls: SecureContextOptions | undefined,
  timeoutMs: number,
  maxBytes: number,
): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    const options = {
      host: peer.address,
      port: peer.httpPort,
      method,
      path,
      timeout: timeoutMs,
      headers: { accept: 'application/json, application/octet-stream' },
    };
    const onResponse = (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > maxBytes) {
        res.destroy();
        return reject(new ResponseTooLarge(`the answer of ${declared} bytes is over the limit of ${maxBytes}`));
      }
      const parts: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) {
          res.destroy();
          reject(new ResponseTooLarge(`the answer is over the limit of ${maxBytes} bytes`));
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts, total) }));
      res.on('error', reject);
    };
    const req =
      tls === undefined
        ? httpRequest(options, onResponse)
        : httpsRequest({ ...options, ...tls, ...(peer.name !== peer.address ? { servername: peer.name } : {}) }, onResponse);
    const timer = setTimeout(() => req.destroy(new Error(`no whole answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
