/**
 * The bench's data set, the same for our scaler and for Prometheus: N series from N/10 collector
 * pods, each pod with 3 `otelcol_receiver_accepted_spans` counters (receiver/transport otlp/grpc,
 * otlp/http, jaeger/grpc), 1 `otelcol_receiver_refused_spans` counter, 1
 * `otelcol_exporter_queue_size` gauge and 5 `x_bucket` histogram buckets (le 0.05 … +Inf), all with
 * job="gateway" and service_instance_id="pod-<i>"; STEPS samples (or `--steps`) INTERVAL_MS apart. Values depend
 * only on (pod, slot, step), so a smaller N is a prefix of a larger one and every run sees the
 * same numbers: the shape earlier benchmark rounds measured Prometheus with, kept so figures stay
 * comparable across rounds.
 */

/** One series, its labels sorted by name as remote write requires. */
export interface DataSeries {
  kind: 'counter' | 'gauge' | 'bucket';
  pod: number;
  /** Position within the pod: 0–2 accepted, 3 refused, 4 queue size, 5–9 buckets. */
  slot: number;
  bucket?: number;
  labels: { name: string; value: string }[];
}

/** The data set both engines ingest: N series, `values.length` samples each, INTERVAL_MS apart, the last at `endMs`. */
export interface DataSet {
  series: DataSeries[];
  /** values[step][k]: the value of series k at that step. */
  values: Float64Array[];
  endMs: number;
  timeAt(step: number): number;
}

/** Samples a series by default: the shape earlier rounds measured. `--steps 60` is the 10 minutes a scaler holds all day. */
export const STEPS = 30;
export const INTERVAL_MS = 10_000;
export const SERIES_PER_POD = 10;
export const BUCKET_BOUNDS = ['0.05', '0.25', '1', '5', '+Inf'];
/** Share of a step's observations at or below each bucket bound. */
const BUCKET_SHARE = [0.4, 0.75, 0.95, 0.995, 1];
const ACCEPTED_BY: readonly (readonly [string, string])[] = [
  ['otlp', 'grpc'],
  ['otlp', 'http'],
  ['jaeger', 'grpc'],
];
/** Slot of the refused-spans counter, whose rate is a hundredth of the others'. */
const REFUSED_SLOT = 3;

/** A deterministic number in [0, 1) from three integers: an integer hash, so no state is shared between series. */
export function unit(a: number, b: number, c: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ Math.imul(b | 0, 0x85ebca77) ^ Math.imul(c | 0, 0xc2b2ae3d)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

function seriesOf(pod: number): DataSeries[] {
  const instance = { name: 'service_instance_id', value: `pod-${pod}` };
  const job = { name: 'job', value: 'gateway' };
  const name = (value: string) => ({ name: '__name__', value });
  const out: DataSeries[] = ACCEPTED_BY.map(([receiver, transport], slot) => ({
    kind: 'counter' as const,
    pod,
    slot,
    labels: [name('otelcol_receiver_accepted_spans'), job, { name: 'receiver', value: receiver }, instance, { name: 'transport', value: transport }],
  }));
  out.push({
    kind: 'counter',
    pod,
    slot: REFUSED_SLOT,
    labels: [name('otelcol_receiver_refused_spans'), job, { name: 'receiver', value: 'otlp' }, instance, { name: 'transport', value: 'grpc' }],
  });
  out.push({ kind: 'gauge', pod, slot: 4, labels: [name('otelcol_exporter_queue_size'), { name: 'exporter', value: 'otlp' }, job, instance] });
  BUCKET_BOUNDS.forEach((le, bucket) => {
    out.push({ kind: 'bucket', pod, slot: 5 + bucket, bucket, labels: [name('x_bucket'), job, { name: 'le', value: le }, instance] });
  });
  return out;
}

/**
 * Counters start at an offset of up to a million (a long-running process) and grow by 5–105
 * spans/s (refused: a hundredth), ±20 % from one step to the next; the gauge is 0–999 at each
 * step; each histogram step adds 200–400 observations split by BUCKET_SHARE.
 */
function nextValues(series: readonly DataSeries[], current: Float64Array, step: number): void {
  for (let k = 0; k < series.length; k++) {
    const s = series[k]!;
    if (s.kind === 'gauge') {
      current[k] = Math.floor(1000 * unit(s.pod, 77, 5000 + step));
    } else if (step === 0) {
      current[k] = s.kind === 'counter' ? Math.floor(unit(s.pod, s.slot, 0xabc) * 1e6) : 0;
    } else if (s.kind === 'counter') {
      const base = 5 + 100 * unit(s.pod, s.slot, 1);
      const perSecond = s.slot === REFUSED_SLOT ? base / 100 : base;
      current[k]! += Math.round(perSecond * 10 * (0.8 + 0.4 * unit(s.pod, s.slot, 1000 + step)));
    } else {
      const observed = 200 + Math.floor(200 * unit(s.pod, 99, 9000 + step));
      current[k]! += Math.floor(observed * BUCKET_SHARE[s.bucket!]!);
    }
  }
}

export function buildDataSet(n: number, steps = STEPS, endMs = Math.floor(Date.now() / 1000) * 1000): DataSet {
  if (n % SERIES_PER_POD !== 0) throw new Error(`series count ${n} is not a multiple of ${SERIES_PER_POD}`);
  const series: DataSeries[] = [];
  for (let pod = 0; pod < n / SERIES_PER_POD; pod++) series.push(...seriesOf(pod));
  const current = new Float64Array(n);
  const values: Float64Array[] = [];
  for (let step = 0; step < steps; step++) {
    nextValues(series, current, step);
    values.push(Float64Array.from(current));
  }
  return { series, values, endMs, timeAt: (step) => endMs - (steps - 1 - step) * INTERVAL_MS };
}
