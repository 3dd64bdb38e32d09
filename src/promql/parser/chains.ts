import { functionNamed } from '../functions/table.js';

/**
 * Long chains of binary operators (`m0 or m1 or … m2999`), found in the query text so the parser
 * can split them: lezer builds its tree recursively and runs out of stack on a chain of a few
 * thousand operands, which Prometheus accepts. A chain is split at its loosest operators, lezer
 * parses its operands in runs short enough for it, and the left-associative tree is built by us.
 */

/** Operators at one level of a region above which the region is parsed as a chain. */
export const CHAIN_SPLIT = 128;

/** A half-open character range of the query, trimmed of whitespace and comments. */
export interface Region {
  start: number;
  end: number;
}

/** A binary operator at the top level of a region, with the modifiers written after it. */
export interface ChainOperator {
  /** The operator token. */
  start: number;
  end: number;
  /** Where its `bool`, `on(…)`, `group_left(…)` and fill modifiers end: its right operand follows. */
  modifiersEnd: number;
  /** Prometheus's precedence: 1 for `or` up to 6 for `^`. */
  precedence: number;
}

interface Token {
  start: number;
  end: number;
  /** Lower-cased for words. */
  text: string;
  kind: 'word' | 'number' | 'string' | 'symbol';
  /** For a bracket: the index of its partner (one past the last token for one never closed). */
  partner?: number;
}

const PRECEDENCE: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<=': 3,
  '<': 3,
  '>=': 3,
  '>': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};

/** Prometheus's precedence of a binary operator, 1 for `or` up to 6 for `^`; undefined for the experimental trim operators. */
export function precedenceOf(op: string): number | undefined {
  return PRECEDENCE[op];
}

/** `^` is right-associative and binds tighter than a sign: its chains stay with lezer. */
const RIGHT_ASSOCIATIVE = 6;

/** Words after which an operand is still to come, so a following `+` or `-` is a sign. */
const EXPECTS_OPERAND = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const MODIFIER_WORDS = new Set(['on', 'ignoring', 'group_left', 'group_right', 'fill', 'fill_left', 'fill_right']);

const SYMBOLS = ['==', '!=', '<=', '>=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@', '(', ')', '[', ']', '{', '}', ',', ':'];

const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

/**
 * The query's tokens, enough to find operators and brackets. Faults are kept for lezer to report
 * where they are: an unclosed bracket's group runs to the end (its partner is one past the last
 * token), an unterminated string to the end of its line, a stray closer or character is a symbol.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const open: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < text.length && text[i] !== c && !(c !== '`' && text[i] === '\n')) i += c !== '`' && text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      tokens.push({ start, end: i, text: '', kind: 'string' });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      while (i < text.length && /[0-9A-Za-z_.]/.test(text[i]!)) i++;
      // An exponent's sign belongs to the number: `1e-3`.
      if (/^[0-9_.]+[eE]$/.test(text.slice(start, i)) && /[+-]/.test(text[i] ?? '') && /[0-9]/.test(text[i + 1] ?? '')) {
        i++;
        while (i < text.length && /[0-9_]/.test(text[i]!)) i++;
      }
      tokens.push({ start, end: i, text: '', kind: 'number' });
      continue;
    }
    if (/[A-Za-z_:]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_:]/.test(text[i]!)) i++;
      tokens.push({ start, end: i, text: text.slice(start, i).toLowerCase(), kind: 'word' });
      continue;
    }
    const sym = SYMBOLS.find((s) => text.startsWith(s, i)) ?? c;
    i += sym.length;
    const t: Token = { start, end: i, text: sym, kind: 'symbol' };
    if (OPENERS[sym] !== undefined) open.push(tokens.length);
    else if (open.length > 0 && OPENERS[tokens[open[open.length - 1]!]!.text] === sym) {
      const o = open.pop()!;
      tokens[o]!.partner = tokens.length;
      t.partner = o;
    }
    tokens.push(t);
  }
  for (const o of open) tokens[o]!.partner = tokens.length;
  return tokens;
}

/** The chains of one query: where they are and how they split. */
export class Chains {
  private constructor(
    private readonly tokens: Token[],
    /** Regions with more than CHAIN_SPLIT operators at their top level, by start. */
    readonly long: Region[],
  ) {}

  /**
   * The query's chains; undefined when it has none long enough to need splitting. Parentheses
   * deeper than `maxDepth` are not searched: the parser refuses such a query anyway.
   */
  static find(text: string, maxDepth: number): Chains | undefined {
    const tokens = tokenize(text);
    if (tokens.length === 0) return undefined;
    const found = new Chains(tokens, []);
    found.collect(0, tokens.length, maxDepth);
    return found.long.length === 0 ? undefined : found;
  }

  /** Records the long regions among tokens [from, to) and inside its parentheses, outermost first. */
  private collect(from: number, to: number, depthLeft: number): void {
    if (depthLeft < 0) return;
    if (this.operatorsOf(from, to).length > CHAIN_SPLIT) this.long.push({ start: this.tokens[from]!.start, end: this.tokens[to - 1]!.end });
    for (let i = from; i < to; i++) {
      const t = this.tokens[i]!;
      if (t.partner === undefined || t.partner < i) continue;
      // Ranges, subquery steps, label matchers and durations (`offset (1h / 2)`) hold no chains of expressions.
      if (t.text === '(' && !this.isDuration(i)) {
        let argFrom = i + 1;
        for (let j = i + 1; j <= t.partner; j++) {
          const u = this.tokens[j]!;
          if (j === t.partner || (u.kind === 'symbol' && u.text === ',')) {
            if (j > argFrom) this.collect(argFrom, j, depthLeft - 1);
            argFrom = j + 1;
          } else if (u.partner !== undefined && u.partner > j) j = u.partner;
        }
      }
      i = t.partner;
    }
  }

  /** Whether the parenthesis at token i holds a duration: after `offset` or `@`, maybe behind a sign or a duration call's name. */
  private isDuration(i: number): boolean {
    let j = i - 1;
    if (j >= 0 && functionNamed(this.tokens[j]!.text)?.inDurations === true) j--;
    while (j >= 0 && (this.tokens[j]!.text === '-' || this.tokens[j]!.text === '+')) j--;
    const before = this.tokens[j];
    return before !== undefined && (before.text === 'offset' || before.text === '@');
  }

  /** Index of the first token starting at or after `pos`. */
  private indexAt(pos: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tokens[mid]!.start < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Binary operators at the top level of tokens [from, to), bracketed groups skipped. */
  private operatorsOf(from: number, to: number): ChainOperator[] {
    const ops: ChainOperator[] = [];
    let prev: Token | undefined;
    for (let i = from; i < to; i++) {
      const t = this.tokens[i]!;
      const precedence = PRECEDENCE[t.text];
      if (precedence !== undefined && (t.kind === 'word' || t.kind === 'symbol') && endsOperand(prev)) {
        const op: ChainOperator = { start: t.start, end: t.end, modifiersEnd: t.end, precedence };
        i = this.skipModifiers(i + 1, to, op) - 1;
        ops.push(op);
        prev = t;
        continue;
      }
      if (t.partner !== undefined && t.partner > i) i = Math.min(t.partner, to - 1);
      prev = this.tokens[i];
    }
    return ops;
  }

  /** Past `bool`, `on(…)`/`ignoring(…)`, `group_left(…)`/`group_right(…)` and fill clauses after an operator. */
  private skipModifiers(i: number, to: number, op: ChainOperator): number {
    if (i < to && this.tokens[i]!.text === 'bool') op.modifiersEnd = this.tokens[i++]!.end;
    while (i < to && MODIFIER_WORDS.has(this.tokens[i]!.text) && this.tokens[i]!.kind === 'word') {
      op.modifiersEnd = this.tokens[i++]!.end;
      const open = this.tokens[i];
      if (i < to && open!.text === '(' && open!.partner !== undefined && open!.partner < to) {
        op.modifiersEnd = this.tokens[open!.partner]!.end;
        i = open!.partner + 1;
      }
    }
    return i;
  }

  /** The whole query, trimmed. */
  get whole(): Region {
    return { start: this.tokens[0]!.start, end: this.tokens[this.tokens.length - 1]!.end };
  }

  /** The long regions strictly inside `r` and in no other long region inside it. */
  within(r: Region): Region[] {
    const out: Region[] = [];
    for (const l of this.long) {
      if (l.start < r.start || l.end > r.end || (l.start === r.start && l.end === r.end)) continue;
      const last = out[out.length - 1];
      if (last === undefined || l.start >= last.end) out.push(l);
    }
    return out;
  }

  /**
   * A region split at its loosest operators: the operands in order, the operators between them,
   * and how many operators each operand has at its own top level. Undefined when the region is
   * not a chain to split (too few operators, or only `^`). An empty operand (`a or or b`) comes
   * back as an empty region at the token that follows.
   */
  split(r: Region): { operands: Region[]; operators: ChainOperator[]; inner: number[] } | undefined {
    const all = this.operatorsOf(this.indexAt(r.start), this.indexAt(r.end));
    if (all.length <= CHAIN_SPLIT) return undefined;
    const loosest = Math.min(...all.map((o) => o.precedence));
    if (loosest === RIGHT_ASSOCIATIVE) return undefined;
    const operators: ChainOperator[] = [];
    const inner = [0];
    for (const o of all) {
      if (o.precedence !== loosest) inner[inner.length - 1]!++;
      else {
        operators.push(o);
        inner.push(0);
      }
    }
    const operands: Region[] = [];
    let from = r.start;
    for (const op of [...operators, undefined]) {
      const until = op?.start ?? r.end;
      operands.push(this.trim(from, until));
      if (op !== undefined) from = op.modifiersEnd;
    }
    return { operands, operators, inner };
  }

  /** [from, to) without leading and trailing whitespace and comments: from its first token to its last. */
  private trim(from: number, to: number): Region {
    const first = this.indexAt(from);
    const last = this.indexAt(to) - 1;
    if (last < first) return { start: to, end: to };
    return { start: this.tokens[first]!.start, end: this.tokens[last]!.end };
  }
}

/** Whether an operator after this token is binary: the token ends an operand. */
function endsOperand(t: Token | undefined): boolean {
  if (t === undefined) return false;
  if (t.kind === 'word') return !EXPECTS_OPERAND.has(t.text);
  if (t.kind === 'symbol') return t.text === ')' || t.text === ']' || t.text === '}';
  return true;
}
