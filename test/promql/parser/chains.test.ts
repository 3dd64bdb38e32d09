import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/promql/ast.js';
import { CHAIN_SPLIT, Chains } from '../../../src/promql/parser/chains.js';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { formatExpr } from '../../../src/promql/parser/printer.js';

/** Operands in canonical form, so printing the parsed tree gives the text back exactly when its shape is right. */
const OPERANDS = ['a', 'rate(b{x="1"}[5m] offset 1m)', '-c', 'sum by (j) (d)', 'e @ 100.000', '(f + g)', 'max_over_time(h[10m:1m])', 'vector(2)', 'i ^ 2'];
const OPERATORS = ['or', 'and', 'unless', '== bool', '+', '-', '*', '/', '%', 'atan2', '> bool', '+ on (j)', '* ignoring (k) group_left (l)', 'unless on (j)'];

function mixed(n: number, offset = 0): string {
  const parts = [OPERANDS[offset % OPERANDS.length]!];
  for (let i = 1; i < n; i++) parts.push(OPERATORS[(i + offset) % OPERATORS.length]!, OPERANDS[(i * 7 + offset) % OPERANDS.length]!);
  return parts.join(' ');
}

function depthAlongLhs(e: Expr): number {
  let d = 0;
  for (; e.kind === 'BinaryExpr'; d++) e = e.lhs;
  return d;
}

describe('long chains of operators', () => {
  it('leaves queries with a few operators to lezer alone', () => {
    const sum = (operators: number) => Array.from({ length: operators + 1 }, (_, i) => `m${i}`).join(' + ');
    expect(Chains.find(sum(CHAIN_SPLIT), 1000)).toBeUndefined();
    expect(Chains.find(sum(CHAIN_SPLIT + 1), 1000)?.long).toEqual([{ start: 0, end: sum(CHAIN_SPLIT + 1).length }]);
  });

  it('builds the tree lezer would, precedence and modifiers included: printing it gives the text back', () => {
    for (const n of [CHAIN_SPLIT + 2, 1000, 3000]) {
      const q = mixed(n);
      expect(formatExpr(parseExpr(q))).toBe(q);
    }
    const short = mixed(40);
    expect(formatExpr(parseExpr(short))).toBe(short);
  });

  it('splits chains inside arguments and parentheses too, and keeps positions', () => {
    const inner = Array.from({ length: 600 }, (_, i) => `m${i}`).join(' + ');
    const q = `sum(${inner}) / (${inner}) or label_replace(${inner}, "a", "b", "c", "d")`;
    const e = parseExpr(q);
    expect(formatExpr(e)).toBe(q);
    expect(e.pos).toEqual({ start: 0, end: q.length });
    if (e.kind !== 'BinaryExpr' || e.lhs.kind !== 'BinaryExpr' || e.lhs.lhs.kind !== 'AggregateExpr') throw new Error(`unexpected shape ${formatExpr(e)}`);
    const sum = e.lhs.lhs.expr;
    expect(depthAlongLhs(sum)).toBe(599);
    expect(sum.pos).toEqual({ start: 4, end: 4 + inner.length });
  });

  it('reads offsets with duration expressions as part of their operand', () => {
    const q = Array.from({ length: 300 }, (_, i) => `m${i} offset (1h / 2)`).join(' - ');
    const e = parseExpr(q);
    expect(depthAlongLhs(e)).toBe(299);
    expect(e.kind === 'BinaryExpr' && e.rhs.kind === 'VectorSelector' && e.rhs.offsetMs).toBe(1_800_000);
  });

  it('names where an operand is missing and where a modifier is wrong', () => {
    const missing = `${Array.from({ length: 300 }, (_, i) => `m${i}`).join(' or ')} or`;
    expect(() => parseExpr(missing)).toThrow(`1:${missing.length + 1}: parse error: unexpected end of input`);
    const bool = Array.from({ length: 300 }, (_, i) => `m${i}`).join(' + bool ');
    expect(() => parseExpr(bool)).toThrow('1:4: parse error: bool modifier can only be used on comparison operators');
  });

  it('parses chains nested in chains, each level one parenthesis deeper', () => {
    const chain = Array.from({ length: CHAIN_SPLIT + 2 }, () => 'a').join(' + ');
    let q = 'b';
    for (let i = 0; i < 200; i++) q = `(${chain} + ${q})`;
    let e = parseExpr(q);
    let levels = 0;
    while (e.kind === 'ParenExpr') {
      levels++;
      e = e.expr;
      expect(depthAlongLhs(e)).toBe(CHAIN_SPLIT + 2);
      if (e.kind !== 'BinaryExpr') throw new Error(`unexpected ${e.kind}`);
      e = e.rhs;
    }
    expect([levels, formatExpr(e)]).toEqual([200, 'b']);
  });
});
