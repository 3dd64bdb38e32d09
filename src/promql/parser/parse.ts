import { NodeType, Tree, type Input, type PartialParse, type SyntaxNode } from '@lezer/common';
import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import { METRIC_NAME } from '../../tsdb/labels.js';
import { Matcher, MatcherError, type MatchType } from '../../tsdb/matcher.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  DurationExpr,
  Expr,
  MatrixSelector,
  NumberLiteral,
  PosRange,
  SubqueryExpr,
  UnaryExpr,
  VectorMatching,
  VectorSelector,
} from '../ast.js';
import { CHAIN_SPLIT, Chains, precedenceOf, type ChainOperator, type Region } from './chains.js';
import { dependsOnQuery, durationMs } from './durations.js';
import { ParseError } from '../errors.js';
import { isUnitDuration, lexDuration, lexNumber, lexUnitDuration, secondsToMs, unquoteString, type Lexed } from './lex-literals.js';
import { functionNamed } from '../functions/table.js';
import { firstLexicalFault, skipTrivia, unexpectedTokenAt, type SyntaxFault } from './syntax-errors.js';
import { checkAst } from './typecheck.js';
import { walk } from './walk.js';

/**
 * Longest query text parsed. Parsing runs outside the evaluation timeout, on the event loop every
 * port shares, in time proportional to the text: 1.5 µs a character for a long regex alternation,
 * 7 µs for pathological nesting. This bounds it under a second while leaving room for generated
 * queries with long alternations.
 */
export const MAX_QUERY_LENGTH = 128 * 1024;

/** Deepest syntax tree accepted; real queries stay within a few dozen levels. */
export const MAX_NESTING = 1_000;

/**
 * Parses a PromQL expression into our AST and type-checks it as Prometheus does. Every error is a
 * ParseError naming the position and the cause.
 */
export function parseExpr(query: string): Expr {
  if (query.length > MAX_QUERY_LENGTH) {
    throw new ParseError(
      { start: MAX_QUERY_LENGTH, end: query.length },
      `query is ${query.length} characters long, more than the limit of ${MAX_QUERY_LENGTH}`,
      query,
    );
  }
  try {
    const expr = new TreeConverter(query).convert();
    checkAst(expr, query);
    return expr;
  } catch (e) {
    // lezer builds its tree recursively: a deep enough query runs out of stack before our own depth check sees it.
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      throw new ParseError({ start: 0, end: query.length }, `expression nested too deeply, more than ${MAX_NESTING} levels`, query);
    }
    throw e;
  }
}

/**
 * A parsed query: its tree and, when it was parsed from text, the text, which annotations name
 * positions in. (Not `expr`: an AggregateExpr or a ParenExpr would then pass for a Query.)
 */
export interface Query {
  readonly tree: Expr;
  readonly text?: string;
}

/** parseExpr, keeping the text with the tree. */
export function parseQuery(text: string): Query {
  return { tree: parseExpr(text), text };
}

/**
 * Parses a series selector such as `http_requests{job="api"}` (the `match[]` parameter, test
 * data) into its matchers. Unlike a query, `{}` is allowed: callers decide what an empty
 * selection means.
 */
export function parseMetricSelector(text: string): Matcher[] {
  const expr = new TreeConverter(text).convert();
  if (expr.kind !== 'VectorSelector' || expr.offsetMs !== 0 || expr.at !== undefined) {
    throw new ParseError(expr.pos, `expected a series selector, got ${JSON.stringify(text.trim())}`, text);
  }
  return expr.matchers;
}

/** A duration such as `1h30m`, `500ms` or plain (float) seconds `90`, in ms. */
export function parseDuration(text: string): number {
  const d = lexDuration(text);
  if (!d.ok) throw new ParseError({ start: 0, end: text.length }, d.cause, text);
  return d.value;
}

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  TrimUpper: '</',
  TrimLower: '>/',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const DURATION_OPS: Record<string, '+' | '-' | '*' | '/' | '%' | '^'> = { Pow: '^', Mul: '*', Div: '/', Mod: '%', Add: '+', Sub: '-' };

/** A parsed duration: its value in ms (0 until the query runs when it reads step() or range()), and the expression when it is one. */
interface Duration {
  ms: number;
  expr: DurationExpr | undefined;
}

const MATCH_OPS: Record<string, MatchType> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/** Keywords that a parenthesis may follow without them being a call. */
const NOT_FUNCTIONS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2']);

const PARAM_AGGREGATORS: ReadonlySet<AggregateOp> = new Set(['topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio']);

/** The named children of a node, without comments. */
function kids(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
  return out;
}

/**
 * lezer's parse, without the cut lezer makes in a long left-associative chain (over 300 big
 * reductions from one position) so that its own recursion stays shallow: that turns `a or a or …`
 * past a few hundred terms into a syntax error, where Prometheus accepts thousands. Our depth
 * check bounds the tree instead, and lezer's recursion is caught as too deep.
 */
function parseTree(text: string): Tree {
  const parse = lezerParser.startParse(text) as PartialParse & { bigReductionCount?: number };
  for (;;) {
    parse.bigReductionCount = 0;
    const tree = parse.advance();
    if (tree !== null) return tree;
  }
}

/**
 * The query text as lezer reads it with some regions blanked out: the first and last character
 * of each read as `_`, and the parse is given ranges that skip what lies between, so lezer reads
 * the region as one short identifier whose token still spans it (positions stay the text's) and
 * never reads what it holds.
 */
class BlankedInput implements Input {
  readonly lineChunks = false;
  readonly length: number;
  private readonly edges: number[];

  constructor(
    private readonly text: string,
    blanks: readonly Region[],
  ) {
    this.length = text.length;
    this.edges = blanks.flatMap((b) => (b.end - b.start > 1 ? [b.start, b.end - 1] : [b.start]));
  }

  chunk(from: number): string {
    if (this.edges.includes(from)) return '_';
    const next = this.edges.find((e) => e > from) ?? this.length;
    return this.text.slice(from, Math.min(next, from + 4096));
  }

  read(from: number, to: number): string {
    let out = '';
    for (let at = from; at < to;) {
      const c = this.chunk(at).slice(0, to - at);
      out += c;
      at += c.length;
    }
    return out;
  }
}

/**
 * The PromQL node of `text` within `r`, with `blanks` (regions inside it) read as one
 * identifier each, at the positions it has in the whole text.
 */
function parseRegion(text: string, r: Region, blanks: readonly Region[] = []): SyntaxNode {
  const kept = blanks.filter((b) => b.end > b.start && b.start >= r.start && b.end <= r.end);
  const ranges: { from: number; to: number }[] = [];
  let from = r.start;
  for (const b of kept) {
    if (b.end - b.start > 2) {
      ranges.push({ from, to: b.start + 1 });
      from = b.end - 1;
    }
  }
  ranges.push({ from, to: r.end });
  const parse = lezerParser.startParse(new BlankedInput(text, kept), undefined, ranges);
  let tree: Tree | null = null;
  while (tree === null) tree = parse.advance();
  // lezer numbers a ranged parse from its first range's start; mounted there, positions are the text's.
  return new Tree(NodeType.none, [tree], [r.start], r.end).topNode.firstChild!;
}

interface BinaryParts {
  op: BinaryOp;
  matching: VectorMatching;
  returnBool: boolean;
}

/** Turns lezer-promql's tree into our AST, fixing where its precedences differ from Prometheus's. */
class TreeConverter {
  /** Literals written with a sign (`-2`), which lezer lexes as one token: `-2 ^ 2` must be -(2 ^ 2). */
  private readonly signedLiterals = new WeakSet<NumberLiteral>();

  /** In a query with long chains: the lezer-compatible text and the chains found in it. */
  private chained: { text: string; chains: Chains; nested: Map<number, Region>; lexical: SyntaxFault | undefined } | undefined;

  constructor(private readonly query: string) {}

  convert(): Expr {
    if (skipTrivia(this.query, 0) >= this.query.length) {
      throw new ParseError({ start: 0, end: 0 }, 'no expression found in input', this.query);
    }
    const text = lezerCompatible(this.query);
    const lexical = firstLexicalFault(this.query);
    const chains = Chains.find(text, MAX_NESTING);
    if (chains !== undefined) return this.convertChained(text, chains, lexical);
    return this.convertNode(parseTree(text).topNode, lexical);
  }

  /** Our AST of a PromQL node that lezer parsed, after its errors and its depth are checked. */
  private convertNode(top: SyntaxNode, lexical: SyntaxFault | undefined): Expr {
    try {
      this.throwFirstSyntaxError(top, lexical);
    } catch (e) {
      // Past its own depth limit lezer cuts the stack and reports a token it could not place:
      // the nesting that made it do so is the error, where it first goes too deep.
      if (e instanceof ParseError) this.throwTooDeep(top, e.pos.start);
      throw e;
    }
    this.throwTooDeep(top, Infinity);
    const body = kids(top);
    if (body.length !== 1) throw this.unexpectedAt(body[1]?.from ?? top.to);
    return this.expr(body[0]!);
  }

  /**
   * A query with long chains of operators: each chain is split at its loosest operators, its
   * operands parsed in runs lezer can take, and the left-associative tree built here, so neither
   * lezer nor a walker along the chain recurses once an operand. Depth still counts every level that
   * is not a step along a chain.
   */
  private convertChained(text: string, chains: Chains, lexical: SyntaxFault | undefined): Expr {
    this.chained = { text, chains, nested: new Map(), lexical };
    const expr = this.region(chains.whole);
    if (lexical !== undefined) this.fail({ start: lexical.start, end: lexical.end }, lexical.cause);
    // The first node past the limit, not counting steps along a chain.
    let tooDeep: Expr | undefined;
    walk(
      expr,
      0,
      (e, depth) => {
        if (tooDeep !== undefined) return false;
        if (depth > MAX_NESTING) tooDeep = e;
        return tooDeep === undefined;
      },
      (parent, depth, child) => (parent.kind === 'BinaryExpr' && child === parent.lhs && child.kind === 'BinaryExpr' ? depth : depth + 1),
    );
    if (tooDeep !== undefined) this.fail(tooDeep.pos, `expression nested too deeply, more than ${MAX_NESTING} levels`);
    return expr;
  }

  /** The lexical fault of a chained query when it lies before `end`: a part parsed up to there reports it unless a syntax error comes first. */
  private lexicalBefore(end: number): SyntaxFault | undefined {
    const lexical = this.chained?.lexical;
    return lexical !== undefined && lexical.start < end ? lexical : undefined;
  }

  /**
   * A region of a chained query: split when it is a chain, else parsed by lezer. The operands of
   * a chain are parsed by lezer in runs of up to CHAIN_SPLIT operators (one lezer parse a run,
   * not one an operand) and each run is hung onto the chain built so far.
   */
  private region(r: Region): Expr {
    if (r.end <= r.start) throw this.unexpectedAt(r.start);
    const split = this.chained!.chains.split(r);
    if (split === undefined) return this.parsed(r);
    const { operands, operators, inner } = split;
    let chain: Expr | undefined;
    for (let i = 0; i < operands.length;) {
      let j = i + 1;
      let count = inner[i]!;
      if (count <= CHAIN_SPLIT) {
        while (j < operands.length && count + 1 + inner[j]! <= CHAIN_SPLIT && operands[j]!.end > operands[j]!.start) count += 1 + inner[j++]!;
      }
      const run = j === i + 1 ? this.region(operands[i]!) : this.parsed({ start: operands[i]!.start, end: operands[j - 1]!.end });
      const join = (k: number): BinaryParts => this.chainOperator(operands[k - 1]!, operators[k - 1]!, operands[k]!);
      const hung = chain === undefined ? run : this.hang(chain, join(i), run, j - i, operators[0]!.precedence);
      if (hung !== undefined) chain = hung;
      else {
        // Not the shape a run of one precedence's chain has: one operand at a time instead.
        for (let k = i; k < j; k++) {
          const rhs = this.region(operands[k]!);
          chain = { kind: 'BinaryExpr', ...join(k), lhs: chain!, rhs, pos: { start: chain!.pos.start, end: rhs.pos.end } };
        }
      }
      i = j;
    }
    return chain!;
  }

  /** A region lezer parses whole, the long chains inside it parsed apart (through placeholders). */
  private parsed(r: Region): Expr {
    const { text, chains, nested } = this.chained!;
    const inner = chains.within(r);
    for (const n of inner) nested.set(n.start, n);
    return this.convertNode(parseRegion(text, r, inner), this.lexicalBefore(r.end));
  }

  /**
   * `chain op run`, where `run` is the tree of `operands` operands joined by the chain's
   * operators (of one precedence): chain op first operand becomes the innermost lhs of the run's
   * own chain. Undefined when the run's tree is not that chain.
   */
  private hang(chain: Expr, operator: BinaryParts, run: Expr, operands: number, precedence: number): Expr | undefined {
    const spine: BinaryExpr[] = [];
    let first = run;
    for (let k = 1; k < operands; k++) {
      if (first.kind !== 'BinaryExpr' || precedenceOf(first.op) !== precedence) return undefined;
      spine.push(first);
      first = first.lhs;
    }
    const joined: BinaryExpr = { kind: 'BinaryExpr', ...operator, lhs: chain, rhs: first, pos: { start: chain.pos.start, end: first.pos.end } };
    const innermost = spine[spine.length - 1];
    if (innermost === undefined) return joined;
    innermost.lhs = joined;
    for (const b of spine) b.pos = { start: chain.pos.start, end: b.pos.end };
    return run;
  }

  /** An operator of a chain and its modifiers, parsed by lezer between its operands, blanked. */
  private chainOperator(left: Region, op: ChainOperator, right: Region): BinaryParts {
    const end = Math.max(right.end, op.modifiersEnd);
    const top = parseRegion(this.chained!.text, { start: left.start, end }, [left, right]);
    this.throwFirstSyntaxError(top, this.lexicalBefore(end));
    const body = kids(top);
    if (body.length !== 1 || body[0]!.name !== 'BinaryExpr') throw this.unexpectedAt(op.start);
    return this.binaryParts(kids(body[0]!));
  }

  private fail(pos: PosRange, cause: string): never {
    throw new ParseError(pos, cause, this.query);
  }

  private span(node: SyntaxNode): PosRange {
    return { start: node.from, end: node.to };
  }

  private text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  private unexpectedAt(pos: number): ParseError {
    const f = unexpectedTokenAt(this.query, pos);
    return new ParseError({ start: f.start, end: f.end }, f.cause, this.query);
  }

  /**
   * Conversion, type checking and evaluation recurse once a level of the tree (a long chain of
   * operators is split before lezer sees it): past MAX_NESTING levels (parentheses, calls, right
   * operands) the query is refused, where the first level too deep begins, before any of them
   * could run out of stack. Only a level that begins before `before` (an error found first) counts.
   */
  private throwTooDeep(top: SyntaxNode, before: number): void {
    const cursor = top.cursor();
    let depth = 0;
    for (;;) {
      if (cursor.firstChild()) {
        if (++depth > MAX_NESTING && cursor.from < before)
          this.fail({ start: cursor.from, end: cursor.to }, `expression nested too deeply, more than ${MAX_NESTING} levels`);
        continue;
      }
      while (!cursor.nextSibling()) {
        if (!cursor.parent()) return;
        depth--;
      }
    }
  }

  /** The earliest error lezer recovered from, in Prometheus's words; a lexical fault first when not later. */
  private throwFirstSyntaxError(top: SyntaxNode, lexical: SyntaxFault | undefined): void {
    let first: SyntaxNode | undefined;
    const cursor = top.cursor();
    do {
      if (cursor.type.isError && (first === undefined || cursor.from < first.from)) first = cursor.node;
    } while (first === undefined && cursor.next());
    const errorPos = first === undefined ? undefined : skipTrivia(this.query, first.from);
    if (lexical !== undefined && (errorPos === undefined || lexical.start <= errorPos)) {
      this.fail({ start: lexical.start, end: lexical.end }, lexical.cause);
    }
    if (errorPos === undefined) return;
    this.throwUnknownFunction(errorPos);
    this.throwTrailingComma(errorPos);
    throw this.unexpectedAt(errorPos);
  }

  /** `foo(...)` with an unknown `foo` is a syntax error for lezer; Prometheus names the function. */
  private throwUnknownFunction(errorPos: number): void {
    if (this.query[errorPos] !== '(') return;
    let end = errorPos;
    while (end > 0 && /\s/.test(this.query[end - 1]!)) end--;
    let start = end;
    while (start > 0 && /[A-Za-z0-9_:]/.test(this.query[start - 1]!)) start--;
    const name = this.query.slice(start, end);
    if (!/^[A-Za-z_:]/.test(name) || NOT_FUNCTIONS.has(name.toLowerCase())) return;
    const before = this.query[start - 1];
    if (before !== undefined && /[}\])"'`]/.test(before)) return;
    this.fail({ start, end }, `unknown function with name ${JSON.stringify(name)}`);
  }

  private throwTrailingComma(errorPos: number): void {
    if (this.query[errorPos] !== ')') return;
    let i = errorPos;
    while (i > 0 && /\s/.test(this.query[i - 1]!)) i--;
    if (this.query[i - 1] === ',') this.fail({ start: i - 1, end: i }, 'trailing commas not allowed in function call args');
  }

  /** The grammar's expression nodes, each with the method that builds our tree from it. */
  private static readonly BUILDERS: Readonly<Record<string, (c: TreeConverter, node: SyntaxNode) => Expr>> = {
    ParenExpr: (c, node) => ({ kind: 'ParenExpr', expr: c.expr(kids(node)[0]!), pos: c.span(node) }),
    NumberDurationLiteral: (c, node) => c.numberLiteral(node),
    StringLiteral: (c, node) => ({ kind: 'StringLiteral', value: c.unquote(node), pos: c.span(node) }),
    VectorSelector: (c, node) => c.selectorOrRegion(node),
    MatrixSelector: (c, node) => c.matrixSelector(node),
    SubqueryExpr: (c, node) => c.subquery(node),
    OffsetExpr: (c, node) => c.offset(node),
    StepInvariantExpr: (c, node) => c.atModifier(node),
    UnaryExpr: (c, node) => c.unary(node),
    BinaryExpr: (c, node) => c.binary(node),
    AggregateExpr: (c, node) => c.aggregate(node),
    FunctionCall: (c, node) => c.call(node),
    AnchoredExpr: (c, node) => c.extendedRange(node, 'anchored'),
    SmoothedExpr: (c, node) => c.extendedRange(node, 'smoothed'),
  };

  private expr(node: SyntaxNode): Expr {
    const build = TreeConverter.BUILDERS[node.name];
    if (build === undefined) throw this.unexpectedAt(node.from);
    return build(this, node);
  }

  /** A selector, or the long chain parsed apart that a placeholder selector stands in for. */
  private selectorOrRegion(node: SyntaxNode): Expr {
    const chain = this.chained?.nested.get(node.from);
    return chain !== undefined && chain.end === node.to ? this.region(chain) : this.vectorSelector(node);
  }

  private lexed<T>(node: SyntaxNode, r: Lexed<T>): T {
    if (!r.ok) this.fail(this.span(node), r.cause);
    return r.value;
  }

  private unquote(node: SyntaxNode): string {
    return this.lexed(node, unquoteString(this.text(node)));
  }

  /** A number literal's sign and the token after it (lezer puts both in one node). */
  private signedNumber(node: SyntaxNode): { sign: 1 | -1; signed: boolean; value: number; digitsFrom: number } {
    const text = this.text(node);
    const signed = text[0] === '-' || text[0] === '+';
    const digitsFrom = signed ? skipTrivia(this.query, node.from + 1) : node.from;
    const value = this.lexed(node, lexNumber(this.query.slice(digitsFrom, node.to)));
    return { sign: text[0] === '-' ? -1 : 1, signed, value, digitsFrom };
  }

  private numberLiteral(node: SyntaxNode): NumberLiteral {
    const n = this.signedNumber(node);
    const lit: NumberLiteral = { kind: 'NumberLiteral', value: n.sign * n.value, pos: this.span(node) };
    if (n.signed) this.signedLiterals.add(lit);
    return lit;
  }

  private vectorSelector(node: SyntaxNode): VectorSelector {
    let name = '';
    const matchers: Matcher[] = [];
    for (const c of kids(node)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') for (const m of kids(c)) matchers.push(this.labelMatcher(m));
      else throw this.unexpectedAt(c.from);
    }
    if (name !== '') matchers.push(new Matcher('=', METRIC_NAME, name));
    return { kind: 'VectorSelector', name, matchers, offsetMs: 0, at: undefined, pos: this.span(node) };
  }

  private labelMatcher(node: SyntaxNode): Matcher {
    const parts = kids(node);
    if (node.name === 'QuotedLabelName') return this.matcher(node, '=', METRIC_NAME, this.unquote(parts[0]!));
    const [labelNode, opNode, valueNode] = parts;
    if (labelNode === undefined || opNode === undefined || valueNode === undefined) throw this.unexpectedAt(node.from);
    const label = node.name === 'QuotedLabelMatcher' ? this.unquote(kids(labelNode)[0]!) : this.text(labelNode);
    const op = MATCH_OPS[kids(opNode)[0]?.name ?? ''];
    if (op === undefined) throw this.unexpectedAt(opNode.from);
    return this.matcher(node, op, label, this.unquote(valueNode));
  }

  private matcher(node: SyntaxNode, op: MatchType, name: string, value: string): Matcher {
    try {
      return new Matcher(op, name, value);
    } catch (e) {
      if (e instanceof MatcherError) this.fail(this.span(node), e.message);
      throw e;
    }
  }

  /** A range or subquery duration: units, (float) seconds or an expression; it must be positive. */
  private positiveDuration(node: SyntaxNode): Duration {
    const d = this.duration(node, false);
    if (d.expr === undefined && d.ms <= 0) this.fail(this.span(node), 'duration must be greater than 0');
    return d;
  }

  /**
   * A duration: a signed literal becomes its ms at once; an expression is kept (for printing and
   * for step()/range(), known only when the query runs) and computed now when it can be.
   */
  private duration(node: SyntaxNode, allowNegative: boolean): Duration {
    const tree = this.durationTree(node);
    let lit = tree;
    let sign = 1;
    while (lit.kind === 'DurationUnary') {
      if (lit.op === '-') sign = -sign;
      lit = lit.expr;
    }
    if (lit.kind === 'DurationNumber') {
      const ms = sign * this.literalMs.get(lit)!;
      return { ms: ms === 0 ? 0 : ms, expr: undefined };
    }
    const ms = dependsOnQuery(tree) ? 0 : durationMs(tree, undefined, allowNegative, (pos, cause) => this.fail(pos, cause));
    return { ms, expr: tree };
  }

  /** Literal durations' exact ms, beside their seconds (which an expression computes with). */
  private readonly literalMs = new WeakMap<DurationExpr, number>();

  private durationTree(node: SyntaxNode): DurationExpr {
    const pos = this.span(node);
    if (node.name === 'NumberDurationLiteralInDurationContext') {
      const ms = this.durationLiteral(node);
      const d: DurationExpr = { kind: 'DurationNumber', seconds: this.durationSeconds(node), pos };
      if (isUnitDuration(this.text(node))) d.unit = true;
      this.literalMs.set(d, ms);
      return d;
    }
    const parts = kids(node);
    const [first, second, third] = parts;
    if (first === undefined) throw this.unexpectedAt(node.from);
    switch (first.name) {
      case 'UnaryOp':
        return { kind: 'DurationUnary', op: this.text(first) === '-' ? '-' : '+', expr: this.durationTree(second!), pos };
      case 'DurationStep':
        return { kind: 'DurationCall', func: 'step', pos };
      case 'DurationRange':
        return { kind: 'DurationCall', func: 'range', pos };
      case 'DurationMinOf':
      case 'DurationMaxOf':
        return {
          kind: 'DurationBinary',
          op: first.name === 'DurationMinOf' ? 'min_of' : 'max_of',
          lhs: this.durationTree(second!),
          rhs: this.durationTree(third!),
          pos,
        };
      default:
        break;
    }
    if (parts.length === 1) {
      const inner = this.durationTree(first);
      return this.query[node.from] === '(' ? { kind: 'DurationParen', expr: inner, pos } : inner;
    }
    const op = DURATION_OPS[second?.name ?? ''];
    if (op === undefined || third === undefined) throw this.unexpectedAt(second?.from ?? node.from);
    return { kind: 'DurationBinary', op, lhs: this.durationTree(first), rhs: this.durationTree(third), pos };
  }

  private durationSeconds(node: SyntaxNode): number {
    const text = this.text(node);
    if (isUnitDuration(text)) return this.lexed(node, lexUnitDuration(text)) / 1000;
    return this.lexed(node, lexNumber(text));
  }

  private durationLiteral(node: SyntaxNode): number {
    const text = this.text(node);
    if (isUnitDuration(text)) return this.lexed(node, lexUnitDuration(text));
    return this.lexed(node, secondsToMs(this.lexed(node, lexNumber(text))));
  }

  /**
   * Applies a postfix modifier (range, subquery, offset, `@`). They bind tighter than any operator
   * in Prometheus, but lezer-promql applies them to a whole preceding binary or unary expression;
   * this moves them down onto its rightmost operand.
   */
  private postfix(operand: Expr, apply: (target: Expr) => Expr): Expr {
    if (operand.kind === 'BinaryExpr') {
      const rhs = this.postfix(operand.rhs, apply);
      return { ...operand, rhs, pos: { start: operand.pos.start, end: rhs.pos.end } };
    }
    if (operand.kind === 'UnaryExpr') {
      const inner = this.postfix(operand.expr, apply);
      return { ...operand, expr: inner, pos: { start: operand.pos.start, end: inner.pos.end } };
    }
    if (operand.kind === 'NumberLiteral' && this.signedLiterals.has(operand)) {
      const { sign, base } = this.unsign(operand);
      const inner = apply(base);
      return { kind: 'UnaryExpr', op: sign, expr: inner, pos: { start: operand.pos.start, end: inner.pos.end } };
    }
    return apply(operand);
  }

  /** A signed literal split back into its sign and the literal after it. */
  private unsign(lit: NumberLiteral): { sign: '-' | '+'; base: NumberLiteral } {
    const sign = this.query[lit.pos.start] === '-' ? '-' : '+';
    const digitsFrom = skipTrivia(this.query, lit.pos.start + 1);
    const value = sign === '-' ? -lit.value : lit.value;
    return { sign, base: { kind: 'NumberLiteral', value, pos: { start: digitsFrom, end: lit.pos.end } } };
  }

  private matrixSelector(node: SyntaxNode): Expr {
    const [operandNode, rangeNode] = kids(node);
    const operand = this.expr(operandNode!);
    const range = this.positiveDuration(rangeNode!);
    return this.postfix(operand, (target) => {
      const bracket: PosRange = { start: this.query.lastIndexOf('[', rangeNode!.from), end: node.to };
      if (target.kind !== 'VectorSelector') return this.fail(bracket, 'ranges only allowed for vector selectors');
      if (target.offsetMs !== 0 || target.offsetExpr !== undefined) this.fail(bracket, 'no offset modifiers allowed before range');
      if (target.at !== undefined) this.fail(bracket, 'no @ modifiers allowed before range');
      const m: MatrixSelector = { kind: 'MatrixSelector', vector: target, rangeMs: range.ms, pos: { start: target.pos.start, end: node.to } };
      if (range.expr !== undefined) m.rangeExpr = range.expr;
      return m;
    });
  }

  private subquery(node: SyntaxNode): Expr {
    const [operandNode, rangeNode, stepNode] = kids(node);
    const operand = this.expr(operandNode!);
    const range = this.positiveDuration(rangeNode!);
    const step = stepNode === undefined ? undefined : this.positiveDuration(stepNode);
    return this.postfix(operand, (target) => {
      const sq: SubqueryExpr = {
        kind: 'SubqueryExpr',
        expr: target,
        rangeMs: range.ms,
        stepMs: step?.ms ?? 0,
        offsetMs: 0,
        at: undefined,
        pos: { start: target.pos.start, end: node.to },
      };
      if (range.expr !== undefined) sq.rangeExpr = range.expr;
      if (step?.expr !== undefined) sq.stepExpr = step.expr;
      return sq;
    });
  }

  private offset(node: SyntaxNode): Expr {
    const [operandNode, , durationNode] = kids(node);
    const operand = this.expr(operandNode!);
    const { ms: offsetMs, expr: offsetExpr } = this.duration(durationNode!, true);
    const withExpr = <T extends object>(o: T): T => (offsetExpr === undefined ? o : { ...o, offsetExpr });
    return this.postfix(operand, (target) => {
      const end = node.to;
      const twice = (): never => this.fail(target.pos, 'offset may not be set multiple times');
      switch (target.kind) {
        case 'VectorSelector':
          if (target.offsetMs !== 0 || target.offsetExpr !== undefined) twice();
          return withExpr({ ...target, offsetMs, pos: { start: target.pos.start, end } });
        case 'MatrixSelector':
          if (target.vector.offsetMs !== 0 || target.vector.offsetExpr !== undefined) twice();
          return { ...target, vector: withExpr({ ...target.vector, offsetMs }), pos: { start: target.pos.start, end } };
        case 'SubqueryExpr':
          if (target.offsetMs !== 0 || target.offsetExpr !== undefined) twice();
          return withExpr({ ...target, offsetMs, pos: { start: target.pos.start, end } });
        default:
          return this.fail(target.pos, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
      }
    });
  }

  private atModifier(node: SyntaxNode): Expr {
    const [operandNode, , valueNode] = kids(node);
    const operand = this.expr(operandNode!);
    let at: AtModifier;
    if (valueNode!.name === 'AtModifierPreprocessors') {
      at = { kind: this.text(valueNode!).toLowerCase() === 'start' ? 'start' : 'end' };
    } else {
      const n = this.signedNumber(valueNode!);
      const seconds = n.sign * n.value;
      if (!Number.isFinite(seconds) || Math.abs(seconds) >= 9.223372036854776e18) {
        this.fail(this.span(node), `timestamp out of bounds for @ modifier: ${goFixed(seconds)}`);
      }
      at = { kind: 'time', ms: Math.round(seconds * 1000) };
    }
    return this.postfix(operand, (target) => {
      const end = node.to;
      const twice = (): never => this.fail(target.pos, '@ <timestamp> may not be set multiple times');
      switch (target.kind) {
        case 'VectorSelector':
          if (target.at !== undefined) twice();
          return { ...target, at, pos: { start: target.pos.start, end } };
        case 'MatrixSelector':
          if (target.vector.at !== undefined) twice();
          return { ...target, vector: { ...target.vector, at }, pos: { start: target.pos.start, end } };
        case 'SubqueryExpr':
          if (target.at !== undefined) twice();
          return { ...target, at, pos: { start: target.pos.start, end } };
        default:
          return this.fail(target.pos, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
      }
    });
  }

  /** `anchored` / `smoothed` after a selector (extended range selectors). */
  private extendedRange(node: SyntaxNode, modifier: 'anchored' | 'smoothed'): Expr {
    const [operandNode] = kids(node);
    const operand = this.expr(operandNode!);
    const other = modifier === 'anchored' ? 'smoothed' : 'anchored';
    return this.postfix(operand, (target) => {
      const pos = { start: target.pos.start, end: node.to };
      const mark = (vs: VectorSelector): VectorSelector => {
        if (vs[other] === true) this.fail(pos, 'anchored and smoothed modifiers cannot be used together');
        return { ...vs, [modifier]: true };
      };
      switch (target.kind) {
        case 'VectorSelector':
          return { ...mark(target), pos };
        case 'MatrixSelector':
          return { ...target, vector: mark(target.vector), pos };
        case 'SubqueryExpr':
          return this.fail(target.pos, `${modifier} modifier is not supported for subqueries`);
        default:
          return this.fail(target.pos, `${modifier} modifier not implemented`);
      }
    });
  }

  private unary(node: SyntaxNode): Expr {
    const [opNode, operandNode] = kids(node);
    const op = this.text(opNode!) === '-' ? '-' : '+';
    const inner = this.expr(operandNode!);
    const pos = { start: node.from, end: inner.pos.end };
    // Prometheus folds a sign into a number literal: `-1` is the literal -1.
    if (inner.kind === 'NumberLiteral') {
      const lit: NumberLiteral = { kind: 'NumberLiteral', value: op === '-' ? -inner.value : inner.value, pos };
      this.signedLiterals.add(lit);
      return lit;
    }
    const u: UnaryExpr = { kind: 'UnaryExpr', op, expr: inner, pos };
    return u;
  }

  /** A binary expression's operator and modifiers, from its children (lhs, operator, modifiers…, rhs). */
  private binaryParts(parts: SyntaxNode[]): BinaryParts {
    const opNode = parts[1]!;
    const op = BINARY_OPS[opNode.name];
    if (op === undefined) this.fail(this.span(opNode), `binary operator ${JSON.stringify(this.text(opNode))} is experimental and not enabled`);
    const matching: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
    let returnBool = false;
    for (const m of parts.slice(2, -1)) {
      if (m.name === 'BoolModifier') returnBool = true;
      else if (m.name === 'MatchingModifierClause') this.matchingClause(m, matching);
      else if (m.name === 'FillModifier') this.fillModifier(m, matching);
      else throw this.unexpectedAt(m.from);
    }
    return { op, matching, returnBool };
  }

  private binary(node: SyntaxNode): Expr {
    const parts = kids(node);
    const operator = this.binaryParts(parts);
    return this.join(this.expr(parts[0]!), operator, this.expr(parts[parts.length - 1]!), node);
  }

  /**
   * lhs op rhs. lezer applies a postfix modifier (offset, `@`, a range) to a whole preceding
   * binary expression, and postfix() moves it onto that expression's last operand; an operator
   * that binds tighter than that expression's then takes only its last operand, as in
   * Prometheus: `a + b offset 1m * c` is a + ((b offset 1m) * c).
   */
  private join(lhs: Expr, operator: BinaryParts, rhs: Expr, node: SyntaxNode): Expr {
    const { op, matching, returnBool } = operator;
    if (lhs.kind === 'BinaryExpr' && bindsTighter(op, lhs.op)) {
      const inner = this.join(lhs.rhs, operator, rhs, node);
      return { ...lhs, rhs: inner, pos: { start: lhs.pos.start, end: inner.pos.end } };
    }
    if (op === '^') {
      const hoisted = this.hoistSignOverPow(lhs, rhs, matching, returnBool, node);
      if (hoisted !== undefined) return hoisted;
    }
    const b: BinaryExpr = { kind: 'BinaryExpr', op, lhs, rhs, matching, returnBool, pos: { start: lhs.pos.start, end: rhs.pos.end } };
    return b;
  }

  /**
   * `^` binds tighter than a unary sign (`-2 ^ 2` is -(2 ^ 2)), but lezer lexes `-2` as one
   * literal and so builds (-2) ^ 2.
   */
  private hoistSignOverPow(lhs: Expr, rhs: Expr, matching: VectorMatching, returnBool: boolean, node: SyntaxNode): Expr | undefined {
    let sign: '-' | '+';
    let base: Expr;
    if (lhs.kind === 'UnaryExpr') {
      sign = lhs.op;
      base = lhs.expr;
    } else if (lhs.kind === 'NumberLiteral' && this.signedLiterals.has(lhs)) {
      ({ sign, base } = this.unsign(lhs));
    } else {
      return undefined;
    }
    const pow = this.hoistSignOverPow(base, rhs, matching, returnBool, node) ?? {
      kind: 'BinaryExpr' as const,
      op: '^' as const,
      lhs: base,
      rhs,
      matching,
      returnBool,
      pos: { start: base.pos.start, end: rhs.pos.end },
    };
    const u: UnaryExpr = { kind: 'UnaryExpr', op: sign, expr: pow, pos: { start: lhs.pos.start, end: pow.pos.end } };
    return u;
  }

  private matchingClause(node: SyntaxNode, matching: VectorMatching): void {
    for (const c of kids(node)) {
      switch (c.name) {
        case 'On':
          matching.on = true;
          break;
        case 'Ignoring':
          matching.on = false;
          break;
        case 'GroupLeft':
          matching.card = 'many-to-one';
          break;
        case 'GroupRight':
          matching.card = 'one-to-many';
          break;
        case 'GroupingLabels':
          if (matching.card === 'one-to-one') matching.labels = this.groupingLabels(c);
          else matching.include = this.groupingLabels(c);
          break;
        default:
          throw this.unexpectedAt(c.from);
      }
    }
  }

  /** fill(v), fill_left(v), fill_right(v): the value a series missing on that side takes. */
  private fillModifier(node: SyntaxNode, matching: VectorMatching): void {
    for (const clause of kids(node)) {
      const [kw, valueNode] = kids(clause);
      if (kw === undefined || valueNode === undefined) throw this.unexpectedAt(clause.from);
      const n = this.signedNumber(valueNode);
      const value = n.sign * n.value;
      if (clause.name === 'FillClause' || clause.name === 'FillLeftClause') matching.fillLeft = value;
      if (clause.name === 'FillClause' || clause.name === 'FillRightClause') matching.fillRight = value;
    }
  }

  private groupingLabels(node: SyntaxNode): string[] {
    return kids(node).map((c) => {
      if (c.name === 'LabelName') return this.text(c);
      const name = this.unquote(kids(c)[0]!);
      if (name === '' || !isWellFormedUtf16(name)) this.fail(this.span(c), `invalid label name for grouping: ${JSON.stringify(name)}`);
      return name;
    });
  }

  private aggregate(node: SyntaxNode): Expr {
    let op: AggregateOp | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const c of kids(node)) {
      if (c.name === 'AggregateOp') op = this.text(c).toLowerCase() as AggregateOp;
      else if (c.name === 'AggregateModifier') {
        const [kw, labels] = kids(c);
        without = kw!.name === 'Without';
        grouping = this.groupingLabels(labels!);
      } else if (c.name === 'FunctionCallBody') args = kids(c).map((a) => this.expr(a));
      else throw this.unexpectedAt(c.from);
    }
    const pos = this.span(node);
    if (args.length === 0) this.fail(pos, 'no arguments for aggregate expression provided');
    const wanted = PARAM_AGGREGATORS.has(op!) ? 2 : 1;
    if (args.length !== wanted) {
      this.fail(pos, `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`);
    }
    const agg: AggregateExpr = {
      kind: 'AggregateExpr',
      op: op!,
      expr: args[wanted - 1]!,
      param: wanted === 2 ? args[0] : undefined,
      grouping,
      without,
      pos,
    };
    return agg;
  }

  private call(node: SyntaxNode): Expr {
    const [idNode, bodyNode] = kids(node);
    const func = this.text(idNode!);
    if (functionNamed(func) === undefined) this.fail(this.span(idNode!), `unknown function with name ${JSON.stringify(func)}`);
    const c: Call = { kind: 'Call', func, args: kids(bodyNode!).map((a) => this.expr(a)), pos: this.span(node) };
    return c;
  }
}

const NAME_LEZER_KNOWS = 'minute'.split('');

/**
 * The query with spellings Prometheus's lexer accepts but lezer-promql's does not rewritten to
 * same-length equivalents, so every position still matches the original text, from which all
 * values are read: numbers `2.` and `0X1F` become `2 ` and `0x1F`; step(), range(), min_of() and
 * max_of() in a duration (inside `[...]` or after `offset`) in other letter cases become lower
 * case; min_of/max_of calls elsewhere become a call lezer knows, so they fail as unknown functions.
 */
function lezerCompatible(query: string): string {
  const out = query.split('');
  /** For each open bracket: whether it encloses a duration expression. */
  const brackets: boolean[] = [];
  /** After `offset`, until its duration's first token. */
  let offsetPending = false;
  /** A duration call's name was just seen: its parenthesis opens a duration. */
  let durationCallPending = false;
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    const inDuration: boolean = offsetPending || durationCallPending || brackets[brackets.length - 1] === true;
    if (c === '#') {
      while (i < query.length && query[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < query.length && query[i] !== c && !(c !== '`' && query[i] === '\n')) i += c !== '`' && query[i] === '\\' ? 2 : 1;
      i++;
      offsetPending = false;
    } else if (/[0-9]/.test(c) && (i === 0 || !/[A-Za-z0-9_:.]/.test(query[i - 1]!))) {
      if (c === '0' && query[i + 1] === 'X') out[i + 1] = 'x';
      let j = i + 1;
      while (j < query.length && /[0-9A-Za-z_]/.test(query[j]!)) j++;
      if (query[j] === '.' && !/[0-9A-Za-z_.]/.test(query[j + 1] ?? '') && /^[0-9_]+$/.test(query.slice(i, j))) out[j] = ' ';
      i = j;
      offsetPending = false;
    } else if (/[A-Za-z_:]/.test(c)) {
      let j = i + 1;
      while (j < query.length && /[A-Za-z0-9_:]/.test(query[j]!)) j++;
      const word = query.slice(i, j);
      const lower = word.toLowerCase();
      const call = query[skipTrivia(query, j)] === '(';
      if (inDuration && call && functionNamed(lower)?.inDurations === true) {
        out.splice(i, j - i, ...lower.split(''));
        durationCallPending = true;
      } else if (!inDuration && call && (word === 'min_of' || word === 'max_of')) {
        out.splice(i, j - i, ...NAME_LEZER_KNOWS);
      }
      offsetPending = !inDuration && lower === 'offset';
      i = j;
    } else {
      if (c === '[' || c === '(') {
        brackets.push(c === '[' || inDuration);
        offsetPending = false;
        durationCallPending = false;
      } else if (c === ']' || c === ')') {
        brackets.pop();
      } else if (!/\s/.test(c) && c !== '-' && c !== '+') {
        offsetPending = false;
      }
      i++;
    }
  }
  return out.join('');
}

/** Whether `op` takes its left operand before `inner` would: a higher precedence, or `^`'s own (right-associative). */
function bindsTighter(op: BinaryOp, inner: BinaryOp): boolean {
  const p = precedenceOf(op);
  const q = precedenceOf(inner);
  if (p === undefined || q === undefined) return false;
  return p > q || (p === q && op === '^');
}

/** False when the string holds a lone surrogate, which is how invalid UTF-8 bytes arrive here. */
function isWellFormedUtf16(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** A float as Go's %f prints it (six decimals; +Inf, -Inf, NaN). */
function goFixed(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return x.toFixed(6);
}
