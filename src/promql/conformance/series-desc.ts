import { labelsFromPairs, METRIC_NAME, type Labels } from '../../tsdb/labels.js';
import { parseHistogramItem, type HistogramDesc } from './histogram-desc.js';
import { parseNumber, SeriesDescError } from './desc-number.js';

/** One position of a series description: a value, a staleness marker, or nothing. */
export type SeqValue = { kind: 'value'; v: number } | { kind: 'stale' } | { kind: 'omitted' } | ({ kind: 'histogram' } & HistogramDesc);

export interface SeriesDesc {
  labels: Labels;
  values: SeqValue[];
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", '`': '`' };

/** Reads a Go-syntax quoted string at `pos`; returns the value and the index after it. */
export function readQuoted(s: string, pos: number): [string, number] {
  const quote = s[pos]!;
  let i = pos + 1;
  let out = '';
  if (quote === '`') {
    const end = s.indexOf('`', i);
    if (end === -1) throw new SeriesDescError(`unterminated raw string in ${JSON.stringify(s)}`);
    return [s.slice(i, end), end + 1];
  }
  while (i < s.length && s[i] !== quote) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1]!;
    if (e in ESCAPES) {
      out += ESCAPES[e];
      i += 2;
    } else if (e === 'x') {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      out += String.fromCodePoint(Number.parseInt(s.slice(i + 2, i + 2 + len), 16));
      i += 2 + len;
    } else if (e >= '0' && e <= '7') {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 4;
    } else {
      throw new SeriesDescError(`unknown escape \\${e} in ${JSON.stringify(s)}`);
    }
  }
  if (i >= s.length) throw new SeriesDescError(`unterminated string in ${JSON.stringify(s)}`);
  return [out, i + 1];
}

function isIdentStart(c: string): boolean {
  return /[A-Za-z_:]/.test(c);
}

function isIdentChar(c: string): boolean {
  return /[A-Za-z0-9_:]/.test(c);
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

function readIdent(s: string, i: number): [string, number] {
  const start = i;
  while (i < s.length && isIdentChar(s[i]!)) i++;
  return [s.slice(start, i), i];
}

/** Reads `name{label="value", ...}` (or `{...}` only, or quoted names); returns labels and the rest. */
function readMetric(s: string): { labels: Labels; rest: string } {
  let i = skipSpace(s, 0);
  const pairs: [string, string][] = [];
  if (i < s.length && isIdentStart(s[i]!)) {
    const [name, next] = readIdent(s, i);
    pairs.push([METRIC_NAME, name]);
    i = next;
  }
  if (s[i] === '{') {
    i++;
    for (;;) {
      i = skipSpace(s, i);
      if (s[i] === '}') {
        i++;
        break;
      }
      let name: string;
      if (s[i] === '"' || s[i] === "'" || s[i] === '`') [name, i] = readQuoted(s, i);
      else if (i < s.length && isIdentStart(s[i]!)) [name, i] = readIdent(s, i);
      else throw new SeriesDescError(`unexpected character ${JSON.stringify(s[i] ?? 'end of line')} in labels of ${JSON.stringify(s)}`);
      i = skipSpace(s, i);
      if (s[i] === '=') {
        i = skipSpace(s, i + 1);
        const q = s[i];
        if (q !== '"' && q !== "'" && q !== '`') throw new SeriesDescError(`expected a quoted label value in ${JSON.stringify(s)}`);
        let value: string;
        [value, i] = readQuoted(s, i);
        pairs.push([name, value]);
      } else {
        pairs.push([METRIC_NAME, name]);
      }
      i = skipSpace(s, i);
      if (s[i] === ',') i++;
    }
  } else if (pairs.length === 0) {
    throw new SeriesDescError(`expected a series in ${JSON.stringify(s)}`);
  }
  return { labels: labelsFromPairs(pairs), rest: s.slice(i) };
}

/**
 * `a`, `axN` (N+1 copies) or `a+bxN` / `a-bxN` (N+1 values stepping by b). No hex here: `0x10`
 * would be ambiguous, so Prometheus does not accept hex in series descriptions either.
 */
const ITEM = /^([+-]?(?:[Ii]nf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))(?:([+-])([+-]?(?:[Ii]nf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)))?(?:x(\d+))?$/;

/** Splits the values part into items, keeping `{{...}}` histograms (which contain spaces) whole. */
function splitItems(s: string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i < s.length) {
    i = skipSpace(s, i);
    if (i >= s.length) break;
    const start = i;
    let depth = 0;
    while (i < s.length) {
      if (s.startsWith('{{', i)) {
        depth++;
        i += 2;
        continue;
      }
      if (s.startsWith('}}', i) && depth > 0) {
        depth--;
        i += 2;
        continue;
      }
      if (depth === 0 && (s[i] === ' ' || s[i] === '\t')) break;
      i++;
    }
    items.push(s.slice(start, i));
  }
  return items;
}

export function parseValues(s: string): { values: SeqValue[] } {
  const values: SeqValue[] = [];
  for (const item of splitItems(s)) {
    if (item.includes('{{')) {
      for (const d of parseHistogramItem(item)) values.push({ kind: 'histogram', ...d });
      continue;
    }
    if (item === '_') {
      values.push({ kind: 'omitted' });
      continue;
    }
    const blanks = /^_x(\d+)$/.exec(item);
    if (blanks) {
      for (let k = 0; k < Number(blanks[1]); k++) values.push({ kind: 'omitted' });
      continue;
    }
    const stale = /^stale(?:x(\d+))?$/.exec(item);
    if (stale) {
      const n = stale[1] === undefined ? 1 : Number(stale[1]) + 1;
      for (let k = 0; k < n; k++) values.push({ kind: 'stale' });
      continue;
    }
    const m = ITEM.exec(item);
    if (!m) throw new SeriesDescError(`invalid value ${JSON.stringify(item)}`);
    let v = parseNumber(m[1]!)!;
    if (m[4] === undefined) {
      values.push({ kind: 'value', v });
      continue;
    }
    const times = Number(m[4]);
    const inc = m[2] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * parseNumber(m[3]!)!;
    for (let k = 0; k <= times; k++) {
      values.push({ kind: 'value', v });
      v += inc;
    }
  }
  return { values };
}

export function parseSeriesDesc(line: string): SeriesDesc {
  const { labels, rest } = readMetric(line);
  return { labels, values: parseValues(rest).values };
}
