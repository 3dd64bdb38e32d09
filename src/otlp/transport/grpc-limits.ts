import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { ERRORS, type ErrorCode } from '../../common/errors.js';
import { RETRY_AFTER_SECONDS } from './inflight.js';
import { encodeRetryStatus, OTLP_METRICS_SERVICE } from './proto.js';
import type { OtlpSink } from '../sink.js';

const EXPORT_PATH = `/${OTLP_METRICS_SERVICE}/Export`;
/** gRPC's length prefix on every message: a compressed-flag byte and a 4-byte big-endian length. */
const PREFIX_BYTES = 5;
/** Deflate's largest compression ratio (zlib's technical notes: 1032:1), so the most a message can inflate to. */
const MAX_DEFLATE_RATIO = 1032;

/** The part of a grpc-js call this reads: the HTTP/2 stream the request arrives on. */
interface StreamSource {
  prependListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

/**
 * grpc-js reads, frames and inflates a message before any handler sees it, and has one size limit
 * for both the message as sent and inflated. To hold Export to the HTTP limits, this interceptor
 * watches the call's HTTP/2 stream (grpc-js's base call keeps it as `stream`) ahead of grpc-js:
 * the message's 5-byte prefix gives its size as sent and whether it is compressed, so a message
 * over `maxRequestBytes` is refused before it is buffered; every byte grpc-js will hold (the
 * frames, their joined copy, and for a compressed message the most it can inflate to, twice, as
 * grpc-js joins the inflated pieces) is reserved from the in-flight budget first, and shrunk to
 * the inflated message once it arrives. A full budget answers RESOURCE_EXHAUSTED with RetryInfo,
 * which the OTLP spec makes retryable; an oversized message RESOURCE_EXHAUSTED without it.
 * `alsoBound` holds other methods that carry request bodies to the same budget, each with its
 * own limit as sent (replication's Forward, whose bodies arrive already inflated).
 */
export function otlpGrpcLimits(sink: OtlpSink, alsoBound: ReadonlyMap<string, number> = new Map()): ServerInterceptor {
  return (method, call) => {
    const maxRequestBytes = method.path === EXPORT_PATH ? sink.limits.maxRequestBytes : alsoBound.get(method.path);
    if (maxRequestBytes === undefined) return new ServerInterceptingCall(call);
    const stream = streamOf(call);
    if (stream === undefined) {
      // Every OTLP gRPC test fails here if a grpc-js upgrade moves the stream: the limits are never skipped silently.
      return refusingCall(call, ERRORS.INTERNAL.grpc, "the OTLP request limits cannot see this grpc-js version's HTTP/2 stream");
    }
    const { maxDecompressedBytes } = sink.limits;
    const reservation = sink.budget.reserve();
    const prefix = Buffer.alloc(PREFIX_BYTES);
    let prefixRead = 0;
    let received = 0;
    let whole = false;
    let done = false;
    let intercepting: ServerInterceptingCall | undefined = undefined;

    const refuse = (error: ErrorCode, details: string, retry: boolean) => {
      const code = ERRORS[error].grpc;
      done = true;
      reservation.release();
      stream.off('data', onData);
      sink.stats.requestsFailed.grpc++;
      const metadata = new Metadata();
      if (retry) metadata.set('grpc-status-details-bin', encodeRetryStatus(code, details, RETRY_AFTER_SECONDS));
      intercepting!.sendStatus({ code, details, metadata });
    };
    const throttle = () => refuse('OVER_BUDGET', sink.budget.fullMessage, true);

    const onData = (chunk: Buffer) => {
      if (done || chunk.length === 0) return;
      // Export is unary: bytes past its one message would be buffered by grpc-js outside the budget.
      if (whole) return refuse('BAD_DATA', 'Export takes one request message; more data followed it', false);
      if (prefixRead < PREFIX_BYTES) {
        prefixRead += chunk.copy(prefix, prefixRead, 0, PREFIX_BYTES - prefixRead);
        if (prefixRead === PREFIX_BYTES && prefix.readUInt32BE(1) > maxRequestBytes) {
          return refuse('TOO_LARGE', `request of ${prefix.readUInt32BE(1)} bytes as sent is over the limit of ${maxRequestBytes} bytes`, false);
        }
      }
      if (!reservation.grow(chunk.length)) return throttle();
      received += chunk.length;
      if (prefixRead < PREFIX_BYTES) return;
      const length = prefix.readUInt32BE(1);
      if (received < PREFIX_BYTES + length) return;
      if (received > PREFIX_BYTES + length) return refuse('BAD_DATA', 'Export takes one request message; more data followed it', false);
      // The whole message is here: grpc-js now joins its frames and, when compressed, inflates it.
      whole = true;
      const inflated = prefix[0] === 1 ? 2 * Math.min(maxDecompressedBytes, length * MAX_DEFLATE_RATIO) : 0;
      if (!reservation.grow(PREFIX_BYTES + length + inflated)) throttle();
    };
    stream.prependListener('data', onData);

    const listener = new ServerListenerBuilder()
      .withOnReceiveMessage((message: Buffer, next) => {
        reservation.shrinkTo(message.length);
        next(message);
      })
      .withOnCancel(() => {
        stream.off('data', onData);
        reservation.release();
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((sent, next) => {
        stream.off('data', onData);
        reservation.release();
        next(sent);
      })
      .build();
    intercepting = new ServerInterceptingCall(call, responder);
    return intercepting;
  };
}

function streamOf(call: ServerInterceptingCallInterface): StreamSource | undefined {
  const stream = (call as unknown as { stream?: Partial<StreamSource> }).stream;
  return typeof stream?.prependListener === 'function' && typeof stream.off === 'function' ? (stream as StreamSource) : undefined;
}

function refusingCall(call: ServerInterceptingCallInterface, code: status, details: string): ServerInterceptingCall {
  const intercepting: ServerInterceptingCall = new ServerInterceptingCall(
    call,
    new ResponderBuilder()
      .withStart((next) => {
        next(new ServerListenerBuilder().build());
        intercepting.sendStatus({ code, details });
      })
      .build(),
  );
  return intercepting;
}
