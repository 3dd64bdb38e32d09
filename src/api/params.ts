import { parseUnitDuration } from '../common/duration.js';
import { badData } from './errors.js';

/**
 * Prometheus's bounds for an open time range, in ms. A missing `start`/`end` means these, and
 * clients (promtool, client_golang) send them back as float seconds or as the RFC 3339 text below.
 */
export const MIN_TIME_MS = -9_223_309_901_257_974 * 1000;
export const MAX_TIME_MS = 9_223_309_901_257_974 * 1000 + 999;
/** Go's time package cannot parse years of more than four digits, so Prometheus matches these texts exactly. */
const MIN_TIME_TEXT = '-292273086-05-16T16:47:06Z';
const MAX_TIME_TEXT = '292277025-08-18T07:12:54.999999999Z';

/** What Go's strconv.ParseFloat takes in decimal form: sign, digits with an optional point, exponent. */
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;
const INTEGER = /^[+-]?\d+$/;

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** RFC 3339 with any number of fraction digits, truncated to ms as Prometheus's timestamp.FromTime does. */
function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((m[7] ?? '').padEnd(3, '0').slice(0, 3)));
  let ms = date.getTime();
  const zone = m[8]!;
  if (zone !== 'Z') {
    const offHours = Number(zone.slice(1, 3));
    const offMinutes = Number(zone.slice(4, 6));
    if (offHours > 23 || offMinutes > 59) return undefined;
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (offHours * 3_600_000 + offMinutes * 60_000);
  }
  return ms;
}

/**
 * A timestamp as the Prometheus API takes it, in ms since the epoch: float Unix seconds
 * (fraction rounded to ms), RFC 3339 with fraction and offset, or Prometheus's min/max time
 * texts. The error text is Prometheus's.
 */
export function parseTime(text: string): number {
  if (FLOAT.test(text)) {
    const seconds = Number(text);
    if (Number.isFinite(seconds)) {
      const whole = Math.trunc(seconds);
      return whole * 1000 + roundHalfAway((seconds - whole) * 1000);
    }
  }
  const rfc = parseRfc3339(text);
  if (rfc !== undefined) return rfc;
  if (text === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (text === MAX_TIME_TEXT) return MAX_TIME_MS;
  throw new Error(`cannot parse ${JSON.stringify(text)} to a valid timestamp`);
}

/** A duration as Prometheus's API takes it: float seconds, or `1h30m`-style units in order. Returns ms. */
export function parseDuration(text: string): number {
  if (FLOAT.test(text)) {
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || Math.abs(seconds * 1e9) > 9.223372036854776e18) {
      throw new Error(`cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`);
    }
    return Math.trunc(seconds * 1000);
  }
  const ms = parseUnitDuration(text);
  if (ms !== undefined) return ms;
  throw new Error(`cannot parse ${JSON.stringify(text)} to a valid duration`);
}

/** An optional time parameter; the error names it twice, as Prometheus's parseTimeParam does. */
export function timeParam(name: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  try {
    return parseTime(text);
  } catch (e) {
    throw invalidParam(name, `invalid time value for '${name}': ${(e as Error).message}`);
  }
}

/** A required time parameter (query_range's start and end). */
export function requiredTimeParam(name: string, text: string | undefined): number {
  try {
    return parseTime(text ?? '');
  } catch (e) {
    throw invalidParam(name, (e as Error).message);
  }
}

export function durationParam(name: string, text: string | undefined): number {
  try {
    return parseDuration(text ?? '');
  } catch (e) {
    throw invalidParam(name, (e as Error).message);
  }
}

/** `limit`: 0 or absent means none; the errors are those of Go's strconv.Atoi and Prometheus. */
export function limitParam(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!INTEGER.test(text)) throw invalidParam('limit', `strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const n = Number(text);
  if (n < 0) throw invalidParam('limit', 'limit must be non-negative');
  return n;
}

export function invalidParam(name: string, message: string) {
  return badData(`invalid parameter ${JSON.stringify(name)}: ${message}`);
}
