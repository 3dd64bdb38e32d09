/**
 * Syntax error messages in Prometheus's words. lezer recovers from errors silently, so the parser
 * asks here what the offending token is (`unexpected identifier "x" in label matching, expected
 * string`) and whether the query has a lexical fault that Prometheus's lexer names more precisely
 * (an unclosed parenthesis, an unterminated string, a malformed number).
 */

export interface SyntaxFault {
  start: number;
  end: number;
  cause: string;
}

type TokenKind = 'identifier' | 'number' | 'duration' | 'string' | 'operator' | 'punctuation' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Set when the token is malformed; the lexer stops there. */
  fault?: string;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Position of the next token at or after pos: whitespace and `#` comments skipped. */
export function skipTrivia(query: string, pos: number): number {
  let i = pos;
  for (;;) {
    while (isSpace(query[i])) i++;
    if (query[i] !== '#') return i;
    while (i < query.length && query[i] !== '\n') i++;
  }
}

const KEYWORDS = new Set(['bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'start', 'end', 'inf', 'nan']);
const AGGREGATORS = new Set([
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2']);
const GROUPING_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);
const SYMBOLS = ['==', '!=', '<=', '>=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@', '(', ')', '[', ']', '{', '}', ',', ':'];
const BRACE_SYMBOLS = ['=~', '!=', '!~', '=', ',', '}', '{'];
/** Symbols Prometheus describes as `<op:+>`; the others print quoted, like `"="`. */
const OPERATOR_SYMBOLS = new Set(['==', '!=', '<=', '>=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '@']);

const DECIMAL = /^(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9][0-9_]*)?$/;
const HEX = /^0[xX]_?[0-9a-fA-F][0-9a-fA-F_]*$/;
const DURATION_SHAPE = /^(?:[0-9]+[a-zA-Z]+)+$/;
const DURATION_UNITS = new Set(['y', 'w', 'd', 'h', 'm', 's', 'ms']);
const DURATION_ORDERED = /^(?:[0-9]+y)?(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?$/;

/** A rune as Go's %q prints it: `'}'`. */
function goRune(c: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', "'": "\\'", '\\': '\\\\' };
  return `'${named[c] ?? c}'`;
}

/** The number or duration token at i: digits, letters, `_`, `.`, and a sign right after an exponent. */
function numberToken(query: string, i: number): Token {
  let j = i;
  while (j < query.length) {
    const c = query[j]!;
    if (/[0-9A-Za-z_.]/.test(c)) j++;
    else if ((c === '+' || c === '-') && /^[0-9_.]*[eE]$/.test(query.slice(i, j))) j++;
    else break;
  }
  const text = query.slice(i, j);
  const tok = (kind: TokenKind, fault?: string): Token => (fault === undefined ? { kind, text, start: i, end: j } : { kind, text, start: i, end: j, fault });
  if (DECIMAL.test(text) || HEX.test(text)) return tok('number');
  if (DURATION_SHAPE.test(text)) {
    if (DURATION_ORDERED.test(text)) return tok('duration');
    const units = text.match(/[a-zA-Z]+/g)!;
    const unknown = units.findIndex((u) => !DURATION_UNITS.has(u));
    if (unknown === -1) return tok('duration', `not a valid duration string: ${JSON.stringify(text)}`);
    if (unknown > 0) return tok('duration', `unknown unit ${JSON.stringify(units[unknown])} in duration ${JSON.stringify(text)}`);
  }
  return tok('number', `bad number or duration syntax: ${JSON.stringify(text)}`);
}

/** The string token at i; unterminated ones carry Prometheus's fault. */
function stringToken(query: string, i: number): Token {
  const q = query[i]!;
  let j = i + 1;
  for (;;) {
    const c = query[j];
    if (c === undefined || (q !== '`' && c === '\n')) {
      const fault = q === '`' ? 'unterminated raw string' : 'unterminated quoted string';
      return { kind: 'string', text: query.slice(i, j), start: i, end: j, fault };
    }
    if (c === q) return { kind: 'string', text: query.slice(i, j + 1), start: i, end: j + 1 };
    if (q !== '`' && c === '\\') {
      if (j + 1 >= query.length) return { kind: 'string', text: query.slice(i), start: i, end: query.length, fault: 'escape sequence not terminated' };
      j += 2;
    } else {
      j++;
    }
  }
}

/** The token at i (trivia already skipped), read as Prometheus's lexer would outside or inside braces. */
function tokenAt(query: string, i: number, inBraces: boolean, inBrackets = false): Token {
  const c = query[i];
  if (c === undefined) return { kind: 'eof', text: '', start: i, end: i };
  if (c === '"' || c === "'" || c === '`') return stringToken(query, i);
  // Colons belong to metric names, except in label names and in `[range:step]`.
  const colon = !inBraces && !inBrackets;
  const ident = colon ? /[A-Za-z_:]/ : /[A-Za-z_]/;
  if (ident.test(c)) {
    let j = i + 1;
    const rest = colon ? /[A-Za-z0-9_:]/ : /[A-Za-z0-9_]/;
    while (j < query.length && rest.test(query[j]!)) j++;
    return { kind: 'identifier', text: query.slice(i, j), start: i, end: j };
  }
  if (!inBraces && (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(query[i + 1] ?? '')))) return numberToken(query, i);
  const sym = (inBraces ? BRACE_SYMBOLS : SYMBOLS).find((s) => query.startsWith(s, i));
  const bad = (cause: string): Token => ({ kind: 'punctuation', text: c, start: i, end: i + 1, fault: cause });
  if (inBraces) {
    if (sym === '{') return bad("unexpected left brace '{'");
    if (sym === undefined || !(MATCH_OPS.has(sym) || sym === ',' || sym === '}')) return bad(`unexpected character inside braces: ${goRune(c)}`);
  } else {
    if (sym === '=~') return bad("unexpected character after '=': '~'");
    if (c === '!' && sym !== '!=') return bad(`unexpected character after '!': ${goRune(query[i + 1] ?? '')}`);
    if (sym === undefined || sym === '}') return bad(`unexpected character: ${goRune(c)}`);
  }
  return { kind: OPERATOR_SYMBOLS.has(sym) ? 'operator' : 'punctuation', text: sym, start: i, end: i + sym.length };
}

/** How Prometheus's messages name a token: `identifier "x"`, `<op:+>`, `<by>`, `"}"`. */
function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'identifier': {
      const lower = t.text.toLowerCase();
      if (KEYWORDS.has(lower)) return `<${lower}>`;
      if (AGGREGATORS.has(lower)) return `<aggr:${lower}>`;
      if (WORD_OPERATORS.has(lower)) return `<op:${lower}>`;
      return `identifier ${JSON.stringify(t.text)}`;
    }
    case 'string': {
      const chars = [...t.text];
      return `string ${chars.length > 10 ? `${JSON.stringify(chars.slice(0, 10).join(''))}...` : JSON.stringify(t.text)}`;
    }
    case 'number':
    case 'duration':
      return `${t.kind} ${JSON.stringify(t.text)}`;
    case 'operator':
      return `<op:${t.text}>`;
    case 'punctuation':
      return JSON.stringify(t.text);
  }
}

interface LexState {
  /** The token that starts at the position asked about, and the context it is in. */
  token: Token | undefined;
  context: string;
  fault: SyntaxFault | undefined;
}

/**
 * Reads the query as Prometheus's lexer does (roughly: duration expressions inside brackets are
 * read as ordinary tokens), up to `stopAt` (or the end). Returns the first
 * lexical fault, and for `stopAt` the token there with the parser context Prometheus names in its
 * message (`in label matching, expected string`).
 */
function lex(query: string, stopAt: number): LexState {
  let inBraces = false;
  let bracketOpen = false;
  const parens: ('grouping' | 'plain')[] = [];
  let prev: Token | undefined;
  let beforePrev: Token | undefined;
  let i = 0;
  for (;;) {
    i = skipTrivia(query, i);
    const t = tokenAt(query, i, inBraces, bracketOpen);
    if (t.start >= stopAt) return { token: t, context: contextOf(prev, beforePrev, inBraces, parens.at(-1)), fault: undefined };
    if (t.fault !== undefined) return { token: undefined, context: '', fault: { start: t.start, end: t.end, cause: t.fault } };
    if (t.kind === 'eof') {
      const end = query.length;
      const at = (cause: string): LexState => ({ token: undefined, context: '', fault: { start: end, end, cause } });
      if (inBraces) return at('unexpected end of input inside braces');
      if (parens.length > 0) return at('unclosed left parenthesis');
      if (bracketOpen) return at('unclosed left bracket');
      return { token: undefined, context: '', fault: undefined };
    }
    const fault = (cause: string): LexState => ({ token: undefined, context: '', fault: { start: t.start, end: t.end, cause } });
    switch (t.text) {
      case '{':
        inBraces = true;
        break;
      case '}':
        inBraces = false;
        break;
      case '(':
        parens.push(prev?.kind === 'identifier' && GROUPING_KEYWORDS.has(prev.text.toLowerCase()) ? 'grouping' : 'plain');
        break;
      case ')':
        if (parens.pop() === undefined) return fault("unexpected right parenthesis ')'");
        break;
      case '[':
        if (bracketOpen) return fault("unexpected left bracket '['");
        bracketOpen = true;
        break;
      case ']':
        if (!bracketOpen) return fault("unexpected right bracket ']'");
        bracketOpen = false;
        break;
    }
    beforePrev = prev;
    prev = t;
    i = t.end;
  }
}

/** Where the parser was when it met an unexpected token, after `prev`, as Prometheus words it. */
function contextOf(prev: Token | undefined, beforePrev: Token | undefined, inBraces: boolean, paren: 'grouping' | 'plain' | undefined): string {
  if (prev === undefined) return '';
  const p = prev.text.toLowerCase();
  if (inBraces) {
    if (p === '{' || p === ',') return ' in label matching, expected identifier or "}"';
    if (MATCH_OPS.has(p) && prev.kind !== 'string') return ' in label matching, expected string';
    if (prev.kind === 'identifier') return ' in label matching, expected label matching operator';
    if (prev.kind === 'string') {
      const isValue = beforePrev !== undefined && MATCH_OPS.has(beforePrev.text);
      return isValue || beforePrev?.text === '{' || beforePrev?.text === ',' ? ' in label matching, expected "," or "}"' : '';
    }
    return '';
  }
  if (paren === 'grouping') {
    if (p === '(' || p === ',') return ' in grouping opts, expected label';
    if (prev.kind === 'identifier' || prev.kind === 'string') return ' in grouping opts, expected "," or ")"';
  }
  if (prev.kind === 'identifier' && (p === 'by' || p === 'without')) return ' in grouping opts, expected "("';
  if (prev.kind === 'identifier' && p === 'offset') return ' in offset, expected number, duration, step(), or range()';
  if (p === '@') return ' in @, expected timestamp';
  if (p === '[') return ' in subquery or range selector, expected number, duration, step(), or range()';
  return '';
}

/** The first fault Prometheus's lexer reports in the query, if any. */
export function firstLexicalFault(query: string): SyntaxFault | undefined {
  return lex(query, Infinity).fault;
}

/** `unexpected <token>[ in <context>, expected <what>]` for the token at pos, and its span. */
export function unexpectedTokenAt(query: string, pos: number): SyntaxFault {
  const at = skipTrivia(query, pos);
  const { token, context } = lex(query, at);
  const t = token ?? tokenAt(query, at, false);
  return { start: t.start, end: t.end, cause: `unexpected ${describe(t)}${context}` };
}
