import { describe, expect, it } from 'vitest';
import { formatFloatF, goQuote } from '../../src/common/go-format.js';

describe("Go's FormatFloat 'f', -1 (le and quantile label values)", () => {
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
    expect(formatFloatF(v)).toBe(want);
    expect(Number(want.replace('Inf', 'Infinity'))).toBe(v);
  });
});

describe("Go's %q", () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ['a\nb\tc\u0007', '"a\\nb\\tc\\a"'],
    ['\u0001\u007f', '"\\x01\\x7f"'],
    ['é😀', '"é😀"'],
    ['\udcff', '"\\xff"'],
  ])('%j → %s', (s, want) => {
    expect(goQuote(s)).toBe(want);
  });
});
