/** What series descriptions of floats and of histograms share: their numbers and their error. */

export class SeriesDescError extends Error {
  override name = 'SeriesDescError';
}

/** A float as PromQL writes it: decimal, hex, Inf, NaN, with an optional sign. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  const m = /^([+-]?)(.*)$/.exec(t)!;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!.toLowerCase();
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(body)) return sign * Number.parseInt(body.slice(2), 16);
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(body)) return sign * Number(body);
  return undefined;
}
