import type { Matcher } from '../tsdb/matcher.js';

/** The PromQL value types, as the type checker and the evaluator name them. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** Half-open character range [start, end) in the query text, for error messages. */
export interface PosRange {
  start: number;
  end: number;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call
  | StepInvariantExpr;

export interface NumberLiteral {
  kind: 'NumberLiteral';
  value: number;
  pos: PosRange;
}

export interface StringLiteral {
  kind: 'StringLiteral';
  value: string;
  pos: PosRange;
}

/** `@` modifier: a fixed time in ms, or start()/end() of the query. */
export type AtModifier = { kind: 'time'; ms: number } | { kind: 'start' } | { kind: 'end' };

export interface VectorSelector {
  kind: 'VectorSelector';
  /** Metric name as written before the braces, '' when absent (then it is a `__name__` matcher or none). */
  name: string;
  /** Every matcher, including the one for the metric name. */
  matchers: Matcher[];
  /** `offset` in ms; negative offsets look into the future. */
  offsetMs: number;
  /** The offset as written when it is an expression (`offset step() * 2`); offsetMs holds its value once known. */
  offsetExpr?: DurationExpr;
  at: AtModifier | undefined;
  /** `anchored`: range windows also take the last sample before their start (extended range selectors). */
  anchored?: boolean;
  /** `smoothed`: values are interpolated at the window edges, or at the step time for an instant vector. */
  smoothed?: boolean;
  pos: PosRange;
}

/**
 * A duration written as an expression (`[5m * 2]`, `offset min_of(step(), 1m)`). Numbers are
 * seconds, as Prometheus computes them; step() and range() are the query's, known only when it runs.
 */
export type DurationExpr =
  | { kind: 'DurationNumber'; seconds: number; /** Written with units (`5m`) rather than as plain seconds. */ unit?: boolean; pos: PosRange }
  | { kind: 'DurationCall'; func: 'step' | 'range'; pos: PosRange }
  | { kind: 'DurationUnary'; op: '-' | '+'; expr: DurationExpr; pos: PosRange }
  | { kind: 'DurationBinary'; op: '+' | '-' | '*' | '/' | '%' | '^' | 'min_of' | 'max_of'; lhs: DurationExpr; rhs: DurationExpr; pos: PosRange }
  | { kind: 'DurationParen'; expr: DurationExpr; pos: PosRange };

export interface MatrixSelector {
  kind: 'MatrixSelector';
  /** The selector the range applies to; its offset and `@` apply to the whole window. */
  vector: VectorSelector;
  rangeMs: number;
  /** The range as written when it is an expression; rangeMs holds its value once known. */
  rangeExpr?: DurationExpr;
  pos: PosRange;
}

export interface SubqueryExpr {
  kind: 'SubqueryExpr';
  expr: Expr;
  rangeMs: number;
  /** Resolution in ms; 0 means the default evaluation interval. */
  stepMs: number;
  offsetMs: number;
  /** Range, resolution and offset as written when they are expressions; the ms fields hold their values once known. */
  rangeExpr?: DurationExpr;
  stepExpr?: DurationExpr;
  offsetExpr?: DurationExpr;
  at: AtModifier | undefined;
  pos: PosRange;
}

export interface ParenExpr {
  kind: 'ParenExpr';
  expr: Expr;
  pos: PosRange;
}

export interface UnaryExpr {
  kind: 'UnaryExpr';
  op: '-' | '+';
  expr: Expr;
  pos: PosRange;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
/** `</` and `>/` trim native histograms' buckets; float samples are dropped by them. */
export type TrimOp = '</' | '>/';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp | TrimOp;

export interface VectorMatching {
  /** 'one-to-one' unless group_left / group_right was given; set operators are 'many-to-many'. */
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** True for `on(...)`, false for `ignoring(...)` or no clause. */
  on: boolean;
  labels: string[];
  /** Labels listed in group_left(...) / group_right(...) to copy from the "one" side. */
  include: string[];
  /** `fill_left(v)` / `fill(v)`: the value a missing left-hand series takes (binop fill modifiers). */
  fillLeft?: number;
  /** `fill_right(v)` / `fill(v)`: the value a missing right-hand series takes. */
  fillRight?: number;
}

export interface BinaryExpr {
  kind: 'BinaryExpr';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** Present when both sides are vectors. */
  matching: VectorMatching | undefined;
  /** The `bool` modifier on a comparison. */
  returnBool: boolean;
  pos: PosRange;
}

export type AggregateOp =
  'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values' | 'limitk' | 'limit_ratio';

export interface AggregateExpr {
  kind: 'AggregateExpr';
  op: AggregateOp;
  expr: Expr;
  /** The parameter of topk/bottomk/quantile/count_values/limitk/limit_ratio. */
  param: Expr | undefined;
  grouping: string[];
  /** True for `without(...)`, false for `by(...)` or no clause. */
  without: boolean;
  pos: PosRange;
}

export interface Call {
  kind: 'Call';
  func: string;
  args: Expr[];
  pos: PosRange;
}

/** Marks a subtree whose value does not change across the steps of a range query (`@`, literals). */
export interface StepInvariantExpr {
  kind: 'StepInvariantExpr';
  expr: Expr;
  pos: PosRange;
}
