import type { Attribute, Metric, MetricData, OtlpRequest, PointBase } from '../../../src/otlp/decode/model.js';

/** A gauge's or sum's point as one object, for comparing decoders. */
export interface PlainNumberPoint extends PointBase {
  value: number;
}

/** A metric's number points, each as a plain object (the model keeps them in columns). */
export function numberPoints(data: MetricData | undefined): PlainNumberPoint[] {
  if (data === undefined || (data.kind !== 'gauge' && data.kind !== 'sum')) return [];
  const out: PlainNumberPoint[] = [];
  for (let i = data.first; i < data.first + data.count; i++) {
    const p = data.points;
    const point: PlainNumberPoint = { attributes: p.attributes(i), startTimeMs: p.startTimeMs(i), timeMs: p.timeMs(i), flags: p.flags(i), value: p.value(i) };
    const invalid = p.invalidUtf8(i);
    if (invalid !== undefined) point.invalidUtf8 = invalid;
    out.push(point);
  }
  return out;
}

/** A metric as plain data: number points as objects, no columns. */
export function plainMetric(m: Metric): unknown {
  const data = m.data;
  const out: Record<string, unknown> = { name: m.name, description: m.description, unit: m.unit };
  if (m.invalidUtf8 !== undefined) out.invalidUtf8 = m.invalidUtf8;
  if (data === undefined || (data.kind !== 'gauge' && data.kind !== 'sum')) out.data = data;
  else {
    const { points: _points, first: _first, count: _count, ...rest } = data;
    out.data = { ...rest, dataPoints: numberPoints(data) };
  }
  return out;
}

/** The request as plain data, without the decoders' cache keys and columns, so decoders compare. */
export function plainRequest(req: OtlpRequest): unknown {
  return req.resourceMetrics.map((rm) => ({
    resource: rm.resource.map((a: Attribute) => ({ key: a.key, value: a.value })),
    scopeMetrics: rm.scopeMetrics.map((sm) => ({ scope: sm.scope, metrics: sm.metrics.map(plainMetric) })),
  }));
}
