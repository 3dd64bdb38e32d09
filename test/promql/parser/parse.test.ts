import { describe, expect, it } from 'vitest';
import type { Expr, ValueType } from '../../../src/promql/ast.js';
import { ParseError } from '../../../src/promql/errors.js';
import { MAX_NESTING, MAX_QUERY_LENGTH, parseDuration, parseExpr, parseMetricSelector } from '../../../src/promql/parser/parse.js';
import { FUNCTIONS } from '../../../src/promql/functions/table.js';
import { Matcher } from '../../../src/tsdb/matcher.js';
import { shape } from '../shape.js';

/** A compact S-expression of the tree, to state precedence plainly. */
function sexpr(e: Expr): string {
  switch (e.kind) {
    case 'NumberLiteral':
      return String(e.value);
    case 'StringLiteral':
      return JSON.stringify(e.value);
    case 'VectorSelector':
      return e.name || '{..}';
    case 'MatrixSelector':
      return `${sexpr(e.vector)}[${e.rangeMs}]`;
    case 'SubqueryExpr':
      return `${sexpr(e.expr)}[${e.rangeMs}:${e.stepMs}]`;
    case 'ParenExpr':
      return `(paren ${sexpr(e.expr)})`;
    case 'UnaryExpr':
      return `(${e.op} ${sexpr(e.expr)})`;
    case 'BinaryExpr':
      return `(${e.op} ${sexpr(e.lhs)} ${sexpr(e.rhs)})`;
    case 'AggregateExpr':
      return `(${e.op} ${e.param ? `${sexpr(e.param)} ` : ''}${sexpr(e.expr)})`;
    case 'Call':
      return `(${e.func}${e.args.map((a) => ` ${sexpr(a)}`).join('')})`;
    case 'StepInvariantExpr':
      return sexpr(e.expr);
  }
}

function parseError(query: string): ParseError {
  try {
    parseExpr(query);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(query)} to fail`);
}

/** The query fails with this cause, pointing at this span of it. */
function failsAt(query: string, cause: string, pos: { start: number; end: number }): void {
  const err = parseError(query);
  expect(err.reason).toBe(cause);
  expect(err.pos).toEqual(pos);
}

describe('operator precedence and associativity', () => {
  it.each([
    ['-2 ^ 2', '(- (^ 2 2))'],
    ['2 ^ 3 ^ 2', '(^ 2 (^ 3 2))'],
    ['2 ^ -3 ^ 2', '(^ 2 (- (^ 3 2)))'],
    ['-2 ^ 3 ^ 2', '(- (^ 2 (^ 3 2)))'],
    ['-a ^ b', '(- (^ a b))'],
    ['-2 ^ 2 * 3', '(* (- (^ 2 2)) 3)'],
    ['(-2) ^ 2', '(^ (paren -2) 2)'],
    ['a or b and c', '(or a (and b c))'],
    ['a and b or c', '(or (and a b) c)'],
    ['a unless b and c', '(and (unless a b) c)'],
    ['a == b and c', '(and (== a b) c)'],
    ['a + b > c', '(> (+ a b) c)'],
    ['a + b * c', '(+ a (* b c))'],
    ['a * b + c', '(+ (* a b) c)'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b * c', '(* (/ a b) c)'],
    ['a atan2 b * c', '(* (atan2 a b) c)'],
    ['a % b ^ c', '(% a (^ b c))'],
    ['-a * b', '(* (- a) b)'],
    ['-a + b', '(+ (- a) b)'],
    ['1 - -1', '(- 1 -1)'],
    ['1 + 2 * 3 ^ 2 ^ -1 > bool 0', '(> (+ 1 (* 2 (^ 3 (^ 2 -1)))) 0)'],
    ['a + 2 * 3 ^ 2 ^ -1 > bool 0 or b', '(or (> (+ a (* 2 (^ 3 (^ 2 -1)))) 0) b)'],
    // lezer gives a postfix modifier the whole expression before it; the operator after it binds as Prometheus's does.
    ['a + b offset 1m * c', '(+ a (* b c))'],
    ['a and b / e @ 100 % c', '(and a (% (/ b e) c))'],
    ['a ^ b offset 1m ^ c', '(^ a (^ b c))'],
    ['a * b offset 1m + c', '(+ (* a b) c)'],
    ['a or b @ 100 offset 1m == bool c', '(or a (== b c))'],
  ])('%s parses as %s', (query, tree) => {
    expect(sexpr(parseExpr(query))).toBe(tree);
  });

  it('applies offset, @ and ranges to the nearest operand, not the whole expression', () => {
    const e = parseExpr('a + b offset 5m');
    expect(sexpr(e)).toBe('(+ a b)');
    expect(e.kind === 'BinaryExpr' && e.rhs.kind === 'VectorSelector' && e.rhs.offsetMs).toBe(300_000);
    expect(e.kind === 'BinaryExpr' && e.lhs.kind === 'VectorSelector' && e.lhs.offsetMs).toBe(0);
    const at = parseExpr('a * b @ 10');
    expect(at.kind === 'BinaryExpr' && at.rhs.kind === 'VectorSelector' && at.rhs.at).toEqual({ kind: 'time', ms: 10_000 });
    expect(sexpr(parseExpr('sum(x) + rate(y[5m]) * last_over_time(z[1m:])'))).toBe('(+ (sum x) (* (rate y[300000]) (last_over_time z[60000:0])))');
  });

  it('treats a sign before a range as applying to the range, which is a type error', () => {
    expect(parseError('-a[5m]').message).toBe(
      '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"',
    );
  });

  it('folds a sign into a number literal as Prometheus does', () => {
    expect(shape(parseExpr('-1'))).toEqual({ kind: 'NumberLiteral', value: -1 });
    expect(shape(parseExpr('- 1'))).toEqual({ kind: 'NumberLiteral', value: -1 });
    expect(shape(parseExpr('+1'))).toEqual({ kind: 'NumberLiteral', value: 1 });
    expect(sexpr(parseExpr('-(1)'))).toBe('(- (paren 1))');
  });
});

describe('number literals', () => {
  it.each([
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['2.', 2],
    ['2. + 1', 3],
    ['12.34e6', 12_340_000],
    ['12.34e+6', 12_340_000],
    ['12.34E-6', 0.00001234],
    ['-0.2e-6', -0.0000002],
    ['0x1f', 31],
    ['0X1F', 31],
    ['010', 8],
    ['09', 9],
    ['1_000', 1000],
    ['Inf', Infinity],
    ['+inf', Infinity],
    ['-iNf', -Infinity],
    ['5m', 300],
    ['1h30m', 5400],
    ['500ms', 0.5],
  ])('%s is %d', (query, value) => {
    const e = parseExpr(query);
    const v = e.kind === 'NumberLiteral' ? e.value : e.kind === 'BinaryExpr' && e.lhs.kind === 'NumberLiteral' ? e.lhs.value + 1 : undefined;
    expect(v).toBe(value);
  });

  it('reads NaN in any case', () => {
    for (const q of ['NaN', 'nan', 'NAN']) {
      const e = parseExpr(q);
      expect(e.kind === 'NumberLiteral' && Number.isNaN(e.value)).toBe(true);
    }
  });

  it('rejects a number too large for a float', () => {
    expect(parseError(`1${'0'.repeat(400)}`).reason).toMatch(/^error parsing number: .*value out of range$/);
  });

  it('records the span of a literal, its sign included', () => {
    expect(parseExpr('  -42 ').pos).toEqual({ start: 2, end: 5 });
  });
});

describe('string literals', () => {
  it.each([
    ['"abc"', 'abc'],
    ["'abc'", 'abc'],
    ['`a\\nb`', 'a\\nb'],
    ['"a\\nb\\tc\\\\d\\"e"', 'a\nb\tc\\d"e'],
    ["'it\\'s'", "it's"],
    ['"\\a\\b\\f\\r\\v"', '\x07\b\f\r\v'],
    ['"\\x41\\101"', 'AA'],
    ['"\\u00e9\\U0001F600"', 'é😀'],
    ['"\\xc3\\xa9"', 'é'],
    ['"é 😀"', 'é 😀'],
    ['""', ''],
  ])('%s is %j', (query, value) => {
    expect(shape(parseExpr(query))).toEqual({ kind: 'StringLiteral', value });
  });

  it('keeps bytes that are not UTF-8 as lone surrogates, so later checks can reject them', () => {
    const e = parseExpr('"a\\xc5z"');
    expect(e.kind === 'StringLiteral' && e.value).toBe('a\udcc5z');
  });

  it.each([
    ['"abc', 'unterminated quoted string'],
    ['"a\nb"', 'unterminated quoted string'],
    ['`abc', 'unterminated raw string'],
    ['"\\q"', "unknown escape sequence U+0071 'q'"],
    ['"\\\'"', "unknown escape sequence U+0027 '''"],
    ['"\\x4"', "illegal character U+0022 '\"' in escape sequence"],
    ['"\\uD800"', 'escape sequence is an invalid Unicode code point'],
    ['"\\400"', 'escape sequence is an invalid Unicode code point'],
  ])('%s fails: %s', (query, cause) => {
    const err = parseError(query);
    expect(err.reason).toBe(cause);
    expect(err.message).toMatch(/^1:1: parse error: /);
  });
});

describe('durations', () => {
  it.each([
    ['x[5m]', 300_000],
    ['x[1h30m]', 5_400_000],
    ['x[500ms]', 500],
    ['x[1y]', 365 * 86_400_000],
    ['x[2w]', 14 * 86_400_000],
    ['x[1d12h]', 36 * 3_600_000],
    ['x[60]', 60_000],
    ['x[1.5]', 1500],
    ['x[0x10]', 16_000],
  ])('%s has a range of %d ms', (query, ms) => {
    const e = parseExpr(query);
    expect(e.kind === 'MatrixSelector' && e.rangeMs).toBe(ms);
  });

  it('rejects a range that is not positive', () => {
    expect(parseError('x[0s]').reason).toBe('duration must be greater than 0');
    expect(parseError('x[-5m]').reason).toBe('duration must be greater than 0');
    expect(parseError('x[5m:0s]').reason).toBe('duration must be greater than 0');
  });

  it('rejects durations with units out of order', () => {
    expect(() => parseExpr('x[5m1h]')).toThrow(ParseError);
  });

  it('computes duration expressions without step() or range() while parsing', () => {
    const m = parseExpr('x[5m * 2]');
    expect(m.kind === 'MatrixSelector' && m.rangeMs).toBe(600_000);
    const o = parseExpr('x offset (1h / 2)');
    expect(o.kind === 'VectorSelector' && o.offsetMs).toBe(1_800_000);
    expect(parseError('x[1m - 2m]').reason).toBe('duration must be greater than 0');
    expect(parseError('x[1m / 0]').reason).toBe('division by zero');
  });

  it('keeps step() and range() durations for the query to compute', () => {
    const m = parseExpr('x[STEP() * 2]');
    expect(m.kind === 'MatrixSelector' && m.rangeExpr?.kind).toBe('DurationBinary');
  });

  it('parseDuration reads units and (float) seconds', () => {
    expect(['1h30m', '500ms', '90', '1.5', '0'].map(parseDuration)).toEqual([5_400_000, 500, 90_000, 1500, 0]);
    expect(() => parseDuration('1h 30m')).toThrow(ParseError);
    expect(() => parseDuration('5x')).toThrow(/not a valid duration string/);
  });
});

describe('selectors', () => {
  it('puts the metric name last among the matchers, as Prometheus does', () => {
    expect(shape(parseExpr('http_requests{job="api", code!="500", path=~"/a.*", method!~"GET|PUT"}'))).toEqual({
      kind: 'VectorSelector',
      name: 'http_requests',
      matchers: ['job="api"', 'code!="500"', 'path=~"/a.*"', 'method!~"GET|PUT"', '__name__="http_requests"'],
      offsetMs: 0,
    });
  });

  it('accepts the name as a matcher, quoted names and a trailing comma', () => {
    expect(shape(parseExpr('{__name__=~"http_.*"}'))).toMatchObject({ name: '', matchers: ['__name__=~"http_.*"'] });
    expect(shape(parseExpr('{"my.metric", "service.name"="api",}'))).toMatchObject({
      name: '',
      matchers: ['__name__="my.metric"', 'service.name="api"'],
    });
    expect(shape(parseExpr('foo:bar:rate5m'))).toMatchObject({ name: 'foo:bar:rate5m' });
  });

  it('lets keywords and function names serve as metric names', () => {
    expect(shape(parseExpr('rate'))).toMatchObject({ kind: 'VectorSelector', name: 'rate' });
    expect(shape(parseExpr('sum{a="b"}'))).toMatchObject({ kind: 'VectorSelector', name: 'sum' });
  });

  it('requires a matcher that does not match the empty string', () => {
    for (const q of ['{}', '{a=""}', '{a=~".*"}', '{a!="x"}']) {
      expect(parseError(q).reason).toBe('vector selector must contain at least one non-empty matcher');
    }
    expect(() => parseExpr('{a=~".+"}')).not.toThrow();
    expect(() => parseExpr('{a!=""}')).not.toThrow();
  });

  it('rejects a metric name given twice', () => {
    expect(parseError('foo{__name__="bar"}').reason).toBe('metric name must not be set twice: "foo" or "bar"');
  });

  it('reports a bad regex at its matcher', () => {
    const err = parseError('foo{a=~"("}');
    expect(err.pos).toEqual({ start: 4, end: 10 });
    expect(err.message).toMatch(/^1:5: parse error: .*missing closing \)/);
  });

  it('parses offsets, @ and subqueries', () => {
    expect(shape(parseExpr('x offset -5m'))).toMatchObject({ offsetMs: -300_000 });
    expect(shape(parseExpr('x offset 90'))).toMatchObject({ offsetMs: 90_000 });
    expect(shape(parseExpr('x @ 100.5'))).toMatchObject({ at: { kind: 'time', ms: 100_500 } });
    expect(shape(parseExpr('x @ -1'))).toMatchObject({ at: { kind: 'time', ms: -1000 } });
    expect(shape(parseExpr('x @ start()'))).toMatchObject({ at: { kind: 'start' } });
    expect(shape(parseExpr('x @ end() offset 1m'))).toMatchObject({ at: { kind: 'end' }, offsetMs: 60_000 });
    expect(shape(parseExpr('x[5m] offset 1m @ 10'))).toMatchObject({
      kind: 'MatrixSelector',
      rangeMs: 300_000,
      vector: { offsetMs: 60_000, at: { kind: 'time', ms: 10_000 } },
    });
    expect(shape(parseExpr('rate(x[5m])[30m:1m] offset 1h @ end()'))).toMatchObject({
      kind: 'SubqueryExpr',
      rangeMs: 1_800_000,
      stepMs: 60_000,
      offsetMs: 3_600_000,
      at: { kind: 'end' },
    });
    expect(shape(parseExpr('x[5m:]'))).toMatchObject({ kind: 'SubqueryExpr', stepMs: 0 });
  });

  it('spans a selector over its modifiers', () => {
    expect(parseExpr('x[5m] offset 1m').pos).toEqual({ start: 0, end: 15 });
  });

  it.each([
    ['x offset 1m offset 2m', 'offset may not be set multiple times'],
    ['x @ 1 @ 2', '@ <timestamp> may not be set multiple times'],
    ['x offset 1m [5m]', 'no offset modifiers allowed before range'],
    ['x @ 1 [5m]', 'no @ modifiers allowed before range'],
    ['(x)[5m]', 'ranges only allowed for vector selectors'],
    ['sum(x) offset 1m', 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['(x) @ 1', '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['x @ Inf', 'timestamp out of bounds for @ modifier: +Inf'],
    ['x[5m:1m][1m:]', 'subquery is only allowed on instant vector, got matrix instead'],
  ])('%s fails: %s', (query, cause) => {
    expect(parseError(query).reason).toBe(cause);
  });
});

describe('binary operators', () => {
  it('parses bool and vector matching', () => {
    expect(shape(parseExpr('a > bool on(x, y) group_left(z) b'))).toMatchObject({
      op: '>',
      returnBool: true,
      matching: { card: 'many-to-one', on: true, labels: ['x', 'y'], include: ['z'] },
    });
    expect(shape(parseExpr('a / ignoring(x) group_right b'))).toMatchObject({
      matching: { card: 'one-to-many', on: false, labels: ['x'], include: [] },
    });
    expect(shape(parseExpr('a and on() b'))).toMatchObject({ matching: { card: 'many-to-many', on: true, labels: [] } });
    expect(shape(parseExpr('a or b'))).toMatchObject({ matching: { card: 'many-to-many' } });
    expect(shape(parseExpr('a + b'))).toMatchObject({ matching: { card: 'one-to-one', on: false, labels: [], include: [] } });
  });

  it('drops vector matching where a side is a scalar', () => {
    const e = parseExpr('a * 2');
    expect(e.kind === 'BinaryExpr' && e.matching).toBeUndefined();
    const s = parseExpr('1 < bool 2');
    expect(s.kind === 'BinaryExpr' && s.matching).toBeUndefined();
  });

  it('lets label names be keywords in matching clauses', () => {
    expect(shape(parseExpr('a + on(on, bool, by) b'))).toMatchObject({ matching: { labels: ['on', 'bool', 'by'] } });
  });

  it.each([
    ['1 > 2', 'comparisons between scalars must use BOOL modifier', { start: 2, end: 3 }],
    ['a + bool b', 'bool modifier can only be used on comparison operators', { start: 2, end: 8 }],
    ['1 and 2', 'set operator "and" not allowed in binary scalar expression', { start: 0, end: 7 }],
    ['a and 1', 'set operator "and" not allowed in binary scalar expression', { start: 0, end: 7 }],
    ['1 + on(a) b', 'vector matching only allowed between instant vectors', { start: 0, end: 11 }],
    ['a and on(b) group_left c', 'no grouping allowed for "and" operation', { start: 0, end: 24 }],
    ['a + on(b) group_left(b) c', 'label "b" must not occur in ON and GROUP clause at once', { start: 2, end: 23 }],
    ['a[5m] + b', 'binary expression must contain only scalar and instant vector types', { start: 0, end: 5 }],
    ['a + "s"', 'binary expression must contain only scalar and instant vector types', { start: 4, end: 7 }],
  ])('%s fails: %s', failsAt);
});

describe('aggregations', () => {
  it('accepts the grouping before or after the body', () => {
    const want = { kind: 'AggregateExpr', op: 'sum', grouping: ['a', 'b'], without: false };
    expect(shape(parseExpr('sum by (a, b) (x)'))).toMatchObject(want);
    expect(shape(parseExpr('sum(x) by (a, b)'))).toMatchObject(want);
    expect(shape(parseExpr('SUM BY (a,b,) (x)'))).toMatchObject(want);
    expect(shape(parseExpr('avg without (c) (x)'))).toMatchObject({ op: 'avg', grouping: ['c'], without: true });
    expect(shape(parseExpr('count by ("service.name") (x)'))).toMatchObject({ grouping: ['service.name'] });
    expect(shape(parseExpr('max by () (x)'))).toMatchObject({ grouping: [] });
  });

  it('takes the parameter first', () => {
    expect(sexpr(parseExpr('topk(3, x)'))).toBe('(topk 3 x)');
    expect(sexpr(parseExpr('quantile by (a) (0.9, x)'))).toBe('(quantile 0.9 x)');
    expect(sexpr(parseExpr('count_values("v", x)'))).toBe('(count_values "v" x)');
    expect(sexpr(parseExpr('limitk(2, x)'))).toBe('(limitk 2 x)');
    expect(sexpr(parseExpr('limit_ratio(0.5, x)'))).toBe('(limit_ratio 0.5 x)');
    expect(sexpr(parseExpr('bottomk(scalar(y), x)'))).toBe('(bottomk (scalar y) x)');
  });

  it.each([
    ['sum()', 'no arguments for aggregate expression provided'],
    ['sum(x, y)', 'wrong number of arguments for aggregate expression provided, expected 1, got 2'],
    ['topk(x)', 'wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['topk("a", x)', 'expected type scalar in aggregation parameter, got string'],
    ['count_values(1, x)', 'expected type string in aggregation parameter, got scalar'],
    ['sum(1)', 'expected type instant vector in aggregation expression, got scalar'],
    ['sum(x[5m])', 'expected type instant vector in aggregation expression, got range vector'],
  ])('%s fails: %s', (query, cause) => {
    expect(parseError(query).reason).toBe(cause);
  });
});

describe('function calls', () => {
  const argFor: Record<ValueType, string> = { vector: 'v', matrix: 'm[5m]', scalar: '1', string: '"s"' };

  it.each(Object.entries(FUNCTIONS))('%s accepts its signature', (name, sig) => {
    const min = sig.variadic === 0 ? sig.argTypes.length : sig.argTypes.length - 1;
    const args = sig.argTypes.slice(0, min).map((t) => argFor[t]);
    if (name === 'info' && args.length > 1) args[1] = '{a="b"}';
    const e = parseExpr(`${name}(${args.join(', ')})`);
    expect(e.kind === 'Call' && e.func).toBe(name);
    if (sig.variadic > 0) {
      const full = [...args];
      for (let i = min; i < min + sig.variadic; i++) full.push(argFor[sig.argTypes[Math.min(i, sig.argTypes.length - 1)]!]);
      if (name === 'info') full[1] = '{a="b"}';
      expect(() => parseExpr(`${name}(${full.join(', ')})`)).not.toThrow();
      expect(parseError(`${name}(${[...full, full.at(-1)].join(', ')})`).reason).toMatch(/^expected at most/);
    }
  });

  it('accepts any number of labels for label_join and sort_by_label', () => {
    expect(() => parseExpr('label_join(x, "a", ",", "b", "c", "d")')).not.toThrow();
    expect(() => parseExpr('sort_by_label(x, "a", "b", "c")')).not.toThrow();
  });

  it.each([
    ['foo(x)', 'unknown function with name "foo"', { start: 0, end: 3 }],
    ['a + foo (x)', 'unknown function with name "foo"', { start: 4, end: 7 }],
    ['RATE(x[5m])', 'unknown function with name "RATE"', { start: 0, end: 4 }],
    ['rate(x)', 'expected type range vector in call to function "rate", got instant vector', { start: 5, end: 6 }],
    ['abs(x[5m])', 'expected type instant vector in call to function "abs", got range vector', { start: 4, end: 9 }],
    ['rate(x[5m], 1)', 'expected 1 argument(s) in call to "rate", got 2', { start: 0, end: 14 }],
    ['time(1)', 'expected 0 argument(s) in call to "time", got 1', { start: 0, end: 7 }],
    ['round(x, 1, 2)', 'expected at most 2 argument(s) in call to "round", got 3', { start: 0, end: 14 }],
    ['label_join(x, "a")', 'expected at least 3 argument(s) in call to "label_join", got 2', { start: 0, end: 18 }],
    ['label_replace(x, "a", "b", "c", 1)', 'expected type string in call to function "label_replace", got scalar', { start: 32, end: 33 }],
    ['vector("a")', 'expected type scalar in call to function "vector", got string', { start: 7, end: 10 }],
    ['info(x, y)', 'expected label selectors only, got vector selector instead', { start: 8, end: 9 }],
    ['sum(x,)', 'trailing commas not allowed in function call args', { start: 5, end: 6 }],
  ])('%s fails: %s', failsAt);

  it('lets info() select by labels that match the empty string', () => {
    expect(() => parseExpr('info(x, {k=~".*"})')).not.toThrow();
  });

  it('parses min_of and max_of as calls', () => {
    expect(sexpr(parseExpr('min_of(3, max_of(1, 2))'))).toBe('(min_of 3 (max_of 1 2))');
  });
});

describe('syntax errors', () => {
  it.each([
    ['sum(rate(x[1m])', '1:16: parse error: unclosed left parenthesis'],
    ['foo{a="b"', '1:10: parse error: unexpected end of input inside braces'],
    ['x[5m', '1:5: parse error: unclosed left bracket'],
    ['foo)', "1:4: parse error: unexpected right parenthesis ')'"],
    ['foo]', "1:4: parse error: unexpected right bracket ']'"],
    ['foo{a="b"}}', "1:11: parse error: unexpected character: '}'"],
    ['foo{a="b";}', "1:10: parse error: unexpected character inside braces: ';'"],
    ['foo{{a="b"}}', "1:5: parse error: unexpected left brace '{'"],
    ['x[5m[1m]]', "1:5: parse error: unexpected left bracket '['"],
    ['a $ b', "1:3: parse error: unexpected character: '$'"],
    ['a =~ b', "1:3: parse error: unexpected character after '=': '~'"],
    ['(a]', "1:3: parse error: unexpected right bracket ']'"],
    ['foo{a="b" c="d"}', '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"'],
    ['foo{a=b}', '1:7: parse error: unexpected identifier "b" in label matching, expected string'],
    ['foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
    ['foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
    ['foo{a == "b"}', '1:8: parse error: unexpected "=" in label matching, expected string'],
    ['foo{1}', "1:5: parse error: unexpected character inside braces: '1'"],
    ['sum without(,)(x)', '1:13: parse error: unexpected "," in grouping opts, expected label'],
    ['sum (x) by test', '1:12: parse error: unexpected identifier "test" in grouping opts, expected "("'],
    ['x offset', '1:9: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
    ['x @', '1:4: parse error: unexpected end of input in @, expected timestamp'],
    ['x[]', '1:3: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
    ['-=', '1:2: parse error: unexpected "="'],
    ['100..4', '1:1: parse error: bad number or duration syntax: "100..4"'],
    ['x[5m1]', '1:3: parse error: bad number or duration syntax: "5m1"'],
    ['x[5m1h]', '1:3: parse error: not a valid duration string: "5m1h"'],
    ['x[5y1hs]', '1:3: parse error: unknown unit "hs" in duration "5y1hs"'],
    ['"\\', '1:1: parse error: escape sequence not terminated'],
    ['a +', '1:4: parse error: unexpected end of input'],
    ['1 2', '1:3: parse error: unexpected number "2"'],
    ['sum by (a) x', '1:12: parse error: unexpected identifier "x"'],
    ['', '1:1: parse error: no expression found in input'],
    ['  # only a comment', '1:1: parse error: no expression found in input'],
    ['a\n + \n*b', '3:1: parse error: unexpected <op:*>'],
  ])('%j fails with %s', (query, message) => {
    expect(parseError(query).message).toBe(message);
  });

  it('skips comments', () => {
    expect(sexpr(parseExpr('sum( # the total\n  x)'))).toBe('(sum x)');
  });
});

describe('parseMetricSelector', () => {
  it('returns the matchers of a series selector', () => {
    const ms = parseMetricSelector('http_requests{job="api", instance="0"}');
    expect(ms.map(String)).toEqual(['job="api"', 'instance="0"', '__name__="http_requests"']);
    expect(ms.every((m) => m instanceof Matcher)).toBe(true);
  });

  it('allows a selector that matches everything, leaving that to the caller', () => {
    expect(parseMetricSelector('{}')).toEqual([]);
  });

  it('rejects anything but a plain selector', () => {
    expect(() => parseMetricSelector('sum(x)')).toThrow(ParseError);
    expect(() => parseMetricSelector('x offset 5m')).toThrow(ParseError);
    expect(() => parseMetricSelector('x{a=~"("}')).toThrow(/missing closing/);
  });
});

describe('query length', () => {
  it('refuses text past the limit before parsing it, naming the position and the length', () => {
    const long = `sum(${'('.repeat(MAX_QUERY_LENGTH)}x${')'.repeat(MAX_QUERY_LENGTH)})`;
    expect(parseError(long).message).toBe(
      `1:${MAX_QUERY_LENGTH + 1}: parse error: query is ${long.length} characters long, more than the limit of ${MAX_QUERY_LENGTH}`,
    );
  });

  it('parses a query of exactly the limit', () => {
    const alternation = `x{a=~"${'v|'.repeat(MAX_QUERY_LENGTH)}`.slice(0, MAX_QUERY_LENGTH - 3);
    const query = `${alternation}v"}`;
    expect(query.length).toBe(MAX_QUERY_LENGTH);
    expect(parseExpr(query).kind).toBe('VectorSelector');
  });
});

describe('nesting depth', () => {
  it('refuses a tree deeper than the limit, naming a position', () => {
    const levels = MAX_NESTING + 200;
    const chain = `${'('.repeat(levels)}x${')'.repeat(levels)}`;
    expect(parseError(chain).message).toMatch(new RegExp(`^1:\\d+: parse error: expression nested too deeply, more than ${MAX_NESTING} levels$`));
  });

  it.each([
    ['parentheses', '('.repeat(3000), 'x', ')'.repeat(3000), 1001],
    ['calls', 'abs('.repeat(3000), 'x', ')'.repeat(3000), 1997],
    ['unary minus', '-'.repeat(3000), 'x', '', 999],
    ['right operands', '(x + '.repeat(1000), 'x', ')'.repeat(1000), 2497],
  ])('names the level where %s nest too deeply, even past the depth where lezer gives up', (_, open, inner, close, column) => {
    expect(parseError(`${open}${inner}${close}`).message).toBe(`1:${column}: parse error: expression nested too deeply, more than ${MAX_NESTING} levels`);
  });

  it('still reports an earlier syntax error first', () => {
    expect(parseError(`x +* ${'('.repeat(1500)}x${')'.repeat(1500)}`).message).toBe('1:4: parse error: unexpected <op:*>');
  });

  it('parses a long chain within the limit', () => {
    const chain = Array.from({ length: 300 }, () => 'x').join(' + ');
    expect(parseExpr(chain).kind).toBe('BinaryExpr');
  });
});
