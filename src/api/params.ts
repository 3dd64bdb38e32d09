import { badData } from './errors.js';

const DURATION_PART = /(\d+)(ms|y|w|d|h|m|s)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/**
 * A time parameter as the Prometheus API takes it: Unix seconds with optional decimals, or
 * RFC 3339. Returns ms since the epoch.
 */
export function parseTimeParam(name: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
    const seconds = Number(text);
    if (Number.isFinite(seconds)) return Math.round(seconds * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw badData(`invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
}

/** A duration parameter: seconds with optional decimals, or a Prometheus duration such as 1m30s. Returns ms. */
export function parseDurationParam(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    if (ms > 0) return ms;
  } else {
    let total = 0;
    let consumed = 0;
    DURATION_PART.lastIndex = 0;
    for (let m = DURATION_PART.exec(text); m !== null && m.index === consumed; m = DURATION_PART.exec(text)) {
      total += Number(m[1]) * UNIT_MS[m[2]!]!;
      consumed = DURATION_PART.lastIndex;
    }
    if (consumed === text.length && total > 0) return total;
  }
  throw badData(`invalid parameter "${name}": cannot parse "${text}" to a valid duration`);
}
