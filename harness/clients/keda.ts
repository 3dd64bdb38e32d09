import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadProto, serviceDefinition } from '../../src/protobuf.js';

/**
 * KEDA's ExternalScaler service read from proto/externalscaler.proto, not taken from src/scaler:
 * a client that shared the server's definition could not catch a mistake in it.
 */
export function externalScalerDefinition(): ServiceDefinition {
  return serviceDefinition(loadProto('externalscaler.proto'), 'externalscaler.ExternalScaler');
}

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

/**
 * KEDA's client TLS for an external scaler (`enableTLS`, `caCert`, `tlsClientCert`,
 * `tlsClientKey` in the trigger): the server is verified against `caCert`, and the client
 * certificate is presented when both of its parts are given.
 */
export interface KedaTls {
  caCert: Buffer;
  tlsClientCert?: Buffer;
  tlsClientKey?: Buffer;
}

type Unary = (req: unknown, cb: (err: ServiceError | null, res: unknown) => void) => void;

/**
 * A gRPC client built from KEDA's externalscaler.proto, the way KEDA's operator calls an
 * external scaler: IsActive, GetMetricSpec, GetMetrics and the StreamIsActive stream.
 */
export class KedaClient {
  readonly raw: Client & Record<string, Unary & ((req: unknown) => NodeJS.EventEmitter)>;

  constructor(address: string, tls?: KedaTls) {
    const Ctor = makeGenericClientConstructor(externalScalerDefinition(), 'ExternalScaler');
    const creds = tls ? credentials.createSsl(tls.caCert, tls.tlsClientKey ?? null, tls.tlsClientCert ?? null) : credentials.createInsecure();
    this.raw = new Ctor(address, creds) as KedaClient['raw'];
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      (this.raw[method] as Unary).call(this.raw, req, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  isActive(ref: ScaledObjectRef): Promise<{ result: boolean }> {
    return this.call('IsActive', ref);
  }

  getMetricSpec(ref: ScaledObjectRef): Promise<{ metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }> {
    return this.call('GetMetricSpec', ref);
  }

  getMetrics(ref: ScaledObjectRef, metricName = ''): Promise<{ metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[] }> {
    return this.call('GetMetrics', { scaledObjectRef: ref, metricName });
  }

  /** KEDA's StreamIsActive: the scaler's answers as they change. */
  streamIsActive(ref: ScaledObjectRef): ClientReadableStream<{ result: boolean }> {
    return (this.raw.StreamIsActive as unknown as (req: unknown) => ClientReadableStream<{ result: boolean }>).call(this.raw, ref);
  }

  /** The value GetMetrics answers for `ref`, or undefined while the scaler refuses it (warming up, shutting down). */
  valueOrUndefined(ref: ScaledObjectRef): Promise<number | undefined> {
    return this.getMetrics(ref).then(
      (r) => r.metricValues[0]!.metricValueFloat,
      () => undefined,
    );
  }

  /** The value KEDA would get for a query. */
  async value(query: string, extra: Record<string, string> = {}): Promise<number> {
    const ref = { name: 'so', namespace: 'default', scalerMetadata: { metricQuery: query, targetValue: '1', ...extra } };
    const res = await this.getMetrics(ref);
    return res.metricValues[0]!.metricValueFloat;
  }

  close(): void {
    this.raw.close();
  }
}
