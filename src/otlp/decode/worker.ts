import { parentPort } from 'node:worker_threads';
import { DecodeError } from '../errors.js';
import { decodeJsonBody } from './json.js';
import { pack } from './transfer.js';
import { decodeWireRequest } from './wire.js';
import type { DecodeJob, DecodeReply } from './pool.js';

/*
 * A decoding worker (see pool.ts): decodes each body it is sent and hands the request back in
 * its transferable form, or the DecodeError's message. Anything else thrown ends the worker, and
 * the pool answers that request with an error and starts another.
 */
const port = parentPort!;
port.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  try {
    const request = job.encoding === 'protobuf' ? decodeWireRequest(job.bytes) : decodeJsonBody(job.bytes);
    const { message, transfer } = pack(request, job.bytes);
    port.postMessage({ id: job.id, request: message } satisfies DecodeReply, transfer);
    return;
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    reply = { id: job.id, malformed: e.message };
  }
  port.postMessage(reply);
});
