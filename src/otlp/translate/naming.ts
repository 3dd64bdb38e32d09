import type { Config } from '../../config.js';
import { NamingError } from '../errors.js';

/**
 * OTLP → Prometheus names, following Prometheus's OTLP translation (its `otlptranslator`) for
 * each `otlp.translation_strategy`:
 *
 * - UnderscoreEscapingWithSuffixes (default): characters outside [a-zA-Z0-9:] separate words,
 *   words are joined by `_` (so runs collapse), the unit becomes suffix words (`By` → `bytes`,
 *   `By/s` → `bytes_per_second`, `{spans}` annotations → none, `1` → none), monotonic sums end in
 *   `_total`, unit-`1` gauges in `_ratio`, and a leading digit gets a `_` prefix.
 * - UnderscoreEscapingWithoutSuffixes: invalid characters → `_`, no suffixes.
 * - NoUTF8EscapingWithSuffixes: the name as sent, suffixes added.
 * - NoTranslation: the name as sent.
 */
export type NameTranslation = Config['nameTranslation'];

/** Prometheus's view of the OTLP metric kind, which decides the suffixes. */
export const enum MetricType {
  Gauge,
  MonotonicCounter,
  NonMonotonicCounter,
  Histogram,
  Summary,
}

const UNITS = new Map<string, string>(
  Object.entries({
    d: 'days',
    h: 'hours',
    min: 'minutes',
    s: 'seconds',
    ms: 'milliseconds',
    us: 'microseconds',
    ns: 'nanoseconds',
    By: 'bytes',
    KiBy: 'kibibytes',
    MiBy: 'mebibytes',
    GiBy: 'gibibytes',
    TiBy: 'tibibytes',
    KBy: 'kilobytes',
    MBy: 'megabytes',
    GBy: 'gigabytes',
    TBy: 'terabytes',
    m: 'meters',
    V: 'volts',
    A: 'amperes',
    J: 'joules',
    W: 'watts',
    g: 'grams',
    Cel: 'celsius',
    Hz: 'hertz',
    '1': '',
    '%': 'percent',
  }),
);

const PER_UNITS = new Map<string, string>(
  Object.entries({
    s: 'second',
    m: 'minute',
    h: 'hour',
    d: 'day',
    w: 'week',
    mo: 'month',
    y: 'year',
  }),
);

function escapes(strategy: NameTranslation): boolean {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes';
}

/** The strategy that spells the same name without the added suffixes, if this one adds any. */
function withoutSuffixes(strategy: NameTranslation): NameTranslation | undefined {
  if (strategy === 'UnderscoreEscapingWithSuffixes') return 'UnderscoreEscapingWithoutSuffixes';
  if (strategy === 'NoUTF8EscapingWithSuffixes') return 'NoTranslation';
  return undefined;
}

const METRIC_CHAR = /[a-zA-Z0-9:]/;
const INVALID_METRIC_CHARS = /[^a-zA-Z0-9:]+/;
const INVALID_METRIC_CHARS_NOT_UNDERSCORE = /[^a-zA-Z0-9:_]+/;
const DIGIT = /^[0-9]/;

/** The unit's main and per parts as suffix text (`By/s` → `bytes`, `per_second`); '' when none. */
function unitSuffixes(unit: string): [main: string, per: string] {
  const slash = unit.indexOf('/');
  const mainOtel = (slash === -1 ? unit : unit.slice(0, slash)).trim();
  let main = '';
  if (mainOtel !== '' && !/[{}]/.test(mainOtel)) main = UNITS.get(mainOtel) ?? mainOtel;
  let per = '';
  if (slash !== -1) {
    const perOtel = unit.slice(slash + 1).trim();
    if (perOtel !== '' && !/[{}]/.test(perOtel)) per = PER_UNITS.get(perOtel) ?? perOtel;
    if (per !== '') per = `per_${per}`;
  }
  return [main, per];
}

/** Invalid characters to `_`, runs of `_` collapsed, no leading `_`. */
function cleanUnit(text: string): string {
  let out = '';
  let lastUnderscore = false;
  for (const ch of text) {
    const c = METRIC_CHAR.test(ch) ? ch : '_';
    if (c === '_') {
      if (lastUnderscore) continue;
      lastUnderscore = true;
    } else {
      lastUnderscore = false;
    }
    out += c;
  }
  return out.startsWith('_') ? out.slice(1) : out;
}

function escapedWithSuffixes(name: string, unit: string, type: MetricType): string {
  let words = name.split(INVALID_METRIC_CHARS).filter((w) => w !== '');
  const [mainRaw, perRaw] = unitSuffixes(unit);
  let main = cleanUnit(mainRaw);
  let per = cleanUnit(perRaw);
  if (words.includes(main)) main = '';
  if (per === 'per_') per = '';
  else {
    if (per.endsWith('_')) per = per.slice(0, -1);
    if (words.includes(per)) per = '';
  }
  if (per !== '' && main.endsWith('_')) main = main.slice(0, -1);
  if (main !== '') words.push(main);
  if (per !== '') words.push(per);
  if (type === MetricType.MonotonicCounter) words = [...words.filter((w) => w !== 'total'), 'total'];
  if (unit === '1' && type === MetricType.Gauge) words = [...words.filter((w) => w !== 'ratio'), 'ratio'];
  const joined = words.join('_');
  return DIGIT.test(joined) ? `_${joined}` : joined;
}

function escapedWithoutSuffixes(name: string): string {
  const joined = name
    .split(INVALID_METRIC_CHARS_NOT_UNDERSCORE)
    .filter((w) => w !== '')
    .join('_');
  return DIGIT.test(joined) ? `_${joined}` : joined;
}

/** Removes `suffix` and the one delimiter before it, when something is left. */
function trimSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1 ? name.slice(0, -(suffix.length + 1)) : name;
}

function utf8WithSuffixes(name: string, unit: string, type: MetricType): string {
  let out = name;
  let tail = '';
  if (unit === '1' && type === MetricType.Gauge) {
    out = trimSuffix(out, 'ratio');
    tail = '_ratio';
  }
  if (type === MetricType.MonotonicCounter) {
    out = trimSuffix(out, 'total');
    tail = `_total${tail}`;
  }
  const [main, per] = unitSuffixes(unit);
  if (per !== '') {
    out = trimSuffix(out, per);
    tail = `_${per}${tail}`;
  }
  if (main !== '' && !out.endsWith(main)) out = `${out}_${main}`;
  return out + tail;
}

/** The Prometheus metric name of an OTLP metric under one strategy; throws NamingError when there is none. */
export function metricName(strategy: NameTranslation, name: string, unit: string, type: MetricType): string {
  let out: string;
  switch (strategy) {
    case 'UnderscoreEscapingWithSuffixes':
      out = escapedWithSuffixes(name, unit, type);
      break;
    case 'UnderscoreEscapingWithoutSuffixes':
      out = escapedWithoutSuffixes(name);
      break;
    case 'NoUTF8EscapingWithSuffixes':
      out = utf8WithSuffixes(name, unit, type);
      break;
    case 'NoTranslation':
      out = name;
      break;
  }
  if (out === '') throw new NamingError(`metric name ${JSON.stringify(name)} translates to an empty name`);
  if (out !== name && /^_*$/.test(out)) {
    throw new NamingError(`metric name ${JSON.stringify(name)} translates to ${JSON.stringify(out)}, which has only underscores`);
  }
  return out;
}

export interface TranslatedName {
  /** The name series are stored under. */
  name: string;
  /**
   * The same name without the suffixes the strategy added (what Prometheus would name it under
   * the matching "WithoutSuffixes"/"NoTranslation" strategy), so queries written either way find
   * the series. undefined when equal to `name` or when the strategy adds no suffixes.
   */
  alias: string | undefined;
}

export function translateMetricName(strategy: NameTranslation, name: string, unit: string, type: MetricType): TranslatedName {
  const out = metricName(strategy, name, unit, type);
  const plain = withoutSuffixes(strategy);
  if (plain === undefined) return { name: out, alias: undefined };
  const alias = metricName(plain, name, unit, type);
  return { name: out, alias: alias === out ? undefined : alias };
}

/** The unit as Prometheus's metadata shows it (`By/s` → `bytes_per_second`, `{spans}` → ''). */
export function prometheusUnit(strategy: NameTranslation, unit: string): string {
  let [main, per] = unitSuffixes(unit);
  if (escapes(strategy)) {
    main = cleanUnit(main);
    per = cleanUnit(per);
  }
  let out = main !== '' && per !== '' ? `${main}_${per}` : main !== '' ? main : per;
  if (out.startsWith('_')) out = out.slice(1);
  if (out.endsWith('_')) out = out.slice(0, -1);
  return out;
}

const LABEL_CHAR = /[a-zA-Z0-9]/;

/**
 * A label name from an attribute key. When escaping: characters outside [a-zA-Z0-9] → `_` with
 * runs collapsed, except that a reserved `__x__` keeps its double underscores; a leading digit
 * gets a `key_` prefix. Throws NamingError for an empty key or one that leaves only underscores.
 */
export function labelName(strategy: NameTranslation, key: string): string {
  if (key === '') throw new NamingError('attribute key is empty');
  if (!escapes(strategy)) {
    if (/^_+$/.test(key)) throw new NamingError(`attribute key ${JSON.stringify(key)} has only underscores`);
    return key;
  }
  const reserved = key.length >= 4 && key.startsWith('__') && key.endsWith('__');
  const inner = reserved ? key.slice(2, -2) : key;
  let out = '';
  let lastUnderscore = false;
  for (const ch of inner) {
    if (LABEL_CHAR.test(ch)) {
      out += ch;
      lastUnderscore = false;
    } else if (!lastUnderscore) {
      out += '_';
      lastUnderscore = true;
    }
  }
  if (reserved) out = `__${out}__`;
  if (DIGIT.test(out)) out = `key_${out}`;
  if (/^_*$/.test(out)) {
    throw new NamingError(`attribute key ${JSON.stringify(key)} translates to ${JSON.stringify(out)}, which has only underscores`);
  }
  return out;
}
