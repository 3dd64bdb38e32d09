import type { BoundPorts } from '../../src/server/app.js';
import { encodeRequest, grpcClient, httpClient, type OtlpClient } from '../clients/otlp.js';

/** Counts of one kind of call. */
export class Tally {
  ok = 0;
  failed = 0;
  lastError = '';

  fail(message: string): void {
    this.failed++;
    this.lastError = message;
  }
}

const ROUTES = ['/', '/api/orders', '/api/users', '/healthz', '/checkout'];

/**
 * One pod of an instrumented service: every push sends its counters, a gauge and a histogram
 * under its current service.instance.id, which changes every `churnMs` (a pod replaced).
 */
export class Pod {
  private requests = 0;

  constructor(
    private readonly index: number,
    private readonly churnMs: number,
  ) {}

  instance(now: number): string {
    // Staggered, so not every pod is replaced in the same second.
    const generation = Math.floor((now + (this.index * this.churnMs) / 50) / this.churnMs);
    return `pod-${this.index}-${generation}`;
  }

  body(now: number): Buffer {
    this.requests += 10 + (this.index % 7);
    const t = `${now}000000`;
    const start = `${now - 3_600_000}000000`;
    const attr = (key: string, v: string) => ({ key, value: { string_value: v } });
    return encodeRequest({
      resource_metrics: [
        {
          resource: {
            attributes: [attr('service.name', `svc-${this.index % 10}`), attr('service.instance.id', this.instance(now)), attr('k8s.namespace.name', 'soak')],
          },
          scope_metrics: [
            {
              scope: { name: 'soak' },
              metrics: [
                {
                  name: 'http.server.requests',
                  sum: {
                    aggregation_temporality: 2,
                    is_monotonic: true,
                    data_points: ROUTES.map((route, i) => ({
                      as_int: this.requests * (i + 1),
                      time_unix_nano: t,
                      start_time_unix_nano: start,
                      attributes: [attr('http.route', route)],
                    })),
                  },
                },
                { name: 'queue.depth', unit: '{items}', gauge: { data_points: [{ as_double: (this.index * 7 + now / 1000) % 50, time_unix_nano: t }] } },
                {
                  name: 'http.server.duration',
                  unit: 's',
                  histogram: {
                    aggregation_temporality: 2,
                    data_points: [
                      {
                        time_unix_nano: t,
                        start_time_unix_nano: start,
                        count: this.requests,
                        sum: this.requests * 0.2,
                        bucket_counts: [this.requests / 2, this.requests / 4, this.requests / 4, 0].map(Math.floor),
                        explicit_bounds: [0.1, 0.5, 1],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
  }
}

/** Sends an OTLP request over HTTP (even pods) or gRPC (odd pods), counting the outcomes. */
export class OtlpPusher {
  private readonly grpc: OtlpClient;
  private readonly http: OtlpClient;

  constructor(ports: BoundPorts) {
    this.grpc = grpcClient(ports.otlpGrpc);
    this.http = httpClient(ports.otlpHttp, 64);
  }

  push(viaGrpc: boolean, body: Buffer, tally: Tally): Promise<void> {
    return (viaGrpc ? this.grpc : this.http).send(body).then(
      () => void tally.ok++,
      (err: Error) => tally.fail(`${viaGrpc ? 'gRPC' : 'HTTP'} export: ${err.message}`),
    );
  }

  close(): void {
    this.grpc.close();
    this.http.close();
  }
}
