import { request } from 'node:http';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import type { BoundPorts } from '../../src/server/app.js';
import { encodeRequest } from '../fuzz/otlp-valid.js';

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

/** Sends an OTLP request over HTTP (even pods) or gRPC (odd pods). */
export class OtlpPusher {
  private readonly grpc: Client;

  constructor(private readonly ports: BoundPorts) {
    this.grpc = new Client(`127.0.0.1:${ports.otlpGrpc}`, credentials.createInsecure());
  }

  push(viaGrpc: boolean, body: Buffer, tally: Tally): Promise<void> {
    if (viaGrpc) {
      return new Promise((resolve) => {
        this.grpc.makeUnaryRequest(
          '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          { deadline: Date.now() + 10_000 },
          (err: ServiceError | null) => {
            if (err) tally.fail(`gRPC export: ${err.message}`);
            else tally.ok++;
            resolve();
          },
        );
      });
    }
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.ports.otlpHttp,
          method: 'POST',
          path: '/v1/metrics',
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          if (res.statusCode === 200) tally.ok++;
          else tally.fail(`HTTP export: ${res.statusCode}`);
          resolve();
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        tally.fail(`HTTP export: ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  }

  close(): void {
    this.grpc.close();
  }
}
