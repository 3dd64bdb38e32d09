import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { externalScalerDefinition } from '../test/support/keda-client.js';

type Unary = (req: unknown, cb: (err: ServiceError | null, res: unknown) => void) => void;

export interface Ref {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

/** KEDA's side of the ExternalScaler service, as far as the bench calls it. */
export class KedaClient {
  private readonly client: Client & { GetMetrics: Unary; StreamIsActive: (req: unknown) => ClientReadableStream<{ result: boolean }> };

  constructor(port: number) {
    const Ctor = makeGenericClientConstructor(externalScalerDefinition(), 'ExternalScaler');
    this.client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as KedaClient['client'];
  }

  getMetrics(ref: Ref): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.GetMetrics({ scaledObjectRef: ref, metricName: '' }, (err, res) => {
        if (err) reject(err);
        else resolve((res as { metricValues: { metricValueFloat: number }[] }).metricValues[0]!.metricValueFloat);
      });
    });
  }

  streamIsActive(ref: Ref): ClientReadableStream<{ result: boolean }> {
    return this.client.StreamIsActive(ref);
  }

  close(): void {
    this.client.close();
  }
}
