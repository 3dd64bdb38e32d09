import { RE2JS } from 're2js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A regex that does not compile; the message is re2js's reason. */
export class MatcherError extends Error {
  override name = 'MatcherError';
}

/**
 * A label matcher with Prometheus semantics: a missing label matches as '', and regexes are RE2
 * (linear time whatever the input), fully anchored, with `.` matching newlines.
 */
export class Matcher {
  private readonly re: RE2JS | undefined;

  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === '=~' || type === '!~') {
      try {
        this.re = RE2JS.compile(value, RE2JS.DOTALL);
      } catch (e) {
        throw new MatcherError(`invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`);
      }
    }
  }

  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.re!.matches(v);
      case '!~':
        return !this.re!.matches(v);
    }
  }

  matchesEmpty(): boolean {
    return this.matches('');
  }

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}
