/** Why a remote-write sample was not stored; each is a self-metric label value and a clause of the 400's message. */
const REASONS = ['series_limit', 'out_of_order', 'too_old', 'too_far_ahead', 'label_limit', 'invalid', 'invalid_histogram'] as const;
export type RemoteWriteRejectReason = (typeof REASONS)[number];

/** Counters of the remote-write receiver, read by /metrics; plain numbers, as the OTLP receiver's. */
export class RemoteWriteStats {
  /** Requests decoded, by protocol version. */
  requests = { v1: 0, v2: 0 };
  /** Requests refused whole: undecodable, unsupported, too large. */
  requestsFailed = 0;
  /** Float samples and native histogram samples in decoded requests. */
  samplesReceived = 0;
  histogramsReceived = 0;
  samplesWritten = 0;
  histogramsWritten = 0;
  /** Samples of metrics no trigger reads, skipped in lazy mode (not an error, so counted as written to the sender). */
  samplesSkippedLazy = 0;
  histogramsSkippedLazy = 0;
  /** Exemplars received; the store keeps none. */
  exemplarsIgnored = 0;
  /** Samples (float or native histogram) refused, by reason. */
  readonly samplesRejected = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<RemoteWriteRejectReason, number>;
}
