/**
 * What start timestamps (ST, ms; 0 = unknown) say about counter resets, as Prometheus reads them
 * when `use-start-timestamps` is on. A counter whose ST moves forward past the previous sample
 * restarted, even if its new value is larger than the old one.
 */

/** True when the current sample's start time shows the counter restarted after the previous sample. */
export function isStartTimeReset(prevSt: number, prevT: number, curSt: number, curT: number): boolean {
  // Unknown (0), impossible (after the sample) or OpenTelemetry's "start unknown" (equal to it).
  if (curSt === 0 || curSt >= curT) return false;
  if (curSt < prevT) return false;
  if (curSt > prevT) return true;
  // The start is the previous sample's time: a delta point (a reset every sample) when the
  // previous point had a real start of its own, a cumulative point with unknown start when it did
  // not. A previous start after its own sample is invalid and counts as unknown.
  if (prevSt > prevT) return false;
  return prevSt !== 0 && prevSt !== prevT;
}

/** True when the current sample claims to start before the previous sample's time without sharing its start. */
export function startTimeOverlaps(prevSt: number, prevT: number, curSt: number): boolean {
  return curSt !== 0 && curSt < prevT && curSt !== prevSt;
}
