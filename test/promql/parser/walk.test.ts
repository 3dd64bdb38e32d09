import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/promql/ast.js';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { formatExpr } from '../../../src/promql/parser/printer.js';
import { children, fold, leftSpine, walk, withChildren } from '../../../src/promql/parser/walk.js';
import { bin, sel } from '../ast-builders.js';

/** A left-leaning chain deeper than any recursion over it would survive. */
function chain(n: number): Expr {
  let e: Expr = sel('m0');
  for (let i = 1; i < n; i++) e = bin('or', e, sel(`m${i}`));
  return e;
}

describe('the tree walkers', () => {
  it('gives operands in written order', () => {
    const kinds = (q: string) => children(parseExpr(q)).map(formatExpr);
    expect(kinds('topk(3, a)')).toEqual(['3', 'a']);
    expect(kinds('a + b')).toEqual(['a', 'b']);
    expect(kinds('label_join(a, "d", ",", "s")')).toEqual(['a', '"d"', '","', '"s"']);
    expect(kinds('a[5m]')).toEqual(['a']);
    expect(kinds('a')).toEqual([]);
  });

  it('visits parents first with what they hand down, and skips below a node that says so', () => {
    const seen: string[] = [];
    walk(
      parseExpr('sum(a) + max_over_time(b[5m:1m])'),
      0,
      (e, depth) => {
        if (e.kind === 'VectorSelector') seen.push(`${e.name}@${depth}`);
        return e.kind !== 'SubqueryExpr';
      },
      (_, depth) => depth + 1,
    );
    expect(seen).toEqual(['a@2']);
  });

  it('folds bottom-up and rebuilds only what changed', () => {
    const e = parseExpr('sum(a) + b');
    expect(fold<number>(e, (_, kids) => 1 + kids.reduce((x, y) => x + y, 0))).toBe(4);
    expect(fold<Expr>(e, (n, kids) => withChildren(n, kids))).toBe(e);
    const renamed = fold<Expr>(e, (n, kids) => (n.kind === 'VectorSelector' && n.name === 'b' ? sel('c') : withChildren(n, kids)));
    expect(formatExpr(renamed)).toBe('sum(a) + c');
  });

  it('walks, folds and follows the spine of a chain of 100,000 operators without running out of stack', () => {
    const e = chain(100_000);
    let n = 0;
    walk(e, undefined, () => void n++);
    expect(n).toBe(199_999);
    expect(fold<number>(e, (_, kids) => 1 + Math.max(0, ...kids))).toBe(100_000);
    expect(leftSpine(e as Extract<Expr, { kind: 'BinaryExpr' }>)).toHaveLength(99_999);
  });
});
