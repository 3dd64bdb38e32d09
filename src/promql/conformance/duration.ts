/** Durations as promqltest scripts write them. */

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** A Prometheus duration (`1h30m`, `0`), in ms. */
export function parseDurationMs(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  const m = DURATION.exec(t);
  if (!m || t === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i]!;
  return ms;
}
