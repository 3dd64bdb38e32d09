import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';

export interface RawAnswer {
  code: status;
  details: string;
  response?: Buffer;
}

/**
 * One unary gRPC call with the request's bytes as they are, so a malformed or oversized message
 * reaches the server; the answer's status, never a throw.
 */
export function rawUnary(address: string, path: string, body: Buffer, deadlineMs?: number): Promise<RawAnswer> {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
      (err: ServiceError | null, res?: Buffer) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '', response: res });
      },
    );
  });
}
