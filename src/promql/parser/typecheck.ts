import type { BinaryExpr, Call, Expr, PosRange, ValueType, VectorMatching } from '../ast.js';
import { ParseError } from '../errors.js';
import { functionNamed } from '../functions/table.js';
import { leftSpine } from './walk.js';

/** The type an expression evaluates to, by Prometheus's rules. */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return typeOf(e.expr);
    case 'BinaryExpr':
      return binaryType(e);
    case 'Call':
      return functionNamed(e.func)?.returnType ?? 'vector';
  }
}

/** Types of the binary nodes seen, so each step up a long chain costs one look, not the chain again. */
const binaryTypes = new WeakMap<BinaryExpr, ValueType>();

/** Scalar when both sides are; down the chain's left spine in a loop, not a recursion a level. */
function binaryType(e: BinaryExpr): ValueType {
  const spine: BinaryExpr[] = [];
  let b: Expr = e;
  for (; b.kind === 'BinaryExpr' && !binaryTypes.has(b); b = b.lhs) spine.push(b);
  let t = b.kind === 'BinaryExpr' ? binaryTypes.get(b)! : typeOf(b);
  for (let i = spine.length - 1; i >= 0; i--) {
    t = t === 'scalar' && typeOf(spine[i]!.rhs) === 'scalar' ? 'scalar' : 'vector';
    binaryTypes.set(spine[i]!, t);
  }
  return t;
}

/** How Prometheus names a type in messages. */
export function documentedType(t: ValueType): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

const COMPARISONS = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS = new Set(['and', 'or', 'unless']);

/**
 * Type-checks a parsed expression as Prometheus's parser does, throwing the first error. It also
 * settles vector matching: set operators become many-to-many, and `matching` is dropped where a
 * side is a scalar.
 */
export function checkAst(expr: Expr, query: string): void {
  new Checker(query).check(expr);
}

class Checker {
  /** info()'s label selectors, exempt from the non-empty matcher rule. */
  private readonly labelsOnly = new WeakSet<Expr>();

  constructor(private readonly query: string) {}

  private fail(pos: PosRange, cause: string): never {
    throw new ParseError(pos, cause, this.query);
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e);
    if (t !== want) this.fail(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  check(e: Expr): ValueType {
    switch (e.kind) {
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.op === 'count_values') this.expectType(e.param!, 'string', 'aggregation parameter');
        else if (e.param !== undefined) this.expectType(e.param, 'scalar', 'aggregation parameter');
        break;
      case 'BinaryExpr':
        this.binaryChain(e);
        break;
      case 'Call':
        this.call(e);
        break;
      case 'ParenExpr':
      case 'StepInvariantExpr':
        this.check(e.expr);
        break;
      case 'UnaryExpr': {
        const t = this.check(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(t))}`);
        }
        break;
      }
      case 'SubqueryExpr': {
        const t = this.check(e.expr);
        if (t !== 'vector') this.fail(e.pos, `subquery is only allowed on instant vector, got ${t} instead`);
        break;
      }
      case 'MatrixSelector':
        this.check(e.vector);
        break;
      case 'VectorSelector':
        if (!this.labelsOnly.has(e)) this.vectorSelector(e.name, e.matchers, e.pos);
        break;
      case 'NumberLiteral':
      case 'StringLiteral':
        break;
    }
    return typeOf(e);
  }

  private vectorSelector(name: string, matchers: readonly { name: string; value: string; matchesEmpty(): boolean }[], pos: PosRange): void {
    if (name !== '') {
      // The name written before the braces is the last matcher; another `__name__` before it sets it twice.
      for (const m of matchers.slice(0, -1)) {
        if (m.name === '__name__') this.fail(pos, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(m.value)}`);
      }
      return;
    }
    if (!matchers.some((m) => !m.matchesEmpty())) this.fail(pos, 'vector selector must contain at least one non-empty matcher');
  }

  /** The operator's own span, for errors about it (whitespace around it excluded). */
  private opRange(e: BinaryExpr): PosRange {
    let start = e.lhs.pos.end;
    let end = e.rhs.pos.start;
    while (start < end && /\s/.test(this.query[start]!)) start++;
    while (end > start && /\s/.test(this.query[end - 1]!)) end--;
    return { start, end };
  }

  /** A chain of binary operators, checked from its innermost operator out as recursion would, in a loop. */
  private binaryChain(top: BinaryExpr): void {
    const spine = leftSpine(top);
    let lt = this.check(spine[spine.length - 1]!.lhs);
    for (let i = spine.length - 1; i >= 0; i--) {
      const e = spine[i]!;
      const rt = this.check(e.rhs);
      this.binary(e, lt, rt);
      lt = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
    }
  }

  private binary(e: BinaryExpr, lt: ValueType, rt: ValueType): void {
    const comparison = COMPARISONS.has(e.op);
    const setOp = SET_OPS.has(e.op);
    if (e.returnBool && !comparison) this.fail(this.opRange(e), 'bool modifier can only be used on comparison operators');
    if (comparison && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail(this.opRange(e), 'comparisons between scalars must use BOOL modifier');
    }
    const m = e.matching;
    if (m !== undefined) {
      if (setOp && m.card === 'one-to-one') m.card = 'many-to-many';
      if (m.on) {
        for (const l of m.labels) {
          if (m.include.includes(l)) this.fail(this.opRange(e), `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
        }
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (lt !== 'vector' || rt !== 'vector') {
      if (m !== undefined && m.labels.length > 0) this.fail(e.pos, 'vector matching only allowed between instant vectors');
      if (m !== undefined && hasFill(m)) this.fail(e.pos, 'filling in missing series only allowed between instant vectors');
      e.matching = undefined;
    } else if (setOp && m !== undefined) {
      if (m.card === 'one-to-many' || m.card === 'many-to-one') this.fail(e.pos, `no grouping allowed for ${JSON.stringify(e.op)} operation`);
      if (hasFill(m)) this.fail(e.pos, 'filling in missing series not allowed for set operators');
    }
    if ((lt === 'scalar' || rt === 'scalar') && setOp) this.fail(e.pos, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
  }

  private call(e: Call): void {
    const sig = functionNamed(e.func);
    if (sig === undefined) return this.fail(e.pos, `unknown function with name ${JSON.stringify(e.func)}`);
    const nargs = sig.argTypes.length;
    if (sig.variadic === 0) {
      if (nargs !== e.args.length) this.fail(e.pos, `expected ${nargs} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
    } else {
      const min = nargs - 1;
      if (min > e.args.length) this.fail(e.pos, `expected at least ${min} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
      const max = min + sig.variadic;
      if (sig.variadic > 0 && max < e.args.length) {
        this.fail(e.pos, `expected at most ${max} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
      }
    }
    if (e.func === 'info' && e.args.length > 1) this.infoSelector(e);
    e.args.forEach((arg, i) => {
      const want = sig.argTypes[Math.min(i, nargs - 1)]!;
      const t = this.check(arg);
      if (t !== want) this.fail(arg.pos, `expected type ${documentedType(want)} in call to function ${JSON.stringify(e.func)}, got ${documentedType(t)}`);
    });
  }

  /** info()'s second argument selects info metrics by labels only, so it may match the empty string. */
  private infoSelector(e: Call): void {
    const sel = e.args[1]!;
    if (typeOf(sel) !== 'vector') this.fail(e.pos, `expected type instant vector in call to function "info", got ${documentedType(typeOf(sel))}`);
    if (sel.kind !== 'VectorSelector') this.fail(sel.pos, 'expected label selectors only');
    if (sel.name !== '') this.fail(sel.pos, 'expected label selectors only, got vector selector instead');
    this.labelsOnly.add(sel);
  }
}

function hasFill(m: VectorMatching): boolean {
  return m.fillLeft !== undefined || m.fillRight !== undefined;
}
