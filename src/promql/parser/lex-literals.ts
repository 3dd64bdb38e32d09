import { parseUnitDuration } from '../../common/duration.js';
import { ESCAPED_BYTE_BASE, goQuote } from '../../common/go-format.js';

/**
 * The values of PromQL's literal tokens: numbers, durations and quoted strings, with the rules of
 * Prometheus's lexer (Go's number syntax and Go's string escapes). Every function here returns
 * either the value or the reason it is invalid, so the parser can place the error.
 */

export type Lexed<T> = { ok: true; value: T } | { ok: false; cause: string };

const ok = <T>(value: T): Lexed<T> => ({ ok: true, value });
const bad = <T>(cause: string): Lexed<T> => ({ ok: false, cause });

/** The largest duration Go's time.Duration holds, in ms: a bigger one is an error upstream. */
const MAX_DURATION_MS = 9_223_372_036_854;

/** A Prometheus duration string (`1h30m`, `500ms`, `1y`) in ms; `0` alone is allowed. */
export function lexUnitDuration(text: string): Lexed<number> {
  const ms = parseUnitDuration(text);
  if (ms === undefined) return bad(`not a valid duration string: ${goQuote(text)}`);
  if (ms > MAX_DURATION_MS) return bad(`duration out of range`);
  return ok(ms);
}

/** True when a number token is a duration with units (`5m`), not a plain number. */
export function isUnitDuration(text: string): boolean {
  return !/^0[xX]/.test(text) && /[ywdhms]$/.test(text);
}

/**
 * A number token: decimal, exponent, hex `0x..`, Go-style octal `0..`, `Inf`, `NaN` (any case),
 * `_` between digits, or a duration with units, which counts as its length in seconds.
 */
export function lexNumber(text: string): Lexed<number> {
  const lower = text.toLowerCase();
  if (lower === 'inf') return ok(Infinity);
  if (lower === 'nan') return ok(NaN);
  if (isUnitDuration(text)) {
    const d = lexUnitDuration(text);
    return d.ok ? ok(d.value / 1000) : d;
  }
  const digits = text.replace(/_/g, '');
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(digits)) value = parseInt(digits.slice(2), 16);
  else if (/^0[0-7]+$/.test(digits)) value = parseInt(digits.slice(1), 8);
  else if (/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(digits)) value = Number(digits);
  else return bad(`bad number syntax: ${goQuote(text)}`);
  if (!Number.isFinite(value)) return bad(`error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
  return ok(value);
}

/**
 * Seconds (a float) as a range, step or offset in ms, the way Prometheus converts: to whole
 * nanoseconds, rounded, then truncated to ms.
 */
export function secondsToMs(seconds: number): Lexed<number> {
  if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_DURATION_MS / 1000) return bad('duration out of range');
  const ms = Number.isInteger(seconds * 1000) ? seconds * 1000 : Math.trunc(Math.round(seconds * 1e9) / 1e6);
  return ok(ms === 0 ? 0 : ms);
}

/**
 * A duration as PromQL and the HTTP API accept it: units (`1h30m`, `500ms`) or plain seconds,
 * which may be a float (`90`, `1.5`). In ms.
 */
export function lexDuration(text: string): Lexed<number> {
  if (/^\d+(?:[ywdhms]|ms)/.test(text)) return lexUnitDuration(text);
  if (!/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return bad(`not a valid duration string: ${goQuote(text)}`);
  return secondsToMs(Number(text));
}

/**
 * The value of a quoted string token: `"..."` and `'...'` with Go's escapes (`\n`, `\x41`, `\101`,
 * `\u00e9`, `\U0001F600`, the opening quote), or a raw backtick string. `\x` and octal escapes
 * are bytes, as in Go; bytes that do not form valid UTF-8 come back as lone surrogates
 * U+DC80..U+DCFF (Python's "surrogateescape"), so later checks can still tell the string is not
 * valid UTF-8 (`str.isWellFormed()` is false) and print the original bytes.
 */
export function unquoteString(raw: string): Lexed<string> {
  const quote = raw[0];
  if (quote === '`') {
    if (raw.length < 2 || raw[raw.length - 1] !== '`') return bad('unterminated raw string');
    return ok(raw.slice(1, -1));
  }
  if (quote !== '"' && quote !== "'") return bad(`invalid string literal ${raw}`);
  const bytes: number[] = [];
  const pushCodePoint = (cp: number): void => {
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
  };
  let i = 1;
  for (;;) {
    if (i >= raw.length) return bad('unterminated quoted string');
    const cp = raw.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (ch === quote) break;
    if (ch === '\n') return bad('unterminated quoted string');
    if (ch !== '\\') {
      pushCodePoint(cp);
      continue;
    }
    if (i >= raw.length) return bad('escape sequence not terminated');
    const e = raw[i]!;
    i++;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
    if (e in simple) {
      bytes.push(simple[e]!);
      continue;
    }
    if (e === quote) {
      bytes.push(e.charCodeAt(0));
      continue;
    }
    let n: number;
    let base: number;
    let max: number;
    let isByte = false;
    let start = i;
    if (e >= '0' && e <= '7') {
      [n, base, max, isByte] = [3, 8, 255, true];
      start = i - 1;
    } else if (e === 'x') [n, base, max, isByte] = [2, 16, 255, true];
    else if (e === 'u') [n, base, max] = [4, 16, 0x10ffff];
    else if (e === 'U') [n, base, max] = [8, 16, 0x10ffff];
    else return bad(`unknown escape sequence ${goRuneName(raw.codePointAt(i - 1)!)}`);
    let x = 0;
    for (let k = 0; k < n; k++) {
      const c = raw[start + k];
      if (c === undefined) return bad('escape sequence not terminated');
      const d = parseInt(c, 16);
      if (Number.isNaN(d) || d >= base) return bad(`illegal character ${goRuneName(c.codePointAt(0)!)} in escape sequence`);
      x = x * base + d;
    }
    i = start + n;
    if (x > max || (x >= 0xd800 && x < 0xe000)) return bad('escape sequence is an invalid Unicode code point');
    if (isByte) bytes.push(x);
    else pushCodePoint(x);
  }
  if (i !== raw.length) return bad('unterminated quoted string');
  return ok(decodeUtf8Escaped(bytes));
}

/** UTF-8 bytes to a string; each byte of an invalid sequence becomes U+DC80 + (byte - 0x80). */
function decodeUtf8Escaped(bytes: number[]): string {
  const buf = Buffer.from(bytes);
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    return strict.decode(buf);
  } catch {
    let out = '';
    let i = 0;
    while (i < buf.length) {
      const len = utf8SeqLength(buf, i);
      if (len === 0) {
        out += String.fromCharCode(ESCAPED_BYTE_BASE + buf[i]!);
        i++;
      } else {
        out += buf.subarray(i, i + len).toString('utf8');
        i += len;
      }
    }
    return out;
  }
}

/** Length of the valid UTF-8 sequence at i, or 0 when the byte there does not start one. */
function utf8SeqLength(buf: Buffer, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > buf.length) return 0;
  for (let k = 1; k < len; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return 0;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(i, i + len));
    return len;
  } catch {
    return 0;
  }
}

/** A rune as Go's %#U prints it: `U+0027 '''`. */
function goRuneName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`;
}
