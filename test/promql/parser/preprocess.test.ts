import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/promql/ast.js';
import { parseExpr } from '../../../src/promql/parser/parse.js';
import { preprocessExpr } from '../../../src/promql/parser/preprocess.js';
import { formatExpr } from '../../../src/promql/parser/printer.js';

/** The tree as text with each step-invariant subtree marked by ⟨...⟩. */
function marked(e: Expr): string {
  const mark = (x: Expr): Expr => {
    switch (x.kind) {
      case 'StepInvariantExpr':
        return { kind: 'VectorSelector', name: `⟨${marked(x.expr)}⟩`, matchers: [], offsetMs: 0, at: undefined, pos: x.pos };
      case 'BinaryExpr':
        return { ...x, lhs: mark(x.lhs), rhs: mark(x.rhs) };
      case 'Call':
        return { ...x, args: x.args.map(mark) };
      case 'AggregateExpr':
        return { ...x, expr: mark(x.expr) };
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
        return { ...x, expr: mark(x.expr) };
      default:
        return x;
    }
  };
  // The marker is printed as a quoted metric name: {"⟨...⟩"}.
  return formatExpr(mark(e)).replaceAll('{"⟨', '⟨').replaceAll('⟩"}', '⟩');
}

describe('preprocessExpr', () => {
  it.each([
    ['x', 'x'],
    ['1 + 2', '⟨1 + 2⟩'],
    ['-1', '-1'],
    ['x @ 10', '⟨x @ 10.000⟩'],
    ['x @ start()', '⟨x @ 100.000⟩'],
    ['rate(x[5m] @ end())', '⟨rate(x[5m] @ 200.000)⟩'],
    ['sum(x @ 10) + y', '⟨sum(x @ 10.000)⟩ + y'],
    ['x @ 10 + 1', '⟨x @ 10.000 + 1⟩'],
    ['time() + x @ 10', 'time() + ⟨x @ 10.000⟩'],
    ['timestamp(x @ 10)', '⟨timestamp(x @ 10.000)⟩'],
    ['timestamp(abs(x @ 10))', 'timestamp(⟨abs(x @ 10.000)⟩)'],
    ['max_over_time((x @ 10)[5m:1m])', 'max_over_time(⟨(x @ 10.000)⟩[5m:1m])'],
    ['max_over_time(x[5m:1m] @ 10)', '⟨max_over_time(x[5m:1m] @ 10.000)⟩'],
    ['pi()', '⟨pi()⟩'],
    ['sum((x))', 'sum(x)'],
  ])('%s becomes %s', (query, text) => {
    expect(marked(preprocessExpr(parseExpr(query), 100_000, 200_000))).toBe(text);
  });

  it('leaves the parsed tree unchanged', () => {
    const tree = parseExpr('x @ start() + y');
    const before = formatExpr(tree);
    preprocessExpr(tree, 1000, 2000);
    expect(formatExpr(tree)).toBe(before);
  });
});
