import type { AggregateExpr, AtModifier, BinaryExpr, BinaryOp, DurationExpr, Expr, SubqueryExpr, VectorMatching, VectorSelector } from '../ast.js';
import { formatFloatF, goQuote } from '../../common/go-format.js';
import { leftSpine } from './walk.js';

/**
 * Canonical PromQL text of an expression, as Prometheus's printer writes it (`sum by (a) (x)`,
 * `x[5m] @ 10.000 offset 1m`, sorted matchers). Parsing the text gives back the same tree. Trees
 * built in code that lack the ParenExpr a parse would have get the parentheses they need.
 */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'NumberLiteral':
      return formatFloatF(e.value);
    case 'StringLiteral':
      return goQuote(e.value);
    case 'ParenExpr':
      return `(${formatExpr(e.expr)})`;
    case 'StepInvariantExpr':
      return formatExpr(e.expr);
    case 'UnaryExpr': {
      const inner = formatExpr(e.expr);
      const bare = e.expr.kind !== 'BinaryExpr' || e.expr.op === '^';
      return `${e.op}${bare ? inner : `(${inner})`}`;
    }
    case 'BinaryExpr':
      return formatBinary(e);
    case 'AggregateExpr':
      return formatAggregate(e);
    case 'Call':
      return `${e.func}(${e.args.map(formatExpr).join(', ')})`;
    case 'VectorSelector':
      return formatSelector(e) + modifiers(e.at, e.offsetMs, e.offsetExpr) + extendedModifier(e);
    case 'MatrixSelector': {
      const range = e.rangeExpr === undefined ? formatDuration(e.rangeMs) : formatDurationExpr(e.rangeExpr);
      return `${formatSelector(e.vector)}[${range}]${modifiers(e.vector.at, e.vector.offsetMs, e.vector.offsetExpr)}${extendedModifier(e.vector)}`;
    }
    case 'SubqueryExpr':
      return formatSubquery(e);
  }
}

/** A duration in ms as Prometheus writes it: `1h30m`, `500ms`, `1w`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  const units: [string, number, boolean][] = [
    // Years and weeks only when they divide exactly: 90d reads better than 12w6d.
    ['y', 365 * 86_400_000, true],
    ['w', 7 * 86_400_000, true],
    ['d', 86_400_000, false],
    ['h', 3_600_000, false],
    ['m', 60_000, false],
    ['s', 1000, false],
    ['ms', 1, false],
  ];
  for (const [unit, size, exact] of units) {
    if (exact && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

const LEGACY_LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LEGACY_METRIC = /^[A-Za-z_:][A-Za-z0-9_:]*$/;

function formatLabelName(name: string): string {
  return LEGACY_LABEL.test(name) ? name : goQuote(name);
}

function formatLabelList(names: readonly string[]): string {
  return names.map(formatLabelName).join(', ');
}

function formatSelector(vs: VectorSelector): string {
  let name = vs.name;
  const parts: string[] = [];
  for (const m of vs.matchers) {
    if (m.name === '__name__' && m.type === '=' && m.value === name && name !== '') continue;
    parts.push(`${formatLabelName(m.name)}${m.type}${goQuote(m.value)}`);
  }
  if (name !== '' && !LEGACY_METRIC.test(name)) {
    parts.push(goQuote(name));
    name = '';
  }
  parts.sort();
  if (parts.length === 0) return name === '' ? '{}' : name;
  return `${name}{${parts.join(', ')}}`;
}

function extendedModifier(vs: VectorSelector): string {
  if (vs.anchored === true) return ' anchored';
  return vs.smoothed === true ? ' smoothed' : '';
}

/** Binding strength of the duration operators, weakest first. */
function durationPrecedence(d: DurationExpr): number {
  if (d.kind === 'DurationUnary') return 3;
  if (d.kind !== 'DurationBinary') return 5;
  if (d.op === '+' || d.op === '-') return 1;
  if (d.op === '^') return 4;
  return d.op === 'min_of' || d.op === 'max_of' ? 5 : 2;
}

/** A duration expression as written in a range, subquery or offset. */
export function formatDurationExpr(d: DurationExpr): string {
  switch (d.kind) {
    case 'DurationNumber': {
      const ms = d.seconds * 1000;
      return d.unit === true && Number.isInteger(ms) && ms >= 0 ? formatDuration(ms) : formatFloatF(d.seconds);
    }
    case 'DurationCall':
      return `${d.func}()`;
    case 'DurationParen':
      return `(${formatDurationExpr(d.expr)})`;
    case 'DurationUnary': {
      const inner = formatDurationExpr(d.expr);
      return `${d.op}${durationPrecedence(d.expr) < 4 ? `(${inner})` : inner}`;
    }
    case 'DurationBinary': {
      if (d.op === 'min_of' || d.op === 'max_of') return `${d.op}(${formatDurationExpr(d.lhs)}, ${formatDurationExpr(d.rhs)})`;
      const p = durationPrecedence(d);
      const rightAssoc = d.op === '^';
      const side = (c: DurationExpr, lhs: boolean): string => {
        const cp = durationPrecedence(c);
        const wrap = cp < p || (cp === p && (rightAssoc ? lhs : !lhs)) || (rightAssoc && lhs && c.kind === 'DurationUnary');
        return wrap ? `(${formatDurationExpr(c)})` : formatDurationExpr(c);
      };
      return `${side(d.lhs, true)} ${d.op} ${side(d.rhs, false)}`;
    }
  }
}

/** An offset expression: a binary one needs parentheses, since `x offset 1m * 2` is (x offset 1m) * 2. */
function formatOffsetExpr(d: DurationExpr): string {
  let inner = d;
  while (inner.kind === 'DurationUnary') inner = inner.expr;
  const bare = inner.kind !== 'DurationBinary' || inner.op === 'min_of' || inner.op === 'max_of';
  return bare ? formatDurationExpr(d) : `(${formatDurationExpr(d)})`;
}

function modifiers(at: AtModifier | undefined, offsetMs: number, offsetExpr?: DurationExpr): string {
  let out = '';
  if (at !== undefined) out += at.kind === 'time' ? ` @ ${(at.ms / 1000).toFixed(3)}` : ` @ ${at.kind}()`;
  if (offsetExpr !== undefined) out += ` offset ${formatOffsetExpr(offsetExpr)}`;
  else if (offsetMs > 0) out += ` offset ${formatDuration(offsetMs)}`;
  else if (offsetMs < 0) out += ` offset -${formatDuration(-offsetMs)}`;
  return out;
}

function formatSubquery(e: SubqueryExpr): string {
  const inner = formatExpr(e.expr);
  const needsParens = e.expr.kind === 'BinaryExpr' || e.expr.kind === 'UnaryExpr' || (e.expr.kind === 'NumberLiteral' && isNegative(e.expr.value));
  const step = e.stepExpr !== undefined ? formatDurationExpr(e.stepExpr) : e.stepMs === 0 ? '' : formatDuration(e.stepMs);
  const range = e.rangeExpr === undefined ? formatDuration(e.rangeMs) : formatDurationExpr(e.rangeExpr);
  return `${needsParens ? `(${inner})` : inner}[${range}:${step}]${modifiers(e.at, e.offsetMs, e.offsetExpr)}`;
}

function formatAggregate(e: AggregateExpr): string {
  let out: string = e.op;
  if (e.without) out += ` without (${formatLabelList(e.grouping)}) `;
  else if (e.grouping.length > 0) out += ` by (${formatLabelList(e.grouping)}) `;
  const args = e.param === undefined ? [e.expr] : [e.param, e.expr];
  return `${out}(${args.map(formatExpr).join(', ')})`;
}

function formatMatching(m: VectorMatching | undefined): string {
  if (m === undefined) return '';
  const grouped = m.card === 'many-to-one' || m.card === 'one-to-many';
  let out = '';
  if (m.labels.length > 0 || m.on || grouped) out += ` ${m.on ? 'on' : 'ignoring'} (${formatLabelList(m.labels)})`;
  if (grouped) out += ` group_${m.card === 'many-to-one' ? 'left' : 'right'} (${formatLabelList(m.include)})`;
  if (m.fillLeft !== undefined && m.fillRight !== undefined && Object.is(m.fillLeft, m.fillRight)) return `${out} fill(${formatFloatF(m.fillLeft)})`;
  if (m.fillLeft !== undefined) out += ` fill_left(${formatFloatF(m.fillLeft)})`;
  if (m.fillRight !== undefined) out += ` fill_right(${formatFloatF(m.fillRight)})`;
  return out;
}

/** True for negative numbers including -0, which print with a leading sign. */
function isNegative(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

/** Binding strength of each operator, weakest first, as Prometheus's grammar orders them. */
function precedence(op: BinaryOp): number {
  switch (op) {
    case 'or':
      return 1;
    case 'and':
    case 'unless':
      return 2;
    case '==':
    case '!=':
    case '>':
    case '<':
    case '>=':
    case '<=':
    case '</':
    case '>/':
      return 3;
    case '+':
    case '-':
      return 4;
    case '*':
    case '/':
    case '%':
    case 'atan2':
      return 5;
    case '^':
      return 6;
  }
}

/** Whether an operand needs parentheses to keep its place under `parent` (for trees built in code). */
function needsParens(child: Expr, parent: BinaryOp, side: 'lhs' | 'rhs'): boolean {
  const rightAssoc = parent === '^';
  if (child.kind === 'BinaryExpr') {
    const c = precedence(child.op);
    const p = precedence(parent);
    return c < p || (c === p && (rightAssoc ? side === 'lhs' : side === 'rhs'));
  }
  // A sign binds looser than `^`: -2 ^ 2 is -(2 ^ 2).
  if (parent === '^' && side === 'lhs') return child.kind === 'UnaryExpr' || (child.kind === 'NumberLiteral' && isNegative(child.value));
  return false;
}

function formatBinary(top: BinaryExpr): string {
  const side = (e: BinaryExpr, text: string, which: 'lhs' | 'rhs'): string => (needsParens(e[which], e.op, which) ? `(${text})` : text);
  // From the innermost operator out, in a loop: a chain of thousands of operators is one level here.
  const spine = leftSpine(top);
  let out = formatExpr(spine[spine.length - 1]!.lhs);
  for (let i = spine.length - 1; i >= 0; i--) {
    const e = spine[i]!;
    out = `${side(e, out, 'lhs')} ${e.op}${e.returnBool ? ' bool' : ''}${formatMatching(e.matching)} ${side(e, formatExpr(e.rhs), 'rhs')}`;
  }
  return out;
}
