import { join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROJECT_ROOT } from './common/project-root.js';

const roots = new Map<string, protobuf.Root>();

/** Loads a .proto file under <root>/proto (and its imports), once. */
export function loadProto(relativePath: string): protobuf.Root {
  let root = roots.get(relativePath);
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROJECT_ROOT, 'proto', target);
    root.loadSync(relativePath, { keepCase: true });
    root.resolveAll();
    roots.set(relativePath, root);
  }
  return root;
}

/** How decoded messages look to our code: 64-bit integers as numbers, enums as numbers, defaults filled in. */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true, objects: true };

/**
 * What a server handler gets in place of a request whose bytes do not decode. grpc-js would
 * answer a throwing deserializer with INTERNAL; the sender's mistake is INVALID_ARGUMENT, which
 * the server's handlers answer on seeing this.
 */
export class MalformedMessage {
  constructor(readonly reason: string) {}
}

/**
 * A grpc-js service definition for a service of a loaded root, with protobufjs doing the
 * (de)serialization, so grpc-js needs no code generation and no proto-loader.
 */
export function serviceDefinition(root: protobuf.Root, serviceName: string): ServiceDefinition {
  const service = root.lookupService(serviceName);
  const definition: Record<string, unknown> = {};
  for (const method of service.methodsArray) {
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${service.fullName.slice(1)}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (value: object) => Buffer.from(req.encode(req.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => {
        try {
          return req.toObject(req.decode(bytes), TO_OBJECT_OPTIONS);
        } catch (e) {
          return new MalformedMessage(`malformed ${req.name} message: ${(e as Error).message}`);
        }
      },
      responseSerialize: (value: object) => Buffer.from(res.encode(res.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => res.toObject(res.decode(bytes), TO_OBJECT_OPTIONS),
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}
