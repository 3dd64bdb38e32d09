import { labelLimitViolation } from '../otlp/translate/label-limits.js';
import { MAX_AHEAD_MS, STORE_REJECT_TEXT } from '../otlp/translate/rejections.js';
import { AppendStatus, type MetricMetadata, type Tsdb } from '../tsdb/db.js';
import { labelsGet, METRIC_NAME, type Labels } from '../tsdb/labels.js';
import type { Series } from '../tsdb/series.js';
import { readLabels, type DecodedSeries, type WriteBatch } from './decode.js';
import type { RemoteWriteRejectReason, RemoteWriteStats } from './stats.js';

/** What a request did, for the response's status, `*-Written` headers and message. */
export interface StoreResult {
  /**
   * Samples stored, plus those lazy mode skipped: they were taken as meant, and a 2.0 sender
   * reads a success that wrote nothing as a receiver that did not understand the request.
   */
  samplesWritten: number;
  /** Native histogram samples stored (lazy mode's skipped ones included, as for floats). */
  histogramsWritten: number;
  /** Float and native histogram samples refused; any makes the answer a 400. */
  rejected: number;
  /** Empty when nothing was refused; otherwise one clause a reason, with an example. */
  errorMessage: string;
}

/** Samples stored between two places where sliced storing may pause. */
const SAMPLES_PER_PAUSE = 64;

const REASON_TEXT: Record<RemoteWriteRejectReason, string> = {
  ...STORE_REJECT_TEXT,
  invalid: 'of series with invalid labels',
  invalid_histogram: 'native histogram samples that are not valid histograms',
};

/** Family names carry metadata; a histogram's or summary's series add these suffixes to it. */
const FAMILY_SUFFIXES = /(_bucket|_count|_sum)$/;
const FAMILY_TYPES = new Set(['histogram', 'gaugehistogram', 'summary']);

/** Counts a request's refusals and keeps one example a reason. */
class Rejections {
  total = 0;
  private readonly byReason = new Map<RemoteWriteRejectReason, { count: number; example: string }>();

  constructor(private readonly stats: RemoteWriteStats) {}

  add(reason: RemoteWriteRejectReason, count: number, example: () => string): void {
    if (count === 0) return;
    this.total += count;
    this.stats.samplesRejected[reason] += count;
    const entry = this.byReason.get(reason);
    if (entry) entry.count += count;
    else this.byReason.set(reason, { count, example: example() });
  }

  message(): string {
    const parts: string[] = [];
    for (const [reason, { count, example }] of this.byReason) parts.push(`${count} ${REASON_TEXT[reason]} (e.g. ${example})`);
    return parts.length === 0 ? '' : `${this.total} samples rejected: ${parts.join('; ')}`;
  }
}

/** Least bound on the series cache; it otherwise holds up to twice the database's series limit. */
const MIN_SERIES_CACHE_LIMIT = 100_000;

/**
 * Stores decoded remote-write requests' samples. They already carry Prometheus names and labels,
 * so nothing is renamed: a series' labels are checked (sorted, no repeats, within the label
 * limits) and its samples appended, staleness markers as markers. One bad series or sample is
 * refused alone; every other sample of the request is stored.
 */
export class RemoteWriteStore {
  /**
   * 1.0 series found before, by the bytes of their label fields: steady-state ingest appends
   * without reading a label. Freed series are noticed through `Series.live`; the whole cache is
   * dropped when it outgrows its bound.
   */
  private byRawKey = new Map<string, Series>();
  private readonly cacheLimit: number;
  private wanted: (() => ReadonlySet<string>) | undefined;

  constructor(
    private readonly tsdb: Tsdb,
    readonly stats: RemoteWriteStats,
    private readonly maxSeriesBytes = Infinity,
  ) {
    const maxSeries = tsdb.options.maxSeries;
    this.cacheLimit = Number.isFinite(maxSeries) ? Math.max(MIN_SERIES_CACHE_LIMIT, 2 * maxSeries) : 2_000_000;
  }

  /** Lazy mode: keep only series whose metric name the function (asked once a request) returns. */
  setWantedNames(wanted: () => ReadonlySet<string>): void {
    this.wanted = wanted;
  }

  /** Stores a request as sliced work that may pause every few dozen samples. */
  *storeSlices(batch: WriteBatch): Generator<void, StoreResult, void> {
    const { tsdb, stats } = this;
    const rejections = new Rejections(stats);
    const wanted = this.wanted?.();
    const { samples } = batch;
    let written = 0;
    let histogramsWritten = 0;
    const skippedBefore = stats.samplesSkippedLazy;
    const histogramsSkippedBefore = stats.histogramsSkippedLazy;
    let sincePause = 0;
    const latest = tsdb.options.now() + MAX_AHEAD_MS;
    for (const [family, meta] of batch.metadata) tsdb.setMetadata(family, meta);
    for (let s = 0; s < batch.series.length; s++) {
      const decoded = batch.series[s]!;
      stats.samplesReceived += decoded.count;
      stats.histogramsReceived += decoded.histograms;
      if (decoded.count + decoded.histograms === 0) continue;
      const found = this.seriesOf(batch, decoded, rejections, wanted);
      if (found === undefined) continue;
      // A new series is made for its first sample that can be stored, so refused samples create nothing.
      let series = Array.isArray(found) ? undefined : (found as Series);
      const labels = series?.labels ?? (found as Labels);
      const total = decoded.count + decoded.histograms;
      for (let k = 0; k < total; k++) {
        const i = k < decoded.count ? decoded.first + k : -1;
        const hs = i === -1 ? batch.histograms[decoded.firstHistogram + k - decoded.count]! : undefined;
        const time = hs === undefined ? samples.times[i]! : hs.time;
        if (hs?.invalid !== undefined) rejections.add('invalid_histogram', 1, () => `${describe(labels)}: ${hs.invalid}`);
        else if (time > latest) rejections.add('too_far_ahead', 1, () => `${describe(labels)} at ${isoTime(time)}`);
        else if (series === undefined && tsdb.isTooOld(time)) rejections.add('too_old', 1, () => `${describe(labels)} at ${isoTime(time)}`);
        else {
          series ??= this.create(labels, decoded.rawKey);
          if (series === undefined) {
            rejections.add('series_limit', total - k, () => describe(labels));
            break;
          }
          let status: AppendStatus;
          if (hs === undefined) status = tsdb.append(series, time, samples.values[i]!, samples.stale[i] === 1, samples.starts[i] || decoded.createdMs);
          else if (hs.stale) status = tsdb.append(series, time, NaN, true);
          else status = tsdb.appendHistogram(series, time, hs.h!);
          if (status === AppendStatus.OutOfOrder) rejections.add('out_of_order', 1, () => `${describe(labels)} at ${isoTime(time)}`);
          else if (status === AppendStatus.TooOld) rejections.add('too_old', 1, () => `${describe(labels)} at ${isoTime(time)}`);
          else if (hs === undefined) written++;
          else histogramsWritten++;
        }
        if (++sincePause === SAMPLES_PER_PAUSE) {
          sincePause = 0;
          yield;
        }
      }
      if (series !== undefined && decoded.metadata !== undefined) setSeriesMetadata(tsdb, series.metricName, decoded.metadata);
    }
    stats.samplesWritten += written;
    stats.histogramsWritten += histogramsWritten;
    stats.exemplarsIgnored += batch.exemplars;
    return {
      samplesWritten: written + stats.samplesSkippedLazy - skippedBefore,
      histogramsWritten: histogramsWritten + stats.histogramsSkippedLazy - histogramsSkippedBefore,
      rejected: rejections.total,
      errorMessage: rejections.message(),
    };
  }

  /**
   * The series a decoded one's samples go to, or the checked labels of one not yet made, or
   * undefined (its samples counted as refused, or skipped in lazy mode).
   */
  private seriesOf(batch: WriteBatch, decoded: DecodedSeries, rejections: Rejections, wanted: ReadonlySet<string> | undefined): Series | Labels | undefined {
    const rawKey = decoded.rawKey;
    if (rawKey !== undefined) {
      const cached = this.byRawKey.get(rawKey);
      if (cached !== undefined && cached.live) return this.keep(cached, decoded, wanted);
    }
    readLabels(batch, decoded);
    const checked = checkLabels(decoded, this.maxSeriesBytes);
    if (typeof checked === 'string') {
      rejections.add(checked === LABEL_LIMIT ? 'label_limit' : 'invalid', decoded.count, () => checkMessage(batch, decoded, this.maxSeriesBytes));
      return undefined;
    }
    if (wanted !== undefined && !wanted.has(labelsGet(checked, METRIC_NAME))) return this.skip(decoded);
    const series = this.tsdb.get(checked);
    if (series === undefined) return checked;
    this.remember(rawKey, series);
    return series;
  }

  /** Makes a series for labels seriesOf checked; undefined at the series limit. */
  private create(labels: Labels, rawKey: string | undefined): Series | undefined {
    const series = this.tsdb.getOrCreate(labels);
    if (series !== undefined) this.remember(rawKey, series);
    return series;
  }

  private remember(rawKey: string | undefined, series: Series): void {
    if (rawKey === undefined) return;
    if (this.byRawKey.size >= this.cacheLimit) this.byRawKey = new Map();
    this.byRawKey.set(rawKey, series);
  }

  private keep(series: Series, decoded: DecodedSeries, wanted: ReadonlySet<string> | undefined): Series | undefined {
    return wanted === undefined || wanted.has(series.metricName) ? series : this.skip(decoded);
  }

  private skip(decoded: DecodedSeries): undefined {
    this.stats.samplesSkippedLazy += decoded.count;
    this.stats.histogramsSkippedLazy += decoded.histograms;
    return undefined;
  }
}

const LABEL_LIMIT = 'label limit';

/**
 * A series' labels as the store keys them (sorted by name, empty values dropped), or why it
 * cannot be stored: LABEL_LIMIT, or any other string for invalid labels (see checkMessage).
 */
function checkLabels(series: DecodedSeries, maxSeriesBytes: number): Labels | string {
  const sent = series.labels;
  if (sent === undefined) return series.invalid!;
  let labels: string[] = sent;
  let sorted = true;
  let empties = false;
  for (let i = 0; i < sent.length; i += 2) {
    if (sent[i] === '') return 'a label name is empty';
    if (i > 0 && sent[i]! <= sent[i - 2]!) sorted = false;
    if (sent[i + 1] === '') empties = true;
  }
  if (!sorted || empties) labels = normalize(sent);
  for (let i = 2; i < labels.length; i += 2) {
    if (labels[i] === labels[i - 2]) return `label name ${JSON.stringify(labels[i])} is repeated`;
  }
  if (labels.length === 0) return 'the series has no labels';
  return labelLimitViolation(labels, 0, maxSeriesBytes) === undefined ? labels : LABEL_LIMIT;
}

/** Sorted by name (stable, so a repeated name stays visible to the check after it), empty values dropped. */
function normalize(sent: readonly string[]): string[] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < sent.length; i += 2) if (sent[i + 1] !== '') pairs.push([sent[i]!, sent[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.flat();
}

function checkMessage(batch: WriteBatch, series: DecodedSeries, maxSeriesBytes: number): string {
  const checked = checkLabels(series, maxSeriesBytes);
  if (checked === LABEL_LIMIT) return `${labelLimitViolation(normalize(series.labels!), 0, maxSeriesBytes)} in ${describeSent(batch, series)}`;
  return `${checked as string} in ${describeSent(batch, series)}`;
}

function setSeriesMetadata(tsdb: Tsdb, metricName: string, meta: MetricMetadata): void {
  const family = FAMILY_TYPES.has(meta.type) ? metricName.replace(FAMILY_SUFFIXES, '') : metricName;
  tsdb.setMetadata(family, meta);
}

function describeSent(batch: WriteBatch, series: DecodedSeries): string {
  const labels = readLabels(batch, series);
  return labels === undefined ? 'a series' : describe(labels);
}

function describe(labels: readonly string[]): string {
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === '__name__') name = labels[i + 1]!;
    else parts.push(`${clip(labels[i]!)}=${JSON.stringify(clip(labels[i + 1]!))}`);
  }
  return `${clip(name)}{${parts.join(', ')}}`;
}

/** Label text in a message, cut short: the value over the limit may be many kilobytes. */
function clip(text: string): string {
  return text.length <= 100 ? text : `${text.slice(0, 100)}…`;
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms` : d.toISOString();
}
