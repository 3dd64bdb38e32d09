import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { loadConfig } from '../src/config.js';
import { startApp } from '../src/server/app.js';
import { createLogger } from '../src/server/logger.js';
import { KedaClient } from '../harness/clients/keda.js';

/**
 * The scaler with live sample data: three simulated gateway-collector pods push their own
 * metrics over OTLP/gRPC every 2 s, and every 5 s this prints what KEDA would get for the
 * example ScaledObjects' queries. Stop with Ctrl-C.
 */
const config = loadConfig(process.argv.slice(2), { SCALER_LOG_LEVEL: 'warn', ...process.env });
const app = await startApp(config, createLogger(config));
const endpoint = `http://127.0.0.1:${app.ports.otlpGrpc}`;

const pods = ['gateway-0', 'gateway-1', 'gateway-2'].map((pod, i) => {
  const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: endpoint }), exportIntervalMillis: 2_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'gateway-collector', 'service.instance.id': pod }),
    readers: [reader],
  });
  const meter = provider.getMeter('otelcol');
  const accepted = meter.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}' });
  let queue = 0;
  meter.createObservableGauge('otelcol_exporter_queue_size', { unit: '{batches}' }).addCallback((r) => r.observe(queue, { exporter: 'otlp' }));
  // Load rises and falls over a two-minute cycle so the numbers move.
  const timer = setInterval(() => {
    const phase = (Date.now() / 120_000) * 2 * Math.PI;
    const perSecond = Math.round(200 + 150 * Math.sin(phase + i));
    accepted.add(perSecond, { receiver: 'otlp' });
    queue = Math.round(10 + 10 * Math.sin(phase + i));
  }, 1_000);
  return { provider, timer };
});

const keda = new KedaClient(`127.0.0.1:${app.ports.otlpHttp}`);
const queries = ['sum(rate(otelcol_receiver_accepted_spans[1m]))', 'sum(otelcol_exporter_queue_size)'];

function ask(query: string): Promise<string> {
  const ref = { name: 'gateway', namespace: 'demo', scalerMetadata: { metricQuery: query, targetValue: '100' } };
  return keda.getMetrics(ref).then(
    (res) => String(res.metricValues[0]!.metricValueFloat),
    (err: Error) => `error: ${err.message}`,
  );
}

console.log(
  `keda-otlp-scaler demo: OTLP gRPC :${app.ports.otlpGrpc}, OTLP/HTTP + scaler :${app.ports.otlpHttp}, API and web page http://127.0.0.1:${app.ports.http}/`,
);
async function printAnswers(): Promise<void> {
  const answers = await Promise.all(queries.map(ask));
  console.log(new Date().toISOString());
  queries.forEach((q, i) => console.log(`  ${q.padEnd(50)} = ${answers[i]}`));
}

// ask() answers errors as text, so printAnswers() cannot reject.
const report = setInterval(() => void printAnswers(), 5_000);

async function stop(): Promise<void> {
  clearInterval(report);
  for (const p of pods) {
    clearInterval(p.timer);
    await p.provider.shutdown();
  }
  keda.close();
  await app.close();
}

process.once('SIGINT', () => {
  stop().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
});
