/**
 * Natural ordering of label values (`a2` before `a10`), the order Prometheus's sort_by_label
 * uses: strings split into digit and non-digit runs, digit runs compared as integers.
 */
function chunks(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= s.length; i++) {
    if (i === s.length || isDigit(s.charCodeAt(i)) !== isDigit(s.charCodeAt(i - 1))) {
      if (i > start) out.push(s.slice(start, i));
      start = i;
    }
  }
  return out;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True when a sorts before b. */
export function naturalLess(a: string, b: string): boolean {
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < ca.length; i++) {
    if (i >= cb.length) return false;
    const x = ca[i]!;
    const y = cb[i]!;
    const bothNumeric = isDigit(x.charCodeAt(0)) && isDigit(y.charCodeAt(0));
    if (bothNumeric ? BigInt(x) === BigInt(y) : x === y) {
      if (i === ca.length - 1) return true;
      if (i === cb.length - 1) return false;
      continue;
    }
    return bothNumeric ? BigInt(x) < BigInt(y) : x < y;
  }
  return false;
}
