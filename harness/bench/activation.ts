import { ExportMetricsServiceRequest } from '../../src/otlp/transport/proto.js';
import { AppChild } from '../app/child.js';
import type { DataSet } from './dataset.js';
import { encodeAll, nanos } from './encode.js';
import { KedaClient } from '../clients/keda.js';
import { grpcClient, sendSteps } from '../clients/otlp.js';
import { APP_CONFIG } from './per-size.js';
import { latency, type Latency } from './stats.js';

const ACTIVATION = 5000;
const REF = {
  name: 'bench-activation',
  namespace: 'default',
  scalerMetadata: { metricQuery: 'max(otelcol_exporter_queue_size)', targetValue: '100', activationTargetValue: String(ACTIVATION) },
};

/** One queue-size point for pod-0, the data set's own series, at the wall-clock time. */
function queuePoint(value: number): Buffer {
  return Buffer.from(
    ExportMetricsServiceRequest.encode({
      resource_metrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'gateway' } }] },
          scope_metrics: [
            {
              scope: { name: 'otelcol', version: '1' },
              metrics: [
                {
                  name: 'otelcol_exporter_queue_size',
                  gauge: {
                    data_points: [
                      {
                        attributes: [
                          { key: 'exporter', value: { string_value: 'otlp' } },
                          { key: 'service.instance.id', value: { string_value: 'pod-0' } },
                        ],
                        time_unix_nano: nanos(Date.now()),
                        as_int: value,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    }).finish(),
  );
}

/**
 * Time from sending an OTLP push that takes `max(queue size)` over the activation value to
 * StreamIsActive delivering `true` (the data set's gauges all sit below it), then back.
 */
export async function activationLatency(data: DataSet, batch: number, concurrency: number, rounds: number): Promise<Latency> {
  const app = await AppChild.start(APP_CONFIG);
  const otlp = grpcClient(app.ports.otlpGrpc);
  const keda = new KedaClient(`127.0.0.1:${app.ports.otlpGrpc}`);
  const stream = keda.streamIsActive(REF);
  // Cancelling the stream at the end surfaces as a CANCELLED error; anything else is a failure.
  let streamError: Error | undefined;
  stream.on('error', (e: Error & { code?: number }) => {
    if (e.code !== 1) streamError = e;
  });
  try {
    await sendSteps(encodeAll(data, batch), concurrency, otlp.send);
    const waiters: ((active: boolean) => void)[] = [];
    stream.on('data', (msg: { result: boolean }) => waiters.shift()?.(msg.result));
    const next = () => new Promise<boolean>((resolve) => waiters.push(resolve));
    let state = await next();
    // Data-set samples are seconds old: fresh wall-clock points always land after them.
    if (state) throw new Error('activation stream is active before the push: the data set should stay below the activation value');
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const flipped = next();
      const t0 = performance.now();
      await otlp.send(queuePoint(ACTIVATION * 2));
      state = await flipped;
      times.push(performance.now() - t0);
      if (!state) throw new Error('stream answered false after the push over the activation value');
      const back = next();
      await otlp.send(queuePoint(0));
      if (await back) throw new Error('stream stayed active after the push under the activation value');
    }
    if (streamError) throw streamError;
    return latency(times);
  } finally {
    stream.cancel();
    keda.close();
    otlp.close();
    await app.stop();
  }
}
