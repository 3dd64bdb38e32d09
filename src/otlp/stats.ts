/** Why a data point was not stored; each is a self-metric label value and a line of partial_success. */
const REJECT_REASONS = [
  'series_limit',
  'out_of_order',
  'too_old',
  'too_far_ahead',
  'unspecified_temporality',
  'label_limit',
  'invalid_utf8',
  'invalid',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Counters of the OTLP receivers, read by the /metrics endpoint. Plain numbers: the receiver must
 * not depend on a metrics library, and increments stay as cheap as a field write.
 */
export class OtlpStats {
  /** Export requests that were decoded, by transport. */
  requests = { grpc: 0, http: 0 };
  /** Requests refused whole: undecodable, unsupported, too large. */
  requestsFailed = { grpc: 0, http: 0 };
  /** Data points in decoded requests. */
  pointsReceived = 0;
  /** Data points stored (all their samples). */
  pointsAccepted = 0;
  /** Data points of metrics no trigger asks for, skipped in lazy mode (not an error). */
  pointsSkippedLazy = 0;
  /** Data points refused, by reason; reported to the sender in partial_success. */
  readonly pointsRejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
}
