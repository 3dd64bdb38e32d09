import { type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ERRORS } from '../common/errors.js';
import { loadProto, serviceDefinition } from '../protobuf.js';

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

export function healthDefinition() {
  return serviceDefinition(loadProto('grpc/health/v1/health.proto'), 'grpc.health.v1.Health');
}

/**
 * grpc.health.v1 for the whole server ("") and each named service: SERVING while ready,
 * NOT_SERVING once shutdown starts, so load balancers drain before the listeners close.
 */
export class HealthService {
  private readonly watchers = new Set<{ service: string; call: ServerWritableStream<{ service: string }, unknown> }>();
  private serving = true;

  constructor(private readonly services: readonly string[]) {}

  setServing(serving: boolean): void {
    this.serving = serving;
    for (const w of this.watchers) w.call.write({ status: this.statusOf(w.service) });
  }

  close(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  implementation(): UntypedServiceImplementation {
    return {
      Check: (call: ServerUnaryCall<{ service: string }, unknown>, cb: sendUnaryData<unknown>) => {
        const s = this.statusOf(call.request.service);
        if (s === SERVICE_UNKNOWN) cb({ code: ERRORS.NOT_FOUND.grpc, details: `unknown service ${JSON.stringify(call.request.service)}` });
        else cb(null, { status: s });
      },
      Watch: (call: ServerWritableStream<{ service: string }, unknown>) => {
        const w = { service: call.request.service, call };
        this.watchers.add(w);
        const end = () => this.watchers.delete(w);
        call.on('cancelled', end);
        call.on('close', end);
        call.write({ status: this.statusOf(w.service) });
      },
    };
  }

  private statusOf(service: string): number {
    if (service !== '' && !this.services.includes(service)) return SERVICE_UNKNOWN;
    return this.serving ? SERVING : NOT_SERVING;
  }
}
