import type { BinaryExpr, Expr, NumberLiteral } from '../promql/ast.js';
import { formatExpr } from '../promql/parser/printer.js';
import { leftSpine } from '../promql/parser/walk.js';

/** Prometheus's prettifier keeps a node on one line up to this many characters. */
const MAX_LINE = 100;

const indent = (level: number) => '  '.repeat(level);

/** A stand-in operand, so the printer shows only an operator's own text around it. */
const HOLE: NumberLiteral = { kind: 'NumberLiteral', value: 0, pos: { start: 0, end: 0 } };

/**
 * The query laid out as Prometheus's `/api/v1/format_query` does (`Pretty(0)`): a node whose
 * one-line form fits in 100 characters stays on one line; a longer one puts its operands on
 * lines of their own, indented two spaces a level.
 */
export function prettyExpr(e: Expr, level = 0): string {
  const flat = formatExpr(e);
  if (flat.length <= MAX_LINE) {
    return e.kind === 'SubqueryExpr' ? flat : indent(level) + flat;
  }
  switch (e.kind) {
    case 'AggregateExpr': {
      const head = formatExpr({ ...e, expr: HOLE, param: undefined }).slice(0, -'(0)'.length);
      const param = e.param === undefined ? '' : `${prettyExpr(e.param, level + 1)},\n`;
      return `${indent(level)}${head}(\n${param}${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'BinaryExpr':
      return prettyChain(e, level);
    case 'Call':
      return `${indent(level)}${e.func}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(',\n')}\n${indent(level)})`;
    case 'ParenExpr':
      return `${indent(level)}(\n${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    case 'StepInvariantExpr':
      return prettyExpr(e.expr, level);
    case 'SubqueryExpr':
      return prettyExpr(e.expr, level) + formatExpr({ ...e, expr: HOLE }).slice('0'.length);
    case 'UnaryExpr':
      return `${indent(level)}${e.op}${prettyExpr(e.expr, level).trim()}`;
    default:
      return indent(level) + flat;
  }
}

/**
 * A binary expression too long for one line: its lhs a level deeper, then the operator, then its
 * rhs a level deeper. Along a chain's left spine in a loop, from the innermost operand out: the
 * spine's node i is at level + i, and the first from the inside that does not fit on one line
 * starts the layout.
 */
function prettyChain(top: BinaryExpr, level: number): string {
  const spine = leftSpine(top);
  let i = spine.length;
  let out: string | undefined;
  while (i > 1) {
    const flat = formatExpr(spine[i - 1]!);
    if (flat.length > MAX_LINE) break;
    out = indent(level + i - 1) + flat;
    i--;
  }
  out ??= prettyExpr(spine[spine.length - 1]!.lhs, level + spine.length);
  for (i--; i >= 0; i--) {
    const e = spine[i]!;
    const op = formatExpr({ ...e, lhs: HOLE, rhs: HOLE }).slice('0 '.length, -' 0'.length);
    out = `${out}\n${indent(level + i)}${op}\n${prettyExpr(e.rhs, level + i + 1)}`;
  }
  return out;
}
