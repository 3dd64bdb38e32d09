import type { OtlpReceiver } from './otlp/receiver.js';
import type { Origin } from './otlp/stored-bodies.js';
import type { Reservation } from './otlp/transport/inflight.js';
import type { RemoteWriteReceiver } from './remotewrite/receiver.js';

/**
 * What a stored request body is. Replication forwards bodies and the write-ahead log keeps them
 * byte for byte as their sender sent them, so an OTLP/JSON or remote-write body needs no
 * translation; this names which receiver reads it again.
 */
export const BODY_KINDS = ['otlp-protobuf', 'otlp-json', 'remote-write-v1', 'remote-write-v2'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

export function isBodyKind(kind: string): kind is BodyKind {
  return (BODY_KINDS as readonly string[]).includes(kind);
}

export interface Receivers {
  otlp: OtlpReceiver;
  /** Undefined when remote write is turned off. */
  remoteWrite: RemoteWriteReceiver | undefined;
}

export type BodyListener = (kind: BodyKind, body: Uint8Array, origin: Origin, receivedMs: number) => void;

/** Calls `fn` for every body either receiver stores, once stored and before its sender is answered. */
export function onEveryStoredBody(receivers: Receivers, fn: BodyListener): void {
  receivers.otlp.bodies.onStored((body, encoding, origin, at) => fn(encoding === 'protobuf' ? 'otlp-protobuf' : 'otlp-json', body, origin, at));
  receivers.remoteWrite?.bodies.onStored((body, protocol, origin, at) => fn(protocol === 'v1' ? 'remote-write-v1' : 'remote-write-v2', body, origin, at));
}

/**
 * Stores a forwarded or logged body through the receiver its kind names; undefined when that
 * receiver is turned off here. `reservation` holds a remote-write body's decompressed bytes.
 */
export function storeAgain(
  receivers: Receivers,
  kind: BodyKind,
  body: Buffer,
  origin: Exclude<Origin, 'client'>,
  reservation: Reservation,
  receivedMs?: number,
): Promise<unknown> | undefined {
  if (kind === 'otlp-protobuf' || kind === 'otlp-json')
    return receivers.otlp.storeAgain(body, kind === 'otlp-protobuf' ? 'protobuf' : 'json', origin, receivedMs);
  return receivers.remoteWrite?.storeAgain(body, kind === 'remote-write-v1' ? 'v1' : 'v2', reservation, origin, receivedMs);
}
