import { formatFloatF } from '../common/go-format.js';
import type { AtModifier, BinaryExpr, DurationExpr, Expr, VectorSelector } from '../promql/ast.js';
import { functionNamed } from '../promql/functions/table.js';
import { leftSpine } from '../promql/parser/walk.js';
import type { Matcher } from '../tsdb/matcher.js';

/** An `@` modifier as Prometheus's parse_query writes it: a fixed time in ms, or start/end. */
function at(modifier: AtModifier | undefined): { timestamp: number | null; startOrEnd: string | null } {
  if (modifier === undefined) return { timestamp: null, startOrEnd: null };
  if (modifier.kind === 'time') return { timestamp: modifier.ms, startOrEnd: null };
  return { timestamp: null, startOrEnd: modifier.kind };
}

function matchers(list: readonly Matcher[]) {
  return list.map((m) => ({ name: m.name, value: m.value, type: m.type }));
}

/** A literal that ends in a unit (`5m`) is a duration; a bare number (`300`) is seconds. */
const DURATION_LITERAL = /[a-z]$/;

/**
 * A duration expression as Prometheus's tree has it: parentheses are a `wrapped` flag on the
 * node inside them (a bare number in parentheses becomes a unary plus), and step(), range(),
 * min_of and max_of are operators.
 */
function duration(d: DurationExpr | undefined, text: string, wrapped = false): unknown {
  if (d === undefined) return null;
  switch (d.kind) {
    case 'DurationParen': {
      const inner = d.expr.kind === 'DurationNumber' ? { kind: 'DurationUnary' as const, op: '+' as const, expr: d.expr, pos: d.pos } : d.expr;
      return duration(inner, text, true);
    }
    case 'DurationNumber':
      return { type: 'numberLiteral', val: formatFloatF(d.seconds), duration: DURATION_LITERAL.test(text.slice(d.pos.start, d.pos.end).trim()) };
    case 'DurationCall':
      return { type: 'durationExpr', op: d.func, lhs: null, rhs: null, wrapped };
    case 'DurationUnary':
      return { type: 'durationExpr', op: d.op, lhs: null, rhs: duration(d.expr, text), wrapped };
    case 'DurationBinary':
      return { type: 'durationExpr', op: d.op, lhs: duration(d.lhs, text), rhs: duration(d.rhs, text), wrapped };
  }
}

function selector(v: VectorSelector, text: string) {
  return {
    name: v.name,
    offset: v.offsetMs,
    offsetExpr: duration(v.offsetExpr, text),
    matchers: matchers(v.matchers),
    ...at(v.at),
    anchored: v.anchored ?? false,
    smoothed: v.smoothed ?? false,
  };
}

/** A binary expression's node, given its operands' nodes. */
function binary(e: BinaryExpr, lhs: unknown, rhs: unknown): unknown {
  return {
    type: 'binaryExpr',
    op: e.op,
    lhs,
    rhs,
    matching: e.matching
      ? {
          card: e.matching.card,
          labels: e.matching.labels,
          on: e.matching.on,
          include: e.matching.include,
          fillValues: { lhs: e.matching.fillLeft ?? null, rhs: e.matching.fillRight ?? null },
        }
      : null,
    bool: e.returnBool,
  };
}

/**
 * The syntax tree as Prometheus 3.x's `/api/v1/parse_query` returns it (the tree view of its
 * UI): node `type` names, ops as written, durations in ms, `@` as timestamp or start/end.
 * `text` is the query the tree was parsed from.
 */
export function astToJson(e: Expr, text: string): unknown {
  const tree = (child: Expr) => astToJson(child, text);
  switch (e.kind) {
    case 'NumberLiteral':
      return { type: 'numberLiteral', val: formatFloatF(e.value) };
    case 'StringLiteral':
      return { type: 'stringLiteral', val: e.value };
    case 'ParenExpr':
      return { type: 'parenExpr', expr: tree(e.expr) };
    case 'StepInvariantExpr':
      return tree(e.expr);
    case 'UnaryExpr':
      return { type: 'unaryExpr', op: e.op, expr: tree(e.expr) };
    case 'VectorSelector':
      return { type: 'vectorSelector', ...selector(e, text) };
    case 'MatrixSelector': {
      const { name, offset, offsetExpr, matchers: ms, timestamp, startOrEnd, anchored, smoothed } = selector(e.vector, text);
      const rangeExpr = duration(e.rangeExpr, text);
      return { type: 'matrixSelector', name, range: e.rangeMs, rangeExpr, offset, offsetExpr, matchers: ms, timestamp, startOrEnd, anchored, smoothed };
    }
    case 'SubqueryExpr':
      return {
        type: 'subquery',
        expr: tree(e.expr),
        range: e.rangeMs,
        rangeExpr: duration(e.rangeExpr, text),
        offset: e.offsetMs,
        offsetExpr: duration(e.offsetExpr, text),
        step: e.stepMs,
        stepExpr: duration(e.stepExpr, text),
        ...at(e.at),
      };
    case 'BinaryExpr': {
      // From the innermost operator of a chain out, in a loop, not a recursion a level.
      const spine = leftSpine(e);
      let lhs = tree(spine[spine.length - 1]!.lhs);
      for (let i = spine.length - 1; i >= 0; i--) lhs = binary(spine[i]!, lhs, tree(spine[i]!.rhs));
      return lhs;
    }
    case 'AggregateExpr':
      return {
        type: 'aggregation',
        op: e.op,
        expr: tree(e.expr),
        param: e.param === undefined ? null : tree(e.param),
        grouping: e.grouping,
        without: e.without,
      };
    case 'Call': {
      const sig = functionNamed(e.func);
      return {
        type: 'call',
        func: { name: e.func, argTypes: sig?.argTypes ?? [], variadic: sig?.variadic ?? 0, returnType: sig?.returnType ?? 'vector' },
        args: e.args.map(tree),
      };
    }
  }
}
