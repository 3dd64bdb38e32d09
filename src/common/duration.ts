/**
 * Prometheus's duration text (Go's model.ParseDuration): whole numbers with units, the units in
 * the order y w d h m s ms, each at most once (`1h30m`, `500ms`), or `0` alone. Each caller adds
 * what its grammar adds (plain seconds, a range limit) and words its own error.
 */

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** The duration in ms, or undefined when the text is not one. */
export function parseUnitDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION.exec(text);
  if (m === null) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i]!;
  return ms;
}
