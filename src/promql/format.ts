/**
 * Number formatting as Go prints it, because Prometheus's messages and labels (count_values,
 * annotation texts) are built with Go's verbs and clients compare them as text.
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

/**
 * A string as Go's %q prints it. The parser keeps bytes that are not valid UTF-8 as lone
 * surrogates U+DC80–U+DCFF; Go prints those bytes as \xNN.
 */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\udc([89a-f][0-9a-f])/g, '\\x$1');
}

/** A label name is any non-empty valid UTF-8 text (Prometheus 3's UTF-8 names). */
export function isValidLabelName(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
