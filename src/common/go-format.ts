/**
 * Numbers, times and strings as Go prints them, because Prometheus's messages and labels
 * (count_values, annotation texts, `le` and `quantile` values) are built with Go's verbs and
 * clients compare them as text.
 */

function splitExponential(x: number, digits?: number): { mantissa: string; exp: number } {
  const s = digits === undefined ? x.toExponential() : x.toExponential(digits);
  const e = s.indexOf('e');
  return { mantissa: s.slice(0, e), exp: Number(s.slice(e + 1)) };
}

function goExponent(exp: number): string {
  const sign = exp < 0 ? '-' : '+';
  const abs = Math.abs(exp);
  return `e${sign}${abs < 10 ? '0' : ''}${abs}`;
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return undefined;
}

/** Plain decimal notation with the fewest digits that round-trip: Go's strconv 'f', -1. */
export function formatFloatF(x: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  if (Object.is(x, -0)) return '-0';
  const plain = String(x);
  if (!plain.includes('e')) return plain;
  const { mantissa, exp } = splitExponential(Math.abs(x));
  const digits = mantissa.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp >= 0) {
    const intLen = exp + 1;
    if (digits.length <= intLen) return sign + digits + '0'.repeat(intLen - digits.length);
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** Go's strconv 'e', -1: the fewest digits that round-trip, an exponent of two digits at least. */
export function formatFloatE(x: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  const { mantissa, exp } = splitExponential(x);
  return mantissa + goExponent(exp);
}

/**
 * Go's `%g` (shortest digits; exponent form below 1e-4 or from 10^threshold up). `%v` on a
 * float is the same with threshold 21.
 */
export function formatFloatG(x: number, threshold = 6): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const { mantissa, exp } = splitExponential(x);
  if (exp < -4 || exp >= threshold) return mantissa + goExponent(exp);
  return formatFloatF(x);
}

/** Go's `%.<p>g`: p significant digits, trailing zeros removed. */
export function formatFloatPrecisionG(x: number, precision: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  if (x === 0) return '0';
  const { mantissa, exp } = splitExponential(x, Math.max(0, precision - 1));
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  if (exp < -4 || exp >= precision) return trimmed + goExponent(exp);
  return formatFloatF(Number(`${trimmed}e${exp}`));
}

/** RFC 3339 UTC time of a millisecond timestamp, at second precision as Go's time.RFC3339. */
export function formatRFC3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** First code unit of the lone surrogates U+DC80–U+DCFF that stand for bytes of invalid UTF-8. */
export const ESCAPED_BYTE_BASE = 0xdc00;

const GO_ESCAPES: Record<number, string> = { 7: 'a', 8: 'b', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v' };

/**
 * A string as Go's %q prints it, for messages and printed queries that quote user text. PromQL's
 * string lexer keeps bytes that are not valid UTF-8 as lone surrogates U+DC80–U+DCFF; Go prints
 * those bytes as \xNN.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) out += `\\x${(cp - ESCAPED_BYTE_BASE).toString(16).padStart(2, '0')}`;
    else if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp in GO_ESCAPES) out += `\\${GO_ESCAPES[cp]}`;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
