import type { Matcher } from '../../tsdb/matcher.js';
import type { Series } from '../../tsdb/series.js';

/**
 * What the engine needs from storage. The Tsdb satisfies it; the engine never reaches past it,
 * so evaluation can be pointed at any store of series.
 */
export interface Querier {
  select(matchers: readonly Matcher[]): readonly Series[];
}
