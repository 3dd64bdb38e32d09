import { parseUnitDuration } from '../../common/duration.js';

/** A duration as promqltest scripts write it (`1h30m`, `0`, spaces around allowed), in ms. */
export function parseDurationMs(text: string): number {
  const ms = parseUnitDuration(text.trim());
  if (ms === undefined) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return ms;
}
