import { Matcher } from '../../src/tsdb/matcher.js';

/** The tree without positions, matchers as text: what a query means, for comparisons. */
export function shape(e: unknown): unknown {
  if (e instanceof Matcher) return `${e.name}${e.type}${JSON.stringify(e.value)}`;
  if (Array.isArray(e)) return e.map(shape);
  if (e !== null && typeof e === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'pos' && v !== undefined) out[k] = shape(v);
    return out;
  }
  return e;
}
