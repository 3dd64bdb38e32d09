import { type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcErrorOf, UserError } from '../common/errors.js';
import { MalformedMessage } from '../protobuf.js';

type Handler = (
  call: { request?: unknown; emit(event: 'error', err: Partial<ServiceError>): boolean },
  callback?: (err: Partial<ServiceError>) => void,
) => void;

/**
 * Wraps every handler of a service so a request that did not decode (see MalformedMessage) is
 * answered INVALID_ARGUMENT with the decoder's reason, before the handler sees it.
 */
export function refuseMalformed(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(implementation)) {
    const inner = handler as unknown as Handler;
    const guarded: Handler = (call, callback) => {
      if (!(call.request instanceof MalformedMessage)) return inner(call, callback);
      const err = grpcErrorOf(new UserError('BAD_DATA', call.request.reason));
      if (callback) callback(err);
      else call.emit('error', err);
    };
    out[name] = guarded as unknown as UntypedServiceImplementation[string];
  }
  return out;
}
