import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';

/**
 * An OpenTelemetry SDK meter provider standing in for one collector pod: it exports through the
 * given real OTLP exporter, and only when flushed, so tests decide when a push happens.
 */
export function podMeterProvider(exporter: PushMetricExporter, attributes: Record<string, string>) {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(attributes), readers: [reader] });
  return { provider, meter: provider.getMeter('otelcol'), flush: () => reader.forceFlush() };
}
