import { describe, expect, it } from 'vitest';
import { formatLabelFloat } from '../../src/otlp/format.js';

describe('le and quantile label values', () => {
  it.each([
    [0.005, '0.005'],
    [1, '1'],
    [2.5, '2.5'],
    [1e-7, '0.0000001'],
    [-2.5e-8, '-0.000000025'],
    [1.2345e-10, '0.00000000012345'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%s → %s', (v, want) => {
    expect(formatLabelFloat(v)).toBe(want);
    expect(Number(want.replace('Inf', 'Infinity'))).toBe(v);
  });
});
