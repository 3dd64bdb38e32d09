import type { ServiceError, status } from '@grpc/grpc-js';
import { KedaClient } from '../../harness/clients/keda.js';

/** One GetMetrics answer: a value, or the error's code and details. */
export interface Answer<K extends string = string> {
  at: number;
  trigger: K;
  value?: number;
  code?: status;
  details?: string;
}

/**
 * KEDA's operator polling GetMetrics for each trigger (its ScaledObject named `${prefix}-${key}`)
 * every `intervalMs`, recording every answer, until stopped.
 */
export function pollGetMetrics<K extends string>(port: number, triggers: Record<K, Record<string, string>>, prefix: string, intervalMs: number) {
  const keda = new KedaClient(`127.0.0.1:${port}`);
  const answers: Answer<K>[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        (Object.keys(triggers) as K[]).map(async (trigger) => {
          const at = Date.now();
          try {
            const res = await keda.getMetrics({ name: `${prefix}-${trigger}`, namespace: 'default', scalerMetadata: { ...triggers[trigger] } });
            answers.push({ at, trigger, value: res.metricValues[0]!.metricValueFloat });
          } catch (e) {
            const err = e as ServiceError;
            answers.push({ at, trigger, code: err.code, details: err.details });
          }
        }),
      );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    answers,
    stop: async () => {
      running = false;
      await loop;
      keda.close();
    },
  };
}
