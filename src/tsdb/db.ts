import { Coverage } from './coverage.js';
import type { FloatHistogram } from './float-histogram.js';
import { labelsGet, METRIC_NAME, type Labels } from './labels.js';
import type { Matcher } from './matcher.js';
import type { Posting, Postings } from './postings.js';
import { SeriesColumns } from './series-columns.js';
import { SeriesMap } from './series-map.js';
import { AppendStatus, Series } from './series.js';

export { AppendStatus } from './series.js';

export interface TsdbOptions {
  /** Samples older than now minus this are dropped; series left empty are freed. */
  retentionMs: number;
  maxSeries: number;
  maxSamplesPerSeries: number;
  outOfOrderWindowMs: number;
  now: () => number;
}

export interface MetricMetadata {
  type: string;
  unit: string;
  help: string;
}

export interface TsdbStats {
  seriesCreated: number;
  seriesFreed: number;
  seriesRejected: number;
  samplesAppended: number;
  samplesOutOfOrder: number;
  samplesTooOld: number;
}

const FAMILY_SUFFIXES = ['', '_bucket', '_count', '_sum'];

type IngestListener = (metricNames: ReadonlySet<string>) => void;

/**
 * The in-memory time-series database: series by label set, postings for matcher selection,
 * retention and limits, and a notification of which metric names received samples.
 */
export class Tsdb {
  readonly options: TsdbOptions;
  readonly stats: TsdbStats = {
    seriesCreated: 0,
    seriesFreed: 0,
    seriesRejected: 0,
    samplesAppended: 0,
    samplesOutOfOrder: 0,
    samplesTooOld: 0,
  };
  private readonly byLabels: SeriesMap;
  private readonly meta = new Map<string, MetricMetadata>();
  private readonly listeners = new Set<IngestListener>();
  private pendingNames = new Set<string>();
  /** Postings that got series since the last retention pass, which trims them to their size. */
  private readonly grown = new Set<Posting<Series>>();
  /** Every series' samples and state, by slot. */
  private readonly columns: SeriesColumns<Series>;
  private readonly postings: Postings<Series>;
  /** The spans of time this store holds completely: since it was created, plus any restored ones. */
  readonly coverage: Coverage;

  constructor(opts: Partial<TsdbOptions> = {}) {
    this.options = {
      retentionMs: Infinity,
      maxSeries: Infinity,
      maxSamplesPerSeries: Infinity,
      outOfOrderWindowMs: Infinity,
      now: Date.now,
      ...opts,
    };
    this.coverage = new Coverage(this.options.now());
    this.columns = new SeriesColumns<Series>(this.options.maxSamplesPerSeries);
    this.postings = this.columns.postings;
    this.byLabels = new SeriesMap(this.columns);
  }

  get seriesCount(): number {
    return this.byLabels.size;
  }

  /** The series for a label set, if there is one. */
  get(labels: Labels): Series | undefined {
    return this.byLabels.get(labels);
  }

  /** The series for a label set, created when new; undefined when `maxSeries` is reached. */
  getOrCreate(labels: Labels, aliasName?: string): Series | undefined {
    const found = this.byLabels.get(labels);
    if (found) return found;
    if (this.byLabels.size >= this.options.maxSeries) {
      this.stats.seriesRejected++;
      return undefined;
    }
    const alias = aliasName !== undefined && aliasName !== labelsGet(labels, METRIC_NAME) ? this.postings.intern(METRIC_NAME, aliasName) : undefined;
    const series = new Series(labels, alias?.value, this.columns);
    this.byLabels.add(series, labels);
    for (const p of series.postingsOf()) this.addToPosting(p, series);
    if (alias !== undefined) this.addToPosting(alias, series);
    this.stats.seriesCreated++;
    return series;
  }

  /** True when a sample at `t` is older than retention: append would refuse it. */
  isTooOld(t: number): boolean {
    return t < this.options.now() - this.options.retentionMs;
  }

  /**
   * True when append would refuse a sample at `t` as out of order, without storing it: with
   * isTooOld, lets a caller check every sample of a group before writing any.
   */
  isOutOfOrder(series: Series, t: number): boolean {
    return series.maxTime - t > this.options.outOfOrderWindowMs;
  }

  /** `startMs` is the sample's start time (OTLP start_time_unix_nano, Prometheus's ST); 0 means none. */
  append(series: Series, t: number, v: number, stale = false, startMs = 0): AppendStatus {
    if (this.refusesAsTooOld(series, t)) return AppendStatus.TooOld;
    return this.counted(
      series,
      startMs === 0 && !series.hasStartTimes
        ? series.append(t, v, stale, this.options.outOfOrderWindowMs)
        : series.appendWithStart(t, v, stale, this.options.outOfOrderWindowMs, startMs),
    );
  }

  /**
   * True, and counted, when a sample at t is past retention or its series was freed: a series
   * retention freed (its holder had not looked it up again) takes nothing, as the samples it had.
   */
  private refusesAsTooOld(series: Series, t: number): boolean {
    if (!this.isTooOld(t) && series.live) return false;
    this.stats.samplesTooOld++;
    return true;
  }

  /** Counts an append's outcome and notes the metric names that got a sample. */
  private counted(series: Series, status: AppendStatus): AppendStatus {
    if (status === AppendStatus.OutOfOrder) {
      this.stats.samplesOutOfOrder++;
      return status;
    }
    this.stats.samplesAppended++;
    if (this.listeners.size > 0) {
      this.pendingNames.add(series.metricName);
      if (series.aliasName !== undefined) this.pendingNames.add(series.aliasName);
    }
    return status;
  }

  /** Stores a native histogram sample, under the same retention and out-of-order rules as a float. */
  appendHistogram(series: Series, t: number, h: FloatHistogram): AppendStatus {
    if (this.refusesAsTooOld(series, t)) return AppendStatus.TooOld;
    return this.counted(series, series.appendHistogram(t, h, this.options.outOfOrderWindowMs));
  }

  appendHistogramLabels(labels: Labels, t: number, h: FloatHistogram): AppendStatus | undefined {
    const series = this.getOrCreate(labels);
    return series === undefined ? undefined : this.appendHistogram(series, t, h);
  }

  appendLabels(labels: Labels, t: number, v: number, stale = false, startMs = 0): AppendStatus | undefined {
    const series = this.getOrCreate(labels);
    return series === undefined ? undefined : this.append(series, t, v, stale, startMs);
  }

  /** Every series matching all matchers. A `__name__` matcher that selects also accepts the alias name. */
  select(matchers: readonly Matcher[]): Series[] {
    let candidates: Iterable<Series> | undefined;
    let candidateCount = Infinity;
    let source: Matcher | undefined;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const posting = this.postings.get(m.name, m.value);
      if (posting === undefined) return [];
      if (posting.series.length < candidateCount) {
        candidates = posting.series;
        candidateCount = posting.series.length;
        source = m;
      }
    }
    if (candidates === undefined) {
      const regexMatcher = matchers.find((m) => m.type === '=~' && !m.matchesEmpty());
      candidates = regexMatcher ? this.seriesWithValueMatching(regexMatcher) : this.byLabels.values();
    }
    // Every series of an `=` matcher's posting matches it (by label or alias): only the others are checked.
    const rest = source === undefined ? matchers : matchers.filter((m) => m !== source);
    if (rest.length === 0) return [...candidates];
    const out: Series[] = [];
    for (const s of candidates) {
      if (matchesAll(s, rest)) out.push(s);
    }
    return out;
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    if (!matchers || matchers.length === 0) return [...this.postings.byName.keys()].sort();
    const names = new Set<string>();
    for (const s of this.select(matchers)) {
      for (let i = 0; i < s.labels.length; i += 2) names.add(s.labels[i]!);
    }
    return [...names].sort();
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    if (!matchers || matchers.length === 0) {
      const values = this.postings.byName.get(name)?.values;
      if (!values) return [];
      if (name !== METRIC_NAME) return [...values.keys()].sort();
      // Alias names are for selection only; listing them would show metrics that do not exist.
      const real = new Set<string>();
      for (const p of values.values()) for (const s of p.series) real.add(s.metricName);
      return [...real].sort();
    }
    const values = new Set<string>();
    for (const s of this.select(matchers)) {
      const v = labelsGet(s.labels, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort();
  }

  /** All live series, in creation order. */
  allSeries(): IterableIterator<Series> {
    return this.byLabels.values();
  }

  setMetadata(metricName: string, meta: MetricMetadata): void {
    const had = this.meta.get(metricName);
    if (had && had.type === meta.type && had.unit === meta.unit && had.help === meta.help) return;
    this.meta.set(metricName, meta);
  }

  /** Metadata of one metric name, or of every name that still has series. */
  metadata(metricName?: string): Map<string, MetricMetadata> {
    const out = new Map<string, MetricMetadata>();
    const names = this.postings.byName.get(METRIC_NAME)?.values;
    if (!names) return out;
    for (const [name, m] of this.meta) {
      if (metricName !== undefined && name !== metricName) continue;
      // Histograms and summaries keep their metadata under the family name, whose series are x_bucket, x_count, x_sum.
      if (FAMILY_SUFFIXES.some((suffix) => names.has(name + suffix))) out.set(name, m);
    }
    return out;
  }

  onIngest(listener: IngestListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells listeners which metric names got samples since the last flush; ingest calls it once a request. */
  flushIngest(): void {
    if (this.pendingNames.size === 0) return;
    const names = this.pendingNames;
    this.pendingNames = new Set();
    for (const l of this.listeners) l(names);
  }

  clear(): void {
    for (const s of this.byLabels.values()) s.free();
    this.byLabels.clear();
    this.postings.clear();
    this.grown.clear();
    this.meta.clear();
    this.pendingNames.clear();
  }

  /**
   * Applies retention: trims old samples and frees series left with none; the label sets queries
   * built go back to pair numbers, and postings that grew to their size. Returns how many series
   * were freed.
   */
  gc(nowMs: number = this.options.now()): number {
    if (!Number.isFinite(this.options.retentionMs)) {
      for (const s of this.byLabels.values()) s.compact();
      this.trimGrown();
      return 0;
    }
    const minT = nowMs - this.options.retentionMs;
    this.coverage.trimBefore(minT);
    let freed = 0;
    // Postings lose their freed series in one pass each, after all are known: removing one at a time
    // from a posting of many series would move the array once for each.
    const touched = new Set<Posting<Series>>();
    for (const s of this.byLabels.values()) {
      if (s.trimBefore(minT) > 0) {
        s.compact();
        continue;
      }
      this.byLabels.delete(s);
      for (const p of s.postingsOf()) touched.add(p);
      if (s.aliasName !== undefined) touched.add(this.postings.get(METRIC_NAME, s.aliasName)!);
      s.free();
      freed++;
    }
    for (const posting of touched) {
      posting.series = posting.series.filter((s) => s.live);
      this.grown.delete(posting);
      if (posting.series.length === 0) this.postings.remove(posting);
    }
    this.trimGrown();
    this.stats.seriesFreed += freed;
    return freed;
  }

  private addToPosting(posting: Posting<Series>, series: Series): void {
    posting.series.push(series);
    this.grown.add(posting);
  }

  /**
   * Copies the postings that grew since the last pass to arrays of their size: a pushed array
   * keeps room for a third more, 8 bytes a slot, under each of a series' half dozen labels.
   */
  private trimGrown(): void {
    for (const posting of this.grown) posting.series = posting.series.slice();
    this.grown.clear();
  }

  private seriesWithValueMatching(m: Matcher): Series[] {
    const values = this.postings.byName.get(m.name)?.values;
    if (!values) return [];
    const out: Series[] = [];
    const seen = m.name === METRIC_NAME ? new Set<Series>() : undefined;
    for (const [value, posting] of values) {
      if (!m.matches(value)) continue;
      for (const s of posting.series) {
        if (seen) {
          // A series can sit under both its name and its alias.
          if (seen.has(s)) continue;
          seen.add(s);
        }
        out.push(s);
      }
    }
    return out;
  }
}

function matchesAll(s: Series, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) {
    const value = s.labelValue(m.name);
    if (m.matches(value)) continue;
    // The alias stands in for the name only where the matcher selects, never where it excludes.
    if (m.name === METRIC_NAME && s.aliasName !== undefined && (m.type === '=' || m.type === '=~') && m.matches(s.aliasName)) {
      continue;
    }
    return false;
  }
  return true;
}
