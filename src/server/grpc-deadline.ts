import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';

/**
 * Node's HTTP server bounds how long a request may take to arrive (`--request-timeout`), but
 * grpc-js has no such bound: a client trickling its request message a byte a minute holds the
 * stream, its buffered bytes and its share of the in-flight budget for as long as it likes. This
 * gives every call's request message the same time to arrive whole as an HTTP request gets, then
 * answers DEADLINE_EXCEEDED, which ends the stream and releases what it held. Streams that answer
 * over time (StreamIsActive, health Watch) are bounded only until their one request arrives.
 */
export function grpcRequestDeadline(timeoutMs: number): ServerInterceptor {
  return (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    const disarm = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const listener = new ServerListenerBuilder()
      .withOnReceiveMessage((message: unknown, next) => {
        disarm();
        next(message);
      })
      .withOnCancel(disarm)
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((sent, next) => {
        disarm();
        next(sent);
      })
      .build();
    const intercepting = new ServerInterceptingCall(call, responder);
    timer = setTimeout(() => {
      timer = undefined;
      intercepting.sendStatus({
        code: status.DEADLINE_EXCEEDED,
        details: `request message not received whole within ${timeoutMs} ms`,
        metadata: new Metadata(),
      });
    }, timeoutMs);
    return intercepting;
  };
}
