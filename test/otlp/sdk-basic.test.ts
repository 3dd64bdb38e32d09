import { describe, expect, it } from 'vitest';
import { labelsToRecord } from '../../src/tsdb/labels.js';
import { Matcher } from '../../src/tsdb/matcher.js';
import { EXPORTER_KINDS, exporter, sdk, value, useHarness, withThreads } from './harness.js';

describe.each(withThreads(EXPORTER_KINDS))('gauges and cumulative counters over %s, %i ingest threads', (kind, ingestThreads) => {
  const h = useHarness({ ingestThreads });

  it('stores a counter under x_total and x, and a gauge, with job, instance and promoted resource labels', async () => {
    const pod = sdk(exporter(h, kind), {
      'service.name': 'collector',
      'service.namespace': 'obs',
      'service.instance.id': 'pod-1',
      'k8s.pod.name': 'collector-abc',
    });
    const counter = pod.meter.createCounter('otelcol_receiver_accepted_spans', { unit: '{spans}', description: 'Spans accepted' });
    let queue = 7;
    pod.meter.createObservableGauge('otelcol_exporter_queue_size', { unit: '{batches}' }).addCallback((r) => r.observe(queue, { exporter: 'otlp' }));
    counter.add(10, { receiver: 'otlp' });
    await pod.flush();
    counter.add(5, { receiver: 'otlp' });
    queue = 3;
    await pod.flush();

    expect(value(h.tsdb, 'otelcol_receiver_accepted_spans_total', { receiver: 'otlp' })).toBe(15);
    expect(value(h.tsdb, 'otelcol_receiver_accepted_spans', { receiver: 'otlp' })).toBe(15);
    expect(value(h.tsdb, 'otelcol_exporter_queue_size')).toBe(3);
    const [series] = h.tsdb.select([new Matcher('=', '__name__', 'otelcol_receiver_accepted_spans_total')]);
    const labels = labelsToRecord(series!.labels);
    expect(labels).toMatchObject({ job: 'obs/collector', instance: 'pod-1', k8s_pod_name: 'collector-abc', receiver: 'otlp' });
    expect(labels).not.toHaveProperty('service_name');
    expect(series!.length).toBe(2);
    expect(h.tsdb.metadata('otelcol_receiver_accepted_spans_total').get('otelcol_receiver_accepted_spans_total')).toEqual({
      type: 'counter',
      unit: '',
      help: 'Spans accepted',
    });
    expect(h.receiver.stats.pointsAccepted).toBe(4);
    expect(h.receiver.stats.requests[kind === 'grpc' ? 'grpc' : 'http']).toBe(2);
    await pod.shutdown();
  });
});
