import { describe, expect, it } from 'vitest';
import { parseUnitDuration } from '../../src/common/duration.js';

describe('Prometheus duration text', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1y2w3d', 365 * 86_400_000 + 17 * 86_400_000],
    ['90s', 90_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseUnitDuration(text)).toBe(ms);
  });

  it.each(['', '30m1h', '1h1h', '1.5h', '90', ' 1m', '-1m', '1M'])('%j is not one', (text) => {
    expect(parseUnitDuration(text)).toBeUndefined();
  });
});
