import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * Replication's one call, on the gRPC server every replica already runs (same ports, same TLS):
 * `Forward` carries a request body as the first replica received and stored it, byte for byte,
 * so an OTLP/JSON or remote-write body needs no translation; metadata says what it is, who sent
 * it and its place in that sender's sequence to this peer. A forwarded body is stored and never
 * forwarded again.
 */
export const REPLICATION_SERVICE = 'kedaotlpscaler.replicate.v1.Replication';
export const FORWARD_PATH = `/${REPLICATION_SERVICE}/Forward`;

/** What a forwarded body is (one of BODY_KINDS). */
export const META_KIND = 'x-scaler-kind';
/** The sending process: a random id a process takes at start. */
export const META_SENDER = 'x-scaler-sender';
/** 1, 2, 3… per sender and receiving address; a number skipped is a body the receiver never got. */
export const META_SEQ = 'x-scaler-seq';

const identity = (b: Buffer): Buffer => b;

export function replicationDefinition(): ServiceDefinition {
  return {
    Forward: {
      path: FORWARD_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: 'Forward',
    },
  };
}

/** Paths of the API port's replication endpoints. */
export const JOIN_PATH = '/api/v1/replicate/join';
export const SNAPSHOT_PATH = '/api/v1/replicate/snapshot';
